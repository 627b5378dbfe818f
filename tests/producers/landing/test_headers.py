"""Column headers to raw fields: folding, declared aliases, required columns."""

from __future__ import annotations

import pytest

from orion.catalog import entities, entity
from producers.landing.headers import fold, header_index, map_columns, required_fields


@pytest.mark.parametrize("header", ["Sale ID", "sale_id", "SALEID", " sale-id ", "Sale_Id"])
def test_spellings_of_one_field_fold_alike(header: str) -> None:
    assert fold(header) == "saleid"


def test_every_entity_has_an_unambiguous_index_holding_every_raw_field() -> None:
    for e in entities():
        index = header_index(e)
        assert set(index.values()) >= {e.partition_key, *e.business_key, "event_time"}


def test_declared_aliases_map_and_unknown_columns_are_counted() -> None:
    cm = map_columns(entity("erp.sales"), ["Sale ID", "Price (ZAR)", "Exported By", "event time"])
    assert cm.fields == ("sale_id", "sale_price", None, "event_time")
    assert cm.unknown == ("Exported By",)


def test_missing_required_columns_are_named() -> None:
    cm = map_columns(entity("crm.customers"), ["customer_id", "first_name"])
    assert set(cm.missing) == {"event_time", "operation"}
    assert "operation" in required_fields(entity("crm.customers"))
    assert "operation" not in required_fields(entity("erp.sales"))


def test_a_repeated_column_keeps_the_first_and_the_source_event_id_is_ignored() -> None:
    cm = map_columns(entity("erp.sales"), ["event_id", "vin", "VIN Number", "sale_id"])
    assert cm.fields == (None, "vin", None, "sale_id")
    assert cm.repeated == ("vin",)
