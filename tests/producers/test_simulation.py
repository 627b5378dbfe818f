"""simulate(): schema validity, determinism, defect mix, configuration errors."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastavro.schema import parse_schema
from fastavro.validation import validate

from orion.catalog import SCHEMA_ROOT, load_schema
from orion.reasons import DefectKind, Outcome, Reason
from producers.defects import DEFAULT_WEIGHTS
from producers.exceptions import SimulationConfigError
from producers.simulation import SimEvent, SimulationConfig, simulate
from producers.topics import TOPICS
from tests.producers.conftest import ALL, clean_record, ledger_lines, values_json


def _schema(layer: str, stem: str) -> dict[str, Any]:
    return load_schema(SCHEMA_ROOT / layer / f"{stem}.avsc")


RAW = {t: parse_schema(_schema("raw", s.stem)) for t, s in TOPICS.items()}
CLEAN = {t: parse_schema(_schema("clean", s.stem)) for t, s in TOPICS.items()}


def test_every_raw_value_validates(events: list[SimEvent]) -> None:
    for e in events[:8000]:
        if e.poison is not None:
            assert e.value is None
            continue
        assert e.value is not None
        assert validate(e.value, RAW[e.topic], raise_errors=True)


def test_every_expected_record_validates_against_clean(events: list[SimEvent]) -> None:
    checked = Counter[str]()
    for e in events:
        exp = e.ledger.expected
        if e.ledger.outcome in (Outcome.ACCEPT, Outcome.REPAIR):
            assert exp is not None
            rec = clean_record(exp, _schema("clean", TOPICS[e.topic].stem))
            assert validate(rec, CLEAN[e.topic], raise_errors=True)
            checked[e.topic] += 1
        else:
            assert exp is None
    assert set(checked) == set(TOPICS)


def test_poison_is_not_wire_format(events: list[SimEvent]) -> None:
    poison = [e for e in events if e.poison is not None]
    assert poison
    for e in poison:
        assert e.poison is not None
        assert e.poison[:1] != b"\x00"
        assert e.ledger.outcome is Outcome.REJECT
        assert e.ledger.reason is Reason.NOT_WIRE_FORMAT


def test_keys_and_envelope(events: list[SimEvent]) -> None:
    for e in events[:5000]:
        if e.value is None:
            continue
        spec = TOPICS[e.topic]
        v = e.value
        assert e.key == e.ledger.key
        assert v["event_id"] == e.ledger.event_id
        assert v["produced_at"] >= v["event_time"]
        assert v["source_system"] == spec.source_system
        if not e.ledger.defects:
            assert v[spec.key_field] == e.key


def test_same_seed_same_bytes_other_seed_differs(make_run: Callable[..., list[SimEvent]]) -> None:
    a, b, c = make_run(4000, seed=7), make_run(4000, seed=7), make_run(4000, seed=8)
    assert ledger_lines(a) == ledger_lines(b)
    assert values_json(a) == values_json(b)
    assert ledger_lines(a) != ledger_lines(c)


def test_defect_share_and_every_kind(make_run: Callable[..., list[SimEvent]]) -> None:
    evs = make_run(20_000, seed=3)
    defective = sum(1 for e in evs if e.ledger.defects)
    assert abs(defective / len(evs) - 0.10) < 0.015
    kinds = Counter(k for e in evs for k in e.ledger.defects)
    assert set(kinds) == set(DefectKind)


def test_per_kind_rates_are_configurable(make_run: Callable[..., list[SimEvent]]) -> None:
    only = {DefectKind.POISON: 1.0}
    evs = make_run(3000, defect_rate=0.05, defect_weights=only)
    kinds = Counter(k for e in evs for k in e.ledger.defects)
    assert set(kinds) == {DefectKind.POISON}
    assert 90 < kinds[DefectKind.POISON] < 220
    clean = make_run(3000, defect_rate=0.0)
    assert not any(e.ledger.defects for e in clean)


def test_timeline_covers_start_to_end(events: list[SimEvent]) -> None:
    sale_dates = [
        e.ledger.expected["sale_date"]
        for e in events
        if e.topic == "raw.erp.sales" and e.ledger.expected
    ]
    assert min(sale_dates) >= "2025-03-01"
    assert "2026-02-01" <= max(sale_dates) <= "2026-02-28"


def test_master_data_comes_first(events: list[SimEvent]) -> None:
    first_fact = next(i for i, e in enumerate(events) if not TOPICS[e.topic].master)
    keys: dict[str, set[str]] = {}
    for e in events[:first_fact]:
        keys.setdefault(e.topic, set()).add(e.key)
    assert len(keys["raw.erp.dealers"]) == 45
    assert len(keys["raw.supplier.suppliers"]) == 20
    assert len(keys["raw.crm.customers"]) > 100


def test_source_subset_and_endless_mode() -> None:
    evs = list(itertools.islice(simulate(SimulationConfig(sources=frozenset({"iot"}))), 3000))
    assert {e.topic for e in evs} == {"raw.iot.telemetry"}
    cfg = SimulationConfig(
        sources=ALL, start=date(2025, 3, 1), end=date(2025, 3, 2), events_per_day=500
    )
    evs = list(itertools.islice(simulate(cfg), 12_000))
    assert max(e.value["event_time"] for e in evs if e.value) > 1_741_000_000_000 + 10 * 86_400_000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sources": frozenset({"erp", "sap"})},
        {"sources": frozenset()},
        {"sources": ALL, "defect_rate": 1.5},
        {"sources": ALL, "defect_rate": -0.1},
        {"sources": ALL, "defect_weights": {"NOT_A_KIND": 0.1}},
        {"sources": ALL, "total_events": 0},
        {"sources": ALL, "start": date(2026, 1, 1), "end": date(2025, 1, 1)},
    ],
)
def test_config_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(SimulationConfigError) as err:
        simulate(SimulationConfig(**kwargs))  # type: ignore[arg-type]
    assert isinstance(err.value, ValueError)
    assert "fix:" in str(err.value)


def test_default_weights_sum_to_ten_percent() -> None:
    assert abs(sum(DEFAULT_WEIGHTS.values()) - 0.10) < 1e-9
    assert set(DEFAULT_WEIGHTS) == set(DefectKind)
