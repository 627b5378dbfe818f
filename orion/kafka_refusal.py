"""Tell a refused credential or certificate apart from a broker that is down.

librdkafka retries a failed SASL handshake or TLS verification for ever and
only reports it through the error callback, so a metadata request with the
wrong password just times out ("broker transport failure"). The start-up
checks of every service call :func:`check_access` first: one short-lived
client that listens to that callback and stops at the first refusal with a
ConfigurationError naming the variable to fix. The password is never part
of a message.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.kafka_config import KafkaConfig, bootstrap_of, sasl_of, uses_tls

__all__ = ["check_access", "refusal"]

_CONNECTION = ("bootstrap.servers", "security.protocol", "sasl.", "ssl.")

# The probe reports refusals itself; librdkafka's own log lines would repeat them.
_QUIET = logging.getLogger("orion.kafka.probe")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_QUIET.setLevel(logging.INFO)  # librdkafka reports a closed connection at INFO


class _Lines(logging.Handler):
    """librdkafka's log lines of one probe: a listener that closes the connection
    at the first request (a plaintext client on a TLS port) shows only there."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _wrong_protocol(lines: list[str]) -> str | None:
    cut = [ln for ln in lines if "APIVERSION_QUERY" in ln and "Disconnected" in ln]
    return cut[-1].split(": ", 2)[-1] if len(cut) >= 2 else None


def refusal(error: KafkaError, kafka: KafkaConfig) -> ConfigurationError | None:
    """The ConfigurationError that ``error`` means for a client built from ``kafka``, if any."""
    return _refusal(error.code(), error.str(), kafka)


def _refusal(code: int, text: str, kafka: KafkaConfig) -> ConfigurationError | None:
    protocol = kafka.get("security.protocol", "PLAINTEXT")
    user = sasl_of(kafka)
    if code == KafkaError._AUTHENTICATION and user is not None:
        return ConfigurationError(
            f"Kafka at {bootstrap_of(kafka)} refused the credentials of "
            f"ORION_KAFKA_SASL_USERNAME={user} (check ORION_KAFKA_SASL_PASSWORD)",
            fix="give the password of that principal (`orion stack up` writes them to "
            ".stack/secrets/kafka/), or the user name it belongs to",
        )
    if code == KafkaError._SSL or (uses_tls(protocol) and "SSL" in text):
        ca = kafka.get("ssl.ca.location", "(none: the system's CAs)")
        return ConfigurationError(
            f"TLS to Kafka at {bootstrap_of(kafka)} failed: {text} "
            f"(check ORION_KAFKA_CA_FILE={ca})",
            fix="point ORION_KAFKA_CA_FILE at the PEM file of the CA that signed the "
            "broker's certificate (the local stack's is .stack/tls/ca.pem)",
        )
    if code == KafkaError._AUTHENTICATION or "security.protocol" in text:
        return ConfigurationError(
            f"Kafka at {bootstrap_of(kafka)} refused a {protocol} client: {text} "
            "(check ORION_KAFKA_SECURITY_PROTOCOL)",
            fix="use the protocol of the broker's listener (the local stack's is SASL_SSL) "
            "with ORION_KAFKA_SASL_USERNAME, ORION_KAFKA_SASL_PASSWORD and ORION_KAFKA_CA_FILE",
        )
    return None


def check_access(kafka: KafkaConfig, timeout_s: float = 30.0) -> None:
    """Return once the broker answers a metadata request from a client built from ``kafka``.

    Who calls it: the start-up checks (topics exist, partition counts), before
    their own requests. Raises ConfigurationError at the first refused
    credential, certificate or protocol (within about a second), and
    ServiceUnavailableError when the broker does not answer in ``timeout_s``.
    """
    errors: list[KafkaError] = []
    # Only the connection's settings: ``kafka`` may be a whole consumer's configuration.
    conf: dict[str, Any] = {k: v for k, v in kafka.items() if k.startswith(_CONNECTION)}
    lines = _Lines()
    _QUIET.addHandler(lines)
    try:
        _probe(kafka, conf, errors, lines, timeout_s)
    finally:
        _QUIET.removeHandler(lines)


def _probe(
    kafka: KafkaConfig,
    conf: dict[str, Any],
    errors: list[KafkaError],
    lines: _Lines,
    timeout_s: float,
) -> None:
    probe = AdminClient({**conf, "error_cb": errors.append, "logger": _QUIET})  # type: ignore[dict-item]
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        try:
            probe.list_topics(timeout=min(1.0, max(deadline - time.monotonic(), 0.1)))
            probe.poll(0)  # serve its queued log lines now, not as noise when it is freed
            return
        except KafkaException as e:
            errors.append(e.args[0])
        probe.poll(0)
        for error in errors:
            refused = refusal(error, kafka)
            if refused is not None:
                raise refused
        cut = _wrong_protocol(lines.lines)
        if cut is not None:
            raise _refusal(
                KafkaError._TRANSPORT, f"{cut} (might be caused by the security.protocol)", kafka
            ) or ServiceUnavailableError(cut)
        if errors:
            last = errors[-1].str()
        errors.clear()
        if time.monotonic() >= deadline:
            raise ServiceUnavailableError(
                f"Kafka at {bootstrap_of(kafka)} did not answer within {timeout_s:.0f}s: {last}",
                fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
            )
