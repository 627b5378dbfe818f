"""S3SinkConfig: one place for the defaults, the environment under the options given."""

from __future__ import annotations

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import load_stage_settings
from sinks.base import BatchLimits
from sinks.s3.configuration import DEFAULT_GROUP, S3SinkConfig


def test_defaults_then_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    base = load_stage_settings(S3SinkConfig, topics=("raw.erp.sales",), retry_after_s=None)
    assert (base.group, base.retry_after_s, base.limits) == (DEFAULT_GROUP, 5.0, BatchLimits())
    monkeypatch.setenv("ORION_S3_SINK_RETRY_AFTER_S", "2.5")
    monkeypatch.setenv("ORION_S3_SINK_CODEC", "null")
    env = load_stage_settings(S3SinkConfig, topics=("raw.erp.sales",))
    assert (env.retry_after_s, env.codec) == (2.5, "null")
    given = load_stage_settings(S3SinkConfig, topics=("raw.erp.sales",), retry_after_s=9.0)
    assert given.retry_after_s == 9.0


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_S3_SINK_MULTIPART_THRESHOLD", "big")
    with pytest.raises(ConfigurationError, match="ORION_S3_SINK_MULTIPART_THRESHOLD"):
        load_stage_settings(S3SinkConfig, topics=("raw.erp.sales",))
    monkeypatch.setenv("ORION_S3_SINK_MULTIPART_THRESHOLD", "1024")  # S3 parts are >= 5 MiB
    with pytest.raises(ConfigurationError, match="ORION_S3_SINK_MULTIPART_THRESHOLD"):
        load_stage_settings(S3SinkConfig, topics=("raw.erp.sales",))
