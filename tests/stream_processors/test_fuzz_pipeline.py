"""Property: no raw value, however hostile, makes the pipeline raise; what it passes is loadable.

The pipeline's decode, repair, validate and classify logic in process (a
registry in memory, no I/O), with Hypothesis drawing hostile records and
garbage bytes (:mod:`tests.stream_processors.hostile`). Every verdict must be
a clean record that encodes, decodes back and holds nothing a warehouse
column refuses (NUL, a non-finite double, an int beyond its Avro type), or a
rejection with a reason of :class:`orion.reasons.Reason`. Bounded: at most
:data:`EXAMPLES` examples and :data:`BUDGET_S` seconds; the counts are printed.
"""

from __future__ import annotations

import io
import math
import time
from collections import Counter
from functools import cache
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orion.catalog import entities, load_schema
from orion.reasons import Reason
from stream_processors.pipeline import Pipeline, Rejected, Valid
from tests.stream_processors.hostile import (
    MemoryRegistry,
    base_events,
    encode,
    garbage_value,
    hostile_record,
)

EXAMPLES = 800
BUDGET_S = 10.0
_INT = {"int": 2**31, "long": 2**63}


@pytest.fixture(scope="module")
def world() -> tuple[Pipeline, dict[str, int], dict[str, list[tuple[str, dict[str, Any]]]]]:
    registry = MemoryRegistry()
    pipeline = Pipeline(registry, "")
    return pipeline, registry.raw_ids(), base_events(per_stem=5)


@cache
def _clean_schema(stem: str) -> tuple[dict[str, Any], Any]:
    schema = load_schema(next(e for e in entities() if e.stem == stem).schema_path("clean"))
    return schema, parse_schema(schema)


def _check_clean(stem: str, pipeline: Pipeline, verdict: Valid) -> None:
    """The clean record encodes, decodes to itself, and holds no value a column refuses."""
    schema, parsed = _clean_schema(stem)
    fields: list[dict[str, Any]] = schema["fields"]
    data = pipeline.encode(stem, verdict.clean)
    back = schemaless_reader(io.BytesIO(data[5:]), parsed)
    assert isinstance(back, dict) and back == verdict.clean
    str(verdict.clean[pipeline.rules[stem].entity.partition_key]).encode()  # the Kafka key
    types = {f["name"]: f["type"] for f in fields}
    for name, value in back.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str):
                assert "\x00" not in v, f"{stem}.{name} holds NUL"
            elif isinstance(v, float):
                assert math.isfinite(v), f"{stem}.{name} = {v}"
            elif isinstance(v, int) and not isinstance(v, bool):
                t = types[name]
                base = next(x for x in t if x != "null") if isinstance(t, list) else t
                if base in _INT:
                    assert -_INT[base] <= v < _INT[base], f"{stem}.{name} = {v} overflows {base}"


def test_no_hostile_value_escapes_the_pipeline(
    world: tuple[Pipeline, dict[str, int], dict[str, list[tuple[str, dict[str, Any]]]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline, raw_ids, bases = world
    stems = sorted(s for s, events in bases.items() if events)
    counts: Counter[str] = Counter()
    started = time.monotonic()

    stem_index = st.integers(0, len(stems) - 1)
    base_index = st.integers(0, min(len(bases[s]) for s in stems) - 1)
    one_in_ten = st.integers(0, 9)

    @st.composite
    def case(draw: st.DrawFn) -> tuple[str, bytes]:
        stem = stems[draw(stem_index)]
        _, base = bases[stem][draw(base_index)]
        value = encode(raw_ids[stem], stem, hostile_record(draw, base, stem))
        if draw(one_in_ten) == 0:  # one in ten: bytes that are no record at all
            value = garbage_value(draw, value)
        return stem, value

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(case())
    def judged(arg: tuple[str, bytes]) -> None:
        if time.monotonic() - started > BUDGET_S:
            return  # the time budget is spent: the rest of the examples are skipped
        stem, value = arg
        verdict = pipeline.evaluate(stem, value)
        counts["tried"] += 1
        if isinstance(verdict, Valid):
            _check_clean(stem, pipeline, verdict)
            counts["clean"] += 1
        else:
            assert isinstance(verdict, Rejected)
            assert verdict.reason in Reason
            counts[f"dlq {verdict.reason.value}"] += 1

    judged()
    took = time.monotonic() - started
    with capsys.disabled():
        dead = ", ".join(f"{k[4:]} {v}" for k, v in sorted(counts.items()) if k[:4] == "dlq ")
        print(f"\nfuzz pipeline: {counts['tried']} records in {took:.1f}s,"
              f" {counts['clean']} clean, dead-lettered: {dead}")  # fmt: skip
    assert counts["tried"] >= 200, "the time budget allowed too few examples to mean anything"
    assert counts["clean"] > 0, "no hostile record went clean: the generator is too rough"
