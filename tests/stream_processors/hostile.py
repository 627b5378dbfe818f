"""Hostile raw records for the fuzz tests: valid simulator events with extreme values put in.

Who uses it: the property test of the pipeline (``test_fuzz_pipeline.py``, in
process, many examples) and the integration pass through a real worker and
the real warehouse (``test_fuzz_hostile.py``, a few hundred records).

Why start from the simulator: a record whose every field is random is
rejected at its first required field, so the rules after it would never be
reached; a valid event with one to three fields replaced reaches every rule,
and its masters exist, so a hostile fact can still go clean and be loaded.
The replacement values are drawn per Avro type of the raw ``.avsc`` (read
through :mod:`orion.catalog`, never restated here): any text for a string
(control characters, NUL, SQL and shell metacharacters, numbers Python reads
but finance does not, dates in year 1 and 9999 and beyond, deep JSON, up to
hundreds of kilobytes), any long for a timestamp (beyond what ``datetime``
holds, as Avro allows), any symbol for an enum. Lone surrogates cannot be
written as Avro strings (UTF-8 has none); their CESU bytes are among the
wire-level garbage instead, beside random bytes, a wrong magic byte, an
unknown schema id and truncated bodies.
"""

from __future__ import annotations

import io
import json
import random
import struct
from collections import Counter
from functools import cache
from typing import Any

from fastavro import parse_schema, schemaless_writer
from hypothesis import strategies as st

from orion.catalog import entities, load_schema, load_schema_text
from orion.exceptions import UnknownSchemaError
from orion.registry import Registry
from producers.simulation import SimulationConfig, simulate

__all__ = [
    "EXTREME_MS",
    "NASTY",
    "MemoryRegistry",
    "base_events",
    "garbage_value",
    "hostile_record",
    "hostile_text",
    "nested",
    "raw_schema",
    "seeded_record",
]

NASTY = (
    "\x00", "a\x00b", "\x01\x02\x1b[31m\x07", "\x7f", "\u202eevil", "\ufeff", "\u2028\u2029",
    "\x85", "\U0001f600", "'; DROP TABLE warehouse.fact_sales; --", "$(rm -rf /)", "`id`",
    "| nc -e /bin/sh x 1", "\\", "\\N", "\t", "\r\n", '"', "{", "}", "NaN", "nan", "inf",
    "-inf", "Infinity", "1e308", "1e999", "-1e999", "1e-400", "9" * 40, "-" + "9" * 40,
    "0." + "0" * 40 + "1", "99999999999999999999.99", "-0", "1_000", "\u0661\u0662\u0663",
    "0001-01-01", "9999-12-31", "10000-01-01", "0000-00-00", "31-02-2025", "9999/12/31",
    "01-01-0001", "+99999-01-01", "R 1 234,50", "??", "  ", "%s%s%n", "%(x)s", "{0}",
)  # fmt: skip
_CONTROL = st.characters(codec="utf-8", max_codepoint=0x9F)


def nested(depth: int) -> str:
    return '{"a":' * depth + "[" * depth + "null" + "]" * depth + "}" * depth


hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=_CONTROL, max_size=40),
    st.text(max_size=40),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=6).map("".join),
    st.integers(1, 2_000).map(nested),
    st.integers(1_000, 200_000).map(lambda n: "x" * n),
)
"""Any text a hostile source might put in a field (a 1 MiB one is the integration test's)."""

EXTREME_MS = (
    -62_135_596_800_000,  # 0001-01-01T00:00:00Z, the first instant datetime holds
    -62_135_596_800_001,
    253_402_300_799_999,  # 9999-12-31T23:59:59.999Z, the last
    253_402_300_800_000,
    2**63 - 1,
    -(2**63),
    0,
    -1,
)


def _value_of(ftype: Any) -> st.SearchStrategy[Any]:
    """Values of one raw Avro type, extreme ones first among them."""
    if isinstance(ftype, list):
        return st.one_of(*[_value_of(t) for t in ftype])
    if ftype == "null":
        return st.none()
    if ftype == "string":
        return hostile_text
    if isinstance(ftype, dict):
        kind = ftype["type"]
        if kind == "enum":
            return st.sampled_from(ftype["symbols"])
        if kind == "array":
            return st.lists(_value_of(ftype["items"]), max_size=5)
        if kind == "long":
            return st.one_of(st.sampled_from(EXTREME_MS), st.integers(-(2**63), 2**63 - 1))
    raise AssertionError(f"a raw type the fuzz test does not know: {ftype!r}")


@cache
def raw_schema(stem: str) -> dict[str, Any]:
    return load_schema(next(e for e in entities() if e.stem == stem).schema_path("raw"))


@cache
def _parsed(stem: str) -> Any:
    return parse_schema(raw_schema(stem))


@cache
def _field_values(stem: str) -> tuple[st.SearchStrategy[int], tuple[tuple[str, Any], ...]]:
    """Which fields to replace, and a strategy of hostile values for each (built once: a
    strategy built per example costs Hypothesis more than the example itself)."""
    fields = tuple((f["name"], _value_of(f["type"])) for f in raw_schema(stem)["fields"])
    return st.integers(0, len(fields) - 1), fields


def hostile_record(draw: st.DrawFn, base: dict[str, Any], stem: str) -> dict[str, Any]:
    """``base`` with one to three of its fields replaced by hostile values of their type."""
    index, fields = _field_values(stem)
    record = dict(base)
    for _ in range(draw(_ONE_TO_THREE)):
        name, values = fields[draw(index)]
        record[name] = draw(values)
    return record


_ONE_TO_THREE = st.integers(1, 3)


def seeded_record(rng: random.Random, base: dict[str, Any], stem: str) -> dict[str, Any]:
    """:func:`hostile_record` from a seeded ``random.Random``: the integration pass wants a
    fixed set of a few hundred records, not Hypothesis's search over one record at a time."""
    fields = raw_schema(stem)["fields"]
    record = dict(base)
    for f in rng.sample(fields, rng.randint(1, 3)):
        record[f["name"]] = _seeded_value(rng, f["type"])
    return record


def _seeded_value(rng: random.Random, ftype: Any) -> Any:
    if isinstance(ftype, list):
        return _seeded_value(rng, rng.choice(ftype))
    if ftype == "null":
        return None
    if ftype == "string":
        pick = rng.randrange(6)
        if pick == 0:
            return "".join(chr(rng.randrange(0x9F)) for _ in range(rng.randrange(1, 30)))
        if pick == 1:
            return nested(rng.randint(1, 2_000))
        if pick == 2:
            return "".join(rng.choice(NASTY) for _ in range(rng.randint(2, 6)))
        return rng.choice(NASTY)
    if ftype["type"] == "enum":
        return rng.choice(ftype["symbols"])
    if ftype["type"] == "array":
        return [_seeded_value(rng, ftype["items"]) for _ in range(rng.randrange(4))]
    return rng.choice([*EXTREME_MS, rng.randint(-(2**63), 2**63 - 1)])


def encode(schema_id: int, stem: str, record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, schema_id))
    schemaless_writer(buf, _parsed(stem), record)
    return buf.getvalue()


def garbage_value(draw: st.DrawFn, valid: bytes) -> bytes:
    """A message value that is no decodable record, made from a valid one (``valid``)."""
    kind, tail = draw(_GARBAGE_KIND), draw(_SOME_BYTES)
    body = valid[5:]
    return [
        tail,
        b"\x01" + tail,  # wrong magic byte
        b"\x00" + tail[:4],  # a header or less
        struct.pack(">bI", 0, 10**6 + len(tail)) + body,  # an id the registry does not know
        valid[: 5 + len(tail) % max(len(body), 1)],  # truncated
        valid[:5] + b"\x0c\xed\xa0\x80\xed\xb0\x80",  # a lone surrogate pair, CESU-8
        valid[:5] + b"\xff" * 9 + tail,  # a varint longer than a long
    ][kind]


_GARBAGE_KIND = st.integers(0, 6)
_SOME_BYTES = st.binary(max_size=64)


def base_events(per_stem: int, seed: int = 15) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """(key, raw value) of valid events of a defect-free run, per entity in run order: the
    first ``per_stem`` of every entity, and the first version of every master (or sale)
    one of them refers to, so their facts can go clean."""
    config = SimulationConfig(sources=frozenset({"erp", "crm", "finance", "supplier", "iot"}),
                              seed=seed, defect_rate=0.0, total_events=6_000)  # fmt: skip
    first: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for i, ev in enumerate(simulate(config)):
        if ev.value is not None:
            first.setdefault((ev.topic.removeprefix("raw."), ev.key), (i, ev.value))
    by_stem: dict[str, list[str]] = {e.stem: [] for e in entities()}
    for stem, key in first:
        by_stem[stem].append(key)
    todo = [(stem, key) for stem, keys in by_stem.items() for key in keys[:per_stem]]
    chosen: set[tuple[str, str]] = set()
    refs = {e.stem: e.references for e in entities()}
    while todo:
        item = todo.pop()
        if item in chosen or item not in first:
            continue
        chosen.add(item)
        value = first[item][1]
        todo += [(r, str(value[f])) for f, r in refs[item[0]] if value.get(f) is not None]
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {e.stem: [] for e in entities()}
    for stem, key in sorted(chosen, key=lambda c: first[c][0]):
        out[stem].append((key, first[(stem, key)][1]))
    return out


class MemoryRegistry(Registry):
    """Schemas by id in memory: the pipeline's registry for a test with no I/O."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._by_id: dict[int, Any] = {}
        self.lookups: Counter[int] = Counter()

    def register(self, subject: str, schema_text: str) -> int:
        if schema_text not in self._ids:
            self._ids[schema_text] = len(self._ids) + 1
            self._by_id[self._ids[schema_text]] = parse_schema(json.loads(schema_text))
        return self._ids[schema_text]

    def parsed_schema(self, schema_id: int) -> Any:
        self.lookups[schema_id] += 1
        if schema_id not in self._by_id:
            raise UnknownSchemaError(f"schema id {schema_id} is not in the registry")
        return self._by_id[schema_id]

    def raw_ids(self) -> dict[str, int]:
        """Register every raw schema; their ids by stem."""
        return {
            e.stem: self.register("", load_schema_text(e.schema_path("raw"))) for e in entities()
        }
