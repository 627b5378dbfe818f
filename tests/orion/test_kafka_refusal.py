"""A client the secured broker refuses gets a ConfigurationError naming the variable to fix.

Real broker (the local stack's SASL_SSL listener); each refusal is told
within seconds, not after the metadata timeout.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from orion.exceptions import ConfigurationError
from orion.kafka_refusal import check_access
from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka_access import password

pytestmark = pytest.mark.integration


def _as(settings: OrionSettings, **changes: Any) -> dict[str, Any]:
    conf = settings.kafka_client_config()
    assert conf["security.protocol"] == "SASL_SSL", "these tests need the secured stack"
    conf.update(changes)
    return {k: v for k, v in conf.items() if v is not None}


def _refusal(conf: dict[str, Any]) -> str:
    started = time.monotonic()
    with pytest.raises(ConfigurationError) as e:
        check_access(conf, timeout_s=20)
    assert time.monotonic() - started < 15, "a refusal must be told before the timeout"
    return str(e.value)


def test_the_right_credentials_pass(settings: OrionSettings, stack_config: StackConfig) -> None:
    secret = password(stack_config, "producer")
    check_access(_as(settings, **{"sasl.username": "producer", "sasl.password": secret}))


def test_a_wrong_password_names_the_user_and_the_variable(settings: OrionSettings) -> None:
    wrong = "not-the-password-0xdeadbeef"
    message = _refusal(_as(settings, **{"sasl.username": "producer", "sasl.password": wrong}))
    assert "refused the credentials of ORION_KAFKA_SASL_USERNAME=producer" in message
    assert "(check ORION_KAFKA_SASL_PASSWORD)" in message
    assert wrong not in message


def test_an_unknown_user_is_refused_the_same_way(settings: OrionSettings) -> None:
    message = _refusal(_as(settings, **{"sasl.username": "mallory"}))
    assert "ORION_KAFKA_SASL_USERNAME=mallory" in message


def test_no_credentials_is_refused(settings: OrionSettings) -> None:
    bare = {"bootstrap.servers": settings.kafka_bootstrap, "security.protocol": "PLAINTEXT"}
    assert "check ORION_KAFKA_SECURITY_PROTOCOL" in _refusal(bare)


def test_no_ca_is_a_tls_failure_naming_the_ca_variable(settings: OrionSettings) -> None:
    message = _refusal(_as(settings, **{"ssl.ca.location": None}))
    assert "TLS to Kafka" in message and "check ORION_KAFKA_CA_FILE" in message


def test_a_service_with_a_wrong_password_stops_at_start_up_saying_so(
    settings: OrionSettings, topic_namespace: str
) -> None:
    """What a new user sees: `orion produce` exits 1 at once with the variable to fix."""
    import os
    import subprocess
    import sys

    wrong = "wrong-password-42"
    env = {**os.environ, "ORION_TOPIC_PREFIX": topic_namespace,
           "ORION_KAFKA_SASL_USERNAME": "producer", "ORION_KAFKA_SASL_PASSWORD": wrong}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", "--events", "10"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "refused the credentials of ORION_KAFKA_SASL_USERNAME=producer" in out, out
    assert wrong not in out
