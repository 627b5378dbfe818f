"""WarehouseSinkConfig: defaults in one place, the environment under the options given."""

from __future__ import annotations

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import load_stage_settings
from sinks.warehouse.configuration import WarehouseSinkConfig, clean_topics


def test_defaults_then_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    topics = clean_topics()
    base = load_stage_settings(WarehouseSinkConfig, topics=topics, max_records=None)
    assert (base.max_records, base.max_wait_s, base.db_retries) == (5000, 0.5, None)
    monkeypatch.setenv("ORION_WAREHOUSE_SINK_MAX_RECORDS", "800")
    monkeypatch.setenv("ORION_WAREHOUSE_SINK_DB_RETRIES", "3")
    env = load_stage_settings(WarehouseSinkConfig, topics=topics)
    assert (env.max_records, env.db_retries) == (800, 3)
    assert load_stage_settings(WarehouseSinkConfig, topics=topics, max_records=10).max_records == 10


def test_bad_values_stop_with_what_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_WAREHOUSE_SINK_MAX_WAIT_S", "soon")
    with pytest.raises(ConfigurationError, match="ORION_WAREHOUSE_SINK_MAX_WAIT_S"):
        load_stage_settings(WarehouseSinkConfig, topics=clean_topics())
    monkeypatch.delenv("ORION_WAREHOUSE_SINK_MAX_WAIT_S")
    with pytest.raises(ConfigurationError, match="loads clean topics only"):
        load_stage_settings(WarehouseSinkConfig, topics=("raw.erp.sales",))
