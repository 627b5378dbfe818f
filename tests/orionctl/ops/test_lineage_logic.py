"""The pure parts of `orion lineage`: which object holds an offset, where to list, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest

from orion.exceptions import ConfigurationError
from orionctl.ops.lineage import bronze_folders, object_holding, same_content
from sinks.s3.partitioner import ObjectName, parse_key
from sinks.warehouse.lineage import natural_key, table_spec

DAY = dt.date(2026, 1, 5)


def _name(start: int, partition: int = 0, prefix: str = "bronze") -> ObjectName:
    return ObjectName(prefix, "raw.erp.sales", DAY, partition, start)


def test_the_object_holding_an_offset_starts_at_the_greatest_offset_not_after_it() -> None:
    names = [_name(0), _name(120), _name(400), _name(130, partition=1), _name(500, partition=1)]
    assert object_holding(names, 0, 0) == _name(0)
    assert object_holding(names, 0, 119) == _name(0)
    assert object_holding(names, 0, 120) == _name(120)
    assert object_holding(names, 0, 10_000) == _name(400)
    assert object_holding(names, 1, 499) == _name(130, partition=1)
    assert object_holding(names, 1, 129) is None  # before the partition's first object
    assert object_holding(names, 2, 5) is None


def test_bronze_wins_a_tie_with_its_archive_copy() -> None:
    names = [_name(100, prefix="archive"), _name(100), _name(50, prefix="archive")]
    assert object_holding(names, 0, 150) == _name(100)
    assert object_holding(reversed(names), 0, 150) == _name(100)
    assert object_holding(names, 0, 60) == _name(50, prefix="archive")


def test_the_listed_folder_is_the_records_utc_date_or_the_whole_topic() -> None:
    ts = int(dt.datetime(2026, 1, 5, 23, 59, 59, 999_000, tzinfo=dt.UTC).timestamp() * 1000)
    assert bronze_folders("raw.erp.sales", ts) == [
        "bronze/raw.erp.sales/dt=2026-01-05/",
        "archive/raw.erp.sales/dt=2026-01-05/",
    ]
    assert bronze_folders("raw.erp.sales", ts + 1)[0] == "bronze/raw.erp.sales/dt=2026-01-06/"
    assert bronze_folders("raw.erp.sales", None) == [
        "bronze/raw.erp.sales/",
        "archive/raw.erp.sales/",
    ]


def test_keys_the_bronze_sink_writes_parse_back_to_the_names_chosen_from() -> None:
    name = _name(1234, partition=2)
    assert parse_key(name.key) == name


def test_a_business_duplicate_differs_only_in_event_id_and_produced_at() -> None:
    a = {"event_id": "a", "produced_at": 1, "sale_id": "S1", "price": "10"}
    assert same_content(a, {**a, "event_id": "b", "produced_at": 2})
    assert not same_content(a, {**a, "event_id": "b", "price": "11"})


def test_tables_are_named_as_in_the_warehouse_or_by_entity() -> None:
    assert table_spec("fact_sales") is table_spec("warehouse.fact_sales") is table_spec("erp.sales")
    assert natural_key(table_spec("dim_customer")) == ("customer_id",)
    assert natural_key(table_spec("fact_inventory")) == ("inventory_id", "event_time")
    with pytest.raises(ConfigurationError, match="fact_sales"):
        table_spec("sales")
