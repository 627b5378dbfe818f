"""The export loop: same seed, same bytes; every row back in order; files cut and named right."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from producers.exports.columns import columns_of, decimal_comma
from producers.exports.plan import MAX_ROWS, MIN_ROWS, PLANS, Format
from producers.exports.storage import LocalStorage
from producers.exports.style import EXTRA_HEADERS
from producers.exports.writer import FileWriter
from producers.simulation import SimulationConfig, simulate
from tests.producers.exports.conftest import Export
from tests.producers.exports.landing_reader import fold, read_file, records


def test_a_seeded_export_is_byte_identical_across_runs(make_export: Callable[..., Export]) -> None:
    a, b = make_export(3000, seed=7), make_export(3000, seed=7)
    files_a, files_b = a.files(), b.files()
    assert [p.relative_to(a.root) for p in files_a] == [p.relative_to(b.root) for p in files_b]
    for pa, pb in zip(files_a, files_b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert a.ledger_path.read_bytes() == b.ledger_path.read_bytes()
    other = make_export(3000, seed=8)
    assert files_a[0].read_bytes() != other.files()[0].read_bytes()


def _expected(stem: str, value: dict[str, Any]) -> dict[str, Any]:
    """What a row must read back as: the raw value, money with a decimal comma in ``;`` files."""
    cols = columns_of(stem)
    out = {f: value.get(f) for f in cols.fields}
    if PLANS[stem].decimal_comma:
        for m in cols.money:
            if (c := decimal_comma(out[m])) is not None:
                out[m] = c
    return out


def test_every_row_reads_back_as_the_simulator_made_it_in_order(exported: Export) -> None:
    by_stem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in exported.events:
        if ev.value is not None:
            stem = ev.topic.removeprefix("raw.")
            by_stem[stem].append(_expected(stem, ev.value))
    assert set(by_stem) == set(PLANS)
    for stem, want in by_stem.items():
        cols = columns_of(stem)
        got = [r for p in exported.files(stem) for r in records(cols, read_file(p))]
        assert len(got) == len(want), stem
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, f"{stem} row {i}"


def test_rows_with_nulls_arrays_and_padded_values_survive(exported: Export) -> None:
    values = [ev.value for ev in exported.events if ev.value is not None]
    assert any(None in v.values() for v in values)
    assert any(v.get("error_codes") for v in values)
    assert any(isinstance(x, str) and x != x.strip() for v in values for x in v.values())


def test_files_are_cut_by_size_and_month_and_named_in_write_order(exported: Export) -> None:
    per_stem: dict[str, list[str]] = defaultdict(list)
    for key in exported.written:
        per_stem[key.split("/")[1] + "." + key.split("/")[2]].append(key)
    for stem, keys in per_stem.items():
        assert keys == sorted(keys), f"{stem}: key order is not write order"
        numbers = [int(re.search(r"-(\d{6})\.", k).group(1)) for k in keys]  # type: ignore[union-attr]
        assert numbers == list(range(1, len(keys) + 1))
        assert all(k.endswith("." + PLANS[stem].format.value) for k in keys)
    sizes = [len(read_file(p).rows) for p in exported.files()]
    assert max(sizes) <= MAX_ROWS
    assert max(sizes) >= MIN_ROWS
    assert len(exported.files("crm.interactions")) >= 10  # a month closes every file
    stats = exported.stats
    assert sum(sizes) == stats.rows == stats.events - stats.poison_skipped


def test_the_files_have_the_messiness_the_sources_have(exported: Export) -> None:
    seen: set[str] = set()
    for p in exported.files():
        data = p.read_bytes()
        read = read_file(p)
        folded = {fold(h) for h in read.headers}
        if folded & {fold(h) for h in EXTRA_HEADERS}:
            seen.add("extra columns")
        if any(" " in h for h in read.headers):
            seen.add("spaced headers")
        if any(h.isupper() and "_" in h for h in read.headers):
            seen.add("upper headers")
        if any("(" in h for h in read.headers):
            seen.add("alias headers")
        if p.suffix == ".csv":
            seen.add(f"delimiter {read.delimiter}")
            if data.startswith(b"\xef\xbb\xbf"):
                seen.add("bom")
            if b"\r\n" in data:
                seen.add("crlf")
            if b"\n\n" in data or b"\r\n\r\n" in data:
                seen.add("blank line")
            lines = data.decode("utf-8-sig").splitlines()
            if lines.count(lines[0]) > 1:
                seen.add("header again")
        if p.suffix == ".xlsx" and any(
            not isinstance(c, str) and c is not None for r in read.rows for c in r
        ):
            seen.add("date-time cells")
        json_file = p.suffix in (".json", ".jsonl")
        if json_file and any(isinstance(c, int) for r in read.rows for c in r):
            seen.add("epoch ms")
    assert seen >= {
        "extra columns", "spaced headers", "upper headers", "alias headers", "delimiter ,",
        "delimiter ;", "bom", "crlf", "blank line", "header again", "date-time cells", "epoch ms",
    }  # fmt: skip
    assert {Format(p.suffix[1:]) for p in exported.files()} == set(Format)


def test_within_a_month_files_are_cut_at_a_few_hundred_to_two_thousand_rows(
    tmp_path: Path,
) -> None:
    day = date(2025, 3, 10)
    iot = frozenset({"iot"})
    sim = SimulationConfig(sources=iot, seed=3, total_events=6000, start=day, end=day)
    written: list[str] = []
    with FileWriter(LocalStorage(tmp_path), 3, on_file=lambda k, _d: written.append(k)) as w:
        for ev in simulate(sim):
            w.add(ev)
    sizes = [len(read_file(tmp_path / k).rows) for k in written]
    assert len(sizes) >= 3 and sum(sizes) == w.stats.rows
    assert all(MIN_ROWS <= n <= MAX_ROWS for n in sizes[:-1]), sizes
    assert len(set(sizes[:-1])) > 1, "caps are drawn per file"
