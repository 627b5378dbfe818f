"""Fixtures for the simulator tests: runs are factories, cached per module."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from producers.simulation import SimEvent, SimulationConfig, simulate
from producers.topics import SOURCES

ALL = frozenset(SOURCES)


def run(n: int, seed: int = 42, **kw: Any) -> list[SimEvent]:
    """The first ``n`` events of a run over all sources."""
    return list(
        simulate(SimulationConfig(sources=kw.pop("sources", ALL), seed=seed, total_events=n, **kw))
    )


@pytest.fixture(scope="session")
def events() -> list[SimEvent]:
    """A 30 000-event run with the default defect mix."""
    return run(30_000)


@pytest.fixture(scope="session")
def make_run() -> Callable[..., list[SimEvent]]:
    """Factory: ``make_run(n, seed=..., **config)``."""
    return run


def to_clean(value: Any, avro_type: Any) -> Any:
    """Convert a ledger ``expected`` value to what the clean Avro schema holds."""
    if isinstance(avro_type, list):
        if value is None:
            return None
        avro_type = next(t for t in avro_type if t != "null")
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "decimal":
            return Decimal(value)
        if logical == "date":
            return date.fromisoformat(value)
        if logical == "timestamp-millis":
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if avro_type["type"] == "array":
            return list(value)
    return value


def clean_record(expected: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The clean record a ledger ``expected`` stands for."""
    return {f["name"]: to_clean(expected[f["name"]], f["type"]) for f in schema["fields"]}


def ledger_lines(evs: list[SimEvent]) -> list[str]:
    """Ledger JSON lines of a run."""
    return [e.ledger.to_json() for e in evs]


def values_json(evs: list[SimEvent]) -> list[str]:
    """The wire values of a run, as JSON (poison as hex)."""
    return [
        json.dumps(e.value, sort_keys=True) if e.value is not None else (e.poison or b"").hex()
        for e in evs
    ]
