"""Bring the whole local stack up, report on it, and take it down.

``up`` is idempotent: a healthy component is left alone, one that crashed is
restarted on its data, a free port is checked before anything starts, and
every wait has a timeout. Installs (downloads on first use) run in parallel
because the Go build of the S3 store dominates a cold start.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from orion.exceptions import StackError, StackTimeoutError
from orion.settings import ENDPOINT_VARIABLES
from orionctl.stack.airflow import airflow_components
from orionctl.stack.component import Component
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka import MAX_BROKERS, Kafka, kafka_nodes, remembered_brokers
from orionctl.stack.postgres import ANALYST, LOADER, MIGRATOR, Postgres
from orionctl.stack.process import port_open, wait_until
from orionctl.stack.prometheus import Prometheus
from orionctl.stack.registry import Registry
from orionctl.stack.s3 import S3Store

Reporter = Callable[[str], None]


def _silent(_: str) -> None:
    return None


#: Optional groups of components, enabled with ``orion stack up --with NAME``.
EXTRAS: dict[str, Callable[[StackConfig], list[Component]]] = {"airflow": airflow_components}


def enabled_extras(cfg: StackConfig) -> tuple[str, ...]:
    """The extras the last ``up --with`` enabled (remembered so status and down know them)."""
    try:
        names = cfg.extras_file.read_text().split()
    except FileNotFoundError:
        return ()
    return tuple(n for n in names if n in EXTRAS)


def components(cfg: StackConfig, extras: tuple[str, ...] | None = None) -> list[Component]:
    """Every component, in start order (a component's ``requires`` come first).

    ``extras`` None means those the stack has enabled (see :func:`enabled_extras`).
    """
    chosen = enabled_extras(cfg) if extras is None else extras
    comps: list[Component] = [
        Postgres(cfg),
        Registry(cfg),
        *kafka_nodes(cfg),
        S3Store(cfg),
        Prometheus(cfg),
    ]
    for name in chosen:
        comps += EXTRAS[name](cfg)
    return comps


def component_names() -> list[str]:
    return [c.name for c in components(StackConfig(), tuple(EXTRAS))]


def _named(cfg: StackConfig, name: str) -> list[Component]:
    """The component called ``name``; ``kafka`` on a cluster names every node."""
    comps = components(cfg, tuple(EXTRAS))
    exact = [c for c in comps if c.name == name]
    if exact:
        return exact
    nodes = [c for c in comps if isinstance(c, Kafka)]
    if name == "kafka" and nodes:
        return list(nodes)
    names = [c.name for c in comps]
    raise StackError(name, "no such component", fix=f"use one of: {', '.join(names)}")


def _choose_brokers(cfg: StackConfig, brokers: int | None) -> None:
    """Remember ``brokers``; refuse a count other than the one the Kafka storage was made for."""
    if brokers is None:
        return
    if not 1 <= brokers <= MAX_BROKERS:
        raise StackError("kafka", f"--brokers must be 1-{MAX_BROKERS}, got {brokers}")
    now = remembered_brokers(cfg)
    if brokers == now:
        return
    nodes = kafka_nodes(cfg, now)
    formatted = [n.name for n in nodes if (n.log_dirs / "meta.properties").is_file()]
    if formatted:
        raise StackError(
            "kafka",
            f"this stack's Kafka has {now} node(s) ({', '.join(formatted)}), not {brokers}",
            fix=f"`orion stack down --purge` first, or `orion stack up --brokers {now}`",
        )
    cfg.brokers_file.parent.mkdir(parents=True, exist_ok=True)
    cfg.brokers_file.write_text(f"{brokers}\n")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    healthy: bool
    endpoint: str
    rss_mib: float | None


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def endpoints(cfg: StackConfig) -> dict[str, str]:
    """The values of the endpoints file, as every ``orion`` command reads them."""
    pg = Postgres(cfg)
    kafka = Kafka(cfg).client_config()
    return {
        "ORION_KAFKA_BOOTSTRAP": kafka["bootstrap.servers"],
        "ORION_SCHEMA_REGISTRY_URL": Registry(cfg).endpoint(),
        "ORION_DATABASE_URL": pg.role_dsn(MIGRATOR, cfg.warehouse_db),
        "ORION_LOADER_DATABASE_URL": pg.role_dsn(LOADER, cfg.warehouse_db),
        "ORION_ANALYST_DATABASE_URL": pg.role_dsn(ANALYST, cfg.warehouse_db),
        "ORION_S3_ENDPOINT": S3Store(cfg).endpoint(),
        "ORION_S3_ACCESS_KEY": cfg.s3_access_key,
        "ORION_S3_SECRET_KEY": cfg.s3_secret_key,
        "ORION_S3_BUCKET": cfg.s3_bucket,
        "ORION_PROMETHEUS_URL": Prometheus(cfg).endpoint(),
        # The console's principal (operator); services get their own (kafka_access.service_env).
        "ORION_KAFKA_SECURITY_PROTOCOL": kafka["security.protocol"],
        "ORION_KAFKA_SASL_USERNAME": kafka.get("sasl.username", ""),
        "ORION_KAFKA_SASL_PASSWORD": kafka.get("sasl.password", ""),
        "ORION_KAFKA_CA_FILE": kafka.get("ssl.ca.location", ""),
    }


def write_env_file(cfg: StackConfig) -> Path:
    values = endpoints(cfg)
    assert tuple(values) == ENDPOINT_VARIABLES
    cfg.env_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfg.env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    tmp.chmod(0o600)
    tmp.replace(cfg.env_file)
    return cfg.env_file


def install_all(comps: list[Component], report: Reporter = _silent) -> None:
    """Install every component; independent downloads run side by side."""
    report("installing (first run downloads Kafka, the registry and versitygw)")
    java_based: list[Component] = [c for c in comps if isinstance(c, (Kafka, Registry))]
    others = [c for c in comps if c not in java_based]

    def sequential(group: list[Component]) -> None:
        # Two Maven runs at once can corrupt the shared local repository: keep them in turn
        # (Kafka's nodes share one install: the second finds it in the cache).
        for c in group:
            c.install()

    with ThreadPoolExecutor(max_workers=1 + len(others)) as pool:
        futures = [pool.submit(sequential, java_based)]
        futures += [pool.submit(c.install) for c in others]
        errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err


def _check_ports_free(comp: Component) -> None:
    for port in comp.ports():
        if port_open(comp.cfg.host, port):
            raise StackError(
                comp.name,
                f"port {port} on {comp.cfg.host} is already in use by another program",
                fix=f"stop that program or choose another port with {comp.port_variable}=<port>",
            )


def _wait_healthy(comp: Component, timeout_s: float) -> None:
    def ok() -> bool:
        if comp.process.pid() is None:
            raise StackError(
                comp.name,
                "exited during start-up:\n" + log_tail(comp, 20),
                fix=f"see {comp.process.log_file}",
            )
        return comp.healthy()

    if not wait_until(ok, timeout_s, interval_s=0.5):
        raise StackTimeoutError(
            comp.name,
            f"not healthy after {timeout_s:.0f}s:\n" + log_tail(comp, 20),
            fix=f"see {comp.process.log_file}; `orion stack down` then `orion stack up` retries",
        )


def up(
    cfg: StackConfig,
    report: Reporter = _silent,
    with_extras: tuple[str, ...] = (),
    brokers: int | None = None,
    only: tuple[str, ...] = (),
) -> list[ComponentStatus]:
    """Start whatever is not running, wait until all are healthy, write the endpoints file.

    ``with_extras`` adds optional components (``airflow``) to those already enabled;
    ``brokers`` chooses the Kafka node count (None: the remembered one, 1 at first);
    ``only`` starts just the components named (``kafka``: its nodes), as the
    three-broker test does beside the session's stack.
    """
    unknown = [e for e in with_extras if e not in EXTRAS]
    if unknown:
        raise StackError(
            ",".join(unknown), "no such optional component", fix=f"use one of: {', '.join(EXTRAS)}"
        )
    _choose_brokers(cfg, brokers)
    extras = tuple(dict.fromkeys((*enabled_extras(cfg), *with_extras)))
    comps = components(cfg, extras)
    if only:
        picked = [c.name for name in only for c in _named(cfg, name)]
        comps = [c for c in comps if c.name in picked]
    install_all(comps, report)
    started: set[str] = set()
    # Components without requirements start together; dependants after theirs are healthy.
    pending = list(comps)
    while pending:
        ready = [c for c in pending if all(r in started for r in c.requires)]
        if not ready:  # only with ``only``: what they need was left out
            names = ", ".join(c.name for c in pending)
            raise StackError(names, "needs components that were not chosen to start")
        for comp in ready:
            if comp.process.pid() is None:
                _check_ports_free(comp)
                report(f"starting {comp.name}")
                comp.start()
        for comp in ready:
            _wait_healthy(comp, cfg.health_timeout_s)
            comp.after_start()
            started.add(comp.name)
            pending.remove(comp)
    write_env_file(cfg)
    cfg.extras_file.write_text("".join(f"{e}\n" for e in extras))
    return status(cfg)


def status(cfg: StackConfig) -> list[ComponentStatus]:
    out = []
    for comp in components(cfg):
        pid = comp.process.pid()
        out.append(
            ComponentStatus(
                name=comp.name,
                pid=pid,
                healthy=pid is not None and comp.healthy(),
                endpoint=comp.endpoint(),
                rss_mib=_rss_mib(pid) if pid else None,
            )
        )
    return out


def down(cfg: StackConfig, *, purge: bool = False, report: Reporter = _silent) -> list[str]:
    """Stop the processes the stack started (never others); ``purge`` also deletes data."""
    stopped = []
    # Optional components too, enabled or not: never leave one running.
    for comp in reversed(components(cfg, tuple(EXTRAS))):
        if comp.stop():
            report(f"stopped {comp.name}")
            stopped.append(comp.name)
    if purge:
        for comp in components(cfg, tuple(EXTRAS)):
            comp.purge()
        cfg.extras_file.unlink(missing_ok=True)
        cfg.brokers_file.unlink(missing_ok=True)
        for sub in ("data", "logs", "run", "prometheus", "secrets", "tls"):
            shutil.rmtree(cfg.dir / sub, ignore_errors=True)
        cfg.env_file.unlink(missing_ok=True)
        report(f"deleted data under {cfg.dir}")
    return stopped


def restart(
    cfg: StackConfig, name: str, *, down_for_s: float = 0.0, report: Reporter = _silent
) -> list[ComponentStatus]:
    """Stop one component, keep it down ``down_for_s``, then start it (and wait until healthy).

    What an operator does after changing a setting, and how the fault tests take the
    broker (or PostgreSQL, or S3) away from running services and give it back.
    """
    for comp in _named(cfg, name):
        if comp.stop():
            report(f"stopped {comp.name}")
    time.sleep(down_for_s)
    return up(cfg, report)


def log_tail(comp: Component, lines: int) -> str:
    try:
        text = comp.process.log_file.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log yet)"
    return "\n".join(text.splitlines()[-lines:])


def logs(cfg: StackConfig, name: str, lines: int = 50) -> str:
    """One service's last lines; ``kafka`` on a cluster gives each node's under its name."""
    comps = _named(cfg, name)
    if len(comps) == 1:
        return log_tail(comps[0], lines)
    return "\n".join(f"==> {c.name} <==\n{log_tail(c, lines)}" for c in comps)
