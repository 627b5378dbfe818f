"""The one place a Kafka client's connection and security settings are built.

Every producer, consumer and admin client of the pipeline starts from
:func:`client_config` and adds only its own knobs, so a broker that wants
SASL_SSL gets it from every service or from none. Stage packages receive the
mapping (not the settings object) where they used to receive the bootstrap
string: that keeps them free of how the settings were read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "PROTOCOLS",
    "KafkaConfig",
    "Protocol",
    "bootstrap_of",
    "check_ca_file",
    "client_config",
    "sasl_of",
    "uses_sasl",
    "uses_tls",
]

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
PROTOCOLS: tuple[str, ...] = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISM = "SCRAM-SHA-512"

#: A client configuration: ``bootstrap.servers`` plus the security settings, librdkafka names.
KafkaConfig = Mapping[str, Any]

_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def uses_sasl(protocol: str) -> bool:
    return protocol.startswith("SASL_")


def uses_tls(protocol: str) -> bool:
    return protocol.endswith("SSL")


def check_ca_file(path: Path) -> Path:
    """``path`` if it is a readable PEM file with at least one certificate, else ValueError.

    Checked at start-up, because librdkafka only says "certificate verify
    failed" on the first connection, long after the variable was read.
    """
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as e:
        raise ValueError(f"{path} cannot be read ({e.strerror}); give the CA's PEM file") from e
    if _PEM_CERTIFICATE not in text:
        raise ValueError(f"{path} holds no PEM certificate ({_PEM_CERTIFICATE} ...)")
    return path


def client_config(
    bootstrap: str,
    protocol: str,
    username: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
) -> dict[str, Any]:
    """librdkafka settings for ``bootstrap`` under ``protocol`` (validated by the settings)."""
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "security.protocol": protocol}
    if uses_sasl(protocol):
        conf["sasl.mechanism"] = MECHANISM
        conf["sasl.username"] = username or ""
        conf["sasl.password"] = password or ""
    if uses_tls(protocol) and ca_file is not None:
        conf["ssl.ca.location"] = str(ca_file)
    return conf


def bootstrap_of(kafka: KafkaConfig) -> str:
    """The bootstrap servers, for messages (never print the whole mapping: it holds a password)."""
    return str(kafka["bootstrap.servers"])


def sasl_of(kafka: KafkaConfig) -> str | None:
    """The SASL user name of ``kafka``, None when the client does not authenticate."""
    user = kafka.get("sasl.username")
    return (
        str(user) if user is not None and uses_sasl(str(kafka.get("security.protocol"))) else None
    )
