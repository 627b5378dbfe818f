"""The local broker's principals, their passwords, and what each may do (ACLs).

One SCRAM-SHA-512 principal per service, with a random password made by
``orion stack up`` in ``.stack/secrets/kafka/<principal>`` (mode 0600).
``admin`` is the broker's super user (inter-broker traffic, granting ACLs)
and nothing else uses it; ``operator`` is the console's principal (the
endpoints file names it): it creates topics, replays, reads lag and moves
group offsets, and may read and write every topic, but is no super user (it
cannot change ACLs or broker configs).

Why ACLs are granted per topic prefix: a topic's name is
``ORION_TOPIC_PREFIX`` + ``raw.erp.sales``, and Kafka matches patterns by
literal name or by the start of the name only. A pattern ``raw.`` would miss
``t123.raw.erp.sales``, and a wildcard would give a producer ``clean.*`` under
every prefix. So :func:`grant` writes each service's patterns for one topic
prefix (``<prefix>raw.``, ``<prefix>clean.``, ``<prefix>orion-processor``,
...): the stack grants the empty prefix at start-up, and the demo and tests
that run services under their own principals grant theirs first
(:func:`service_env`). Everything else is denied
(``allow.everyone.if.no.acl.found=false``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from orion.exceptions import StackError
from orionctl.stack import secrets as stack_secrets
from orionctl.stack.config import StackConfig

__all__ = [
    "ADMIN",
    "OPERATOR",
    "PRINCIPALS",
    "SERVICES",
    "Grant",
    "bindings",
    "ensure_passwords",
    "grant",
    "password",
    "service_env",
]

ADMIN = "admin"
OPERATOR = "operator"
PROCESSOR_APP_ID = "orion-processor"


@dataclass(frozen=True)
class Grant:
    """``operations`` on every ``resource`` whose name starts with ``prefix`` (or is it)."""

    resource: ResourceType
    name: str
    operations: tuple[AclOperation, ...]
    pattern: ResourcePatternType = ResourcePatternType.PREFIXED


_R, _W, _D = AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE
_TOPIC, _GROUP, _TXN = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
_CLUSTER = ResourceType.BROKER  # librdkafka's name for the cluster resource
_LITERAL = ResourcePatternType.LITERAL
_IDEMPOTENT = Grant(_CLUSTER, "kafka-cluster", (AclOperation.IDEMPOTENT_WRITE,), _LITERAL)


def _reader(layers: tuple[str, ...], group: str, prefix: str) -> list[Grant]:
    return [Grant(_TOPIC, prefix + layer + ".", (_R, _D)) for layer in layers] + [
        Grant(_GROUP, prefix + group, (_R, _D))
    ]


def _writer(prefix: str) -> list[Grant]:
    return [Grant(_TOPIC, prefix + "raw.", (_W, _D)), _IDEMPOTENT]


def _processor(prefix: str, app_id: str = PROCESSOR_APP_ID) -> list[Grant]:
    app = prefix + app_id
    return [
        Grant(_TOPIC, prefix + "raw.", (_R, _D)),
        # Writes clean records and reads the referents' clean topics back (retention too).
        Grant(_TOPIC, prefix + "clean.", (_R, _W, _D, AclOperation.DESCRIBE_CONFIGS)),
        Grant(_TOPIC, prefix + "dlq.", (_W, _D)),
        # Its changelog topics (<app>-dedup-changelog, ...): created, written, restored.
        Grant(_TOPIC, app, (AclOperation.CREATE, _R, _W, _D, AclOperation.DESCRIBE_CONFIGS)),
        Grant(_GROUP, app, (_R, _D)),  # the group and its -refindex reader
        Grant(_GROUP, "orion-changelog-reader", (_R, _D), _LITERAL),
        Grant(_GROUP, "orion-barriers", (_R, _D), _LITERAL),
        Grant(_TXN, app, (_W, _D)),
        _IDEMPOTENT,
    ]


#: Every service principal and its grants under one topic prefix.
SERVICES: dict[str, Callable[[str], list[Grant]]] = {
    "producer": _writer,
    "ingester": _writer,
    "processor": _processor,
    "sink-s3": lambda p: _reader(("raw",), "orion-s3-sink", p),
    "sink-warehouse": lambda p: _reader(("clean",), "orion-warehouse-sink", p),
    "sink-silver": lambda p: _reader(("clean",), "orion-silver-sink", p),
    "sink-dq": lambda p: _reader(("raw", "clean", "dlq"), "orion-dq-sink", p),
}

_EVERY = ResourcePatternType.LITERAL
_OPERATOR = [
    Grant(_TOPIC, "*", (AclOperation.ALL,), _EVERY),
    Grant(_GROUP, "*", (AclOperation.ALL,), _EVERY),
    Grant(_TXN, "*", (AclOperation.ALL,), _EVERY),
    Grant(
        _CLUSTER, "kafka-cluster",
        (AclOperation.CREATE, _D, AclOperation.DESCRIBE_CONFIGS, AclOperation.IDEMPOTENT_WRITE),
        _LITERAL,
    ),
]  # fmt: skip

PRINCIPALS: tuple[str, ...] = (ADMIN, OPERATOR, *SERVICES)


def secrets_dir(cfg: StackConfig) -> Path:
    return stack_secrets.secrets_dir(cfg.dir, "kafka")


def password(cfg: StackConfig, principal: str) -> str:
    """The password ``orion stack up`` made for ``principal``."""
    path = secrets_dir(cfg) / principal
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError as e:
        raise StackError(
            "kafka",
            f"no password for principal {principal!r} in {path}",
            fix="run `orion stack up` (it makes them); after a change of principals "
            "`orion stack down --purge` and `orion stack up`",
        ) from e


def ensure_passwords(cfg: StackConfig) -> dict[str, str]:
    """Every principal's password, made (random, 0600) where missing."""
    return {p: stack_secrets.read_or_create(cfg.dir, "kafka", p) for p in PRINCIPALS}


def bindings(topic_prefix: str, *, app_id: str = PROCESSOR_APP_ID) -> list[AclBinding]:
    """The ACLs of every service principal under ``topic_prefix`` (the operator's are global)."""
    out = []
    for principal, grants in SERVICES.items():
        rules = (
            _processor(topic_prefix, app_id) if principal == "processor" else grants(topic_prefix)
        )
        out += _bind(principal, rules)
    return out


def operator_bindings() -> list[AclBinding]:
    return _bind(OPERATOR, _OPERATOR)


def _bind(principal: str, rules: list[Grant]) -> list[AclBinding]:
    return [
        AclBinding(
            g.resource, g.name, g.pattern, f"User:{principal}", "*", op, AclPermissionType.ALLOW
        )
        for g in rules
        for op in g.operations
    ]


def grant(admin: AdminClient, acls: list[AclBinding], timeout_s: float = 30.0) -> None:
    """Create ``acls`` (creating one that exists changes nothing); return once the broker
    applies them: the controller commits them first, and a client that came in between
    would be refused."""
    for future in admin.create_acls(acls, request_timeout=timeout_s).values():
        future.result()
    wanted = {_key(b) for b in acls}
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None,  # type: ignore[arg-type]
        AclOperation.ANY, AclPermissionType.ANY,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while True:
        seen = {_key(b) for b in admin.describe_acls(everything).result(timeout=timeout_s)}
        if wanted <= seen:
            return
        if time.monotonic() > deadline:
            raise StackError("kafka", f"{len(wanted - seen)} ACLs not applied in {timeout_s}s")
        time.sleep(0.1)


def _key(b: AclBinding) -> tuple[object, ...]:
    return (b.restype, b.name, b.resource_pattern_type, b.principal, b.operation)


def service_env(
    cfg: StackConfig, service: str, topic_prefix: str = "", *, app_id: str = PROCESSOR_APP_ID
) -> dict[str, str]:
    """The environment that runs ``service`` under its own principal and ``topic_prefix``.

    Grants the service principals' ACLs under ``topic_prefix`` first (the
    demo and tests run each under a prefix of their own). ``operator`` is
    the console's principal and needs no grant.
    """
    from orionctl.stack.kafka import Kafka  # the broker component knows its endpoint and CA

    if service not in PRINCIPALS or service == ADMIN:
        raise StackError("kafka", f"no principal {service!r}", fix=f"use one of {PRINCIPALS[1:]}")
    kafka = Kafka(cfg)
    env = {
        "ORION_KAFKA_SASL_USERNAME": service,
        "ORION_KAFKA_SASL_PASSWORD": password(cfg, service),
        "ORION_TOPIC_PREFIX": topic_prefix,
    }
    if not kafka.secured:
        return {"ORION_TOPIC_PREFIX": topic_prefix}
    if topic_prefix or app_id != PROCESSOR_APP_ID:
        admin = _admin(kafka.bootstrap(), str(kafka.tls.ca_file), password(cfg, ADMIN))
        grant(admin, bindings(topic_prefix, app_id=app_id))
    return env


@cache
def _admin(bootstrap: str, ca_file: str, secret: str) -> AdminClient:
    # One per process: a client freed right after its requests logs librdkafka's
    # "Purging unserved events" on stderr, into the demo's output.
    return AdminClient({
        "bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": ADMIN, "sasl.password": secret,
        "ssl.ca.location": ca_file,
    })  # fmt: skip
