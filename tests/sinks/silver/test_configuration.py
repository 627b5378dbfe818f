"""SilverSinkConfig: defaults, the environment under the options, and what a bad value says."""

from __future__ import annotations

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import load_stage_settings
from sinks.base import BatchLimits
from sinks.silver.configuration import DEFAULT_GROUP, SilverSinkConfig

TOPICS = ("clean.erp.sales",)


def test_defaults_then_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    base = load_stage_settings(SilverSinkConfig, topics=TOPICS, max_records=None)
    assert (base.group, base.prefix, base.compression) == (DEFAULT_GROUP, "silver", "zstd")
    assert base.limits == BatchLimits(base.max_records, base.max_bytes, base.max_age_s)
    monkeypatch.setenv("ORION_SILVER_SINK_MAX_AGE_S", "2.5")
    monkeypatch.setenv("ORION_SILVER_SINK_COMPRESSION", "snappy")
    env = load_stage_settings(SilverSinkConfig, topics=TOPICS)
    assert (env.max_age_s, env.compression) == (2.5, "snappy")
    assert load_stage_settings(SilverSinkConfig, topics=TOPICS, max_age_s=9.0).max_age_s == 9.0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORION_SILVER_SINK_MAX_RECORDS", "0"),
        ("ORION_SILVER_SINK_MAX_BYTES", "lots"),
        ("ORION_SILVER_SINK_MAX_AGE_S", "-1"),
        ("ORION_SILVER_SINK_COMPRESSION", "lzma"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_stage_settings(SilverSinkConfig, topics=TOPICS)


def test_only_clean_topics_under_the_prefix() -> None:
    with pytest.raises(ConfigurationError, match="clean topics only"):
        load_stage_settings(SilverSinkConfig, topics=("raw.erp.sales",))
    with pytest.raises(ConfigurationError, match=r"p\.clean"):
        load_stage_settings(SilverSinkConfig, topics=TOPICS, topic_prefix="p.")
    ok = load_stage_settings(SilverSinkConfig, topics=("p.clean.erp.sales",), topic_prefix="p.")
    assert ok.stem("p.clean.erp.sales") == "erp.sales"
