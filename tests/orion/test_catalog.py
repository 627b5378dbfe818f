"""The catalog derives topics and master-data flags from the .avsc files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orion.catalog import entities, entity_for_topic, load_schema, subject
from orion.exceptions import SchemaError


def test_every_entity_has_raw_clean_and_dlq_topics() -> None:
    found = entities()
    assert len(found) >= 14
    stems = {e.stem for e in found}
    for stem in (
        "erp.vehicles",
        "erp.dealers",
        "crm.customers",
        "supplier.suppliers",
        "erp.sales",
        "finance.payments",
        "iot.telemetry",
    ):
        assert stem in stems
    for e in found:
        assert e.schema_path("raw").is_file() and e.schema_path("clean").is_file()
        assert entity_for_topic(e.topic("dlq")) == e


def test_master_data_is_recognised_by_updated_at_and_operation() -> None:
    master = {e.stem for e in entities() if e.master}
    assert master == {"erp.vehicles", "erp.dealers", "crm.customers", "supplier.suppliers"}


def test_subject_follows_topic_name_strategy() -> None:
    assert subject("raw.erp.sales") == "raw.erp.sales-value"


def test_unknown_topic_and_invalid_schema_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=re.escape("no schema for topic 'raw.erp.nothing'")):
        entity_for_topic("raw.erp.nothing")
    bad = tmp_path / "bad.avsc"
    bad.write_text(json.dumps({"type": "record", "name": "X", "fields": [{"name": "a"}]}))
    with pytest.raises(SchemaError, match=re.escape("bad.avsc: not a valid Avro schema")):
        load_schema(bad)


def test_dependency_order_puts_every_entity_after_what_it_references() -> None:
    from orion.catalog import dependency_order

    order = [e.stem for e in dependency_order()]
    assert sorted(order) == sorted(e.stem for e in entities())
    for e in dependency_order():
        for _, referent in e.references:
            if referent != e.stem:
                assert order.index(referent) < order.index(e.stem), (e.stem, referent)
