"""Property: whatever bytes a landing file holds, reading it ends in rows or one FileRejected.

Hypothesis draws malformed exports for every format (random bytes, CSV with
unbalanced quotes, NULs, wrong widths and mixed encodings, JSON garbage
nested or not, zips that are no workbook or are a zip bomb named ``.xlsx``)
and reading each must give :class:`SourceRow` / :class:`BadRow` rows, or
:class:`FileRejected` with a reason; nothing else may escape, since the
ingester would stop on that file at every pass. Bounded by
:data:`EXAMPLES` and :data:`BUDGET_S`; the counts are printed.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.landing.readers import BadRow, FileRejected, ReadOptions, SourceRow, read_table

EXAMPLES = 250
BUDGET_S = 6.0
_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', '""', '"a,b', "\x00", "\r", "\n", ";", "\t", "é", "\ufeff", "'; --"]),
)


def _csv(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.lists(_CELL, max_size=6), min_size=1, max_size=8))
    sep = draw(st.sampled_from([",", ";", "|", "\t"]))
    text = "\n".join(sep.join(r) for r in rows)
    parts = [text.encode("utf-8", "replace"), text.encode("cp1252", "replace")]
    return b"".join(draw(st.lists(st.sampled_from(parts), min_size=1, max_size=2)))


def _json(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(0, 3_000))
    atoms = st.sampled_from(["1", "null", '"x"', "NaN", "1e999", "9" * 5_000, "{", "[", '{"a":'])
    body = draw(st.lists(atoms, max_size=6).map(",".join))
    return ("[" * depth + body + "]" * draw(st.integers(0, depth))).encode()


def _zip(draw: st.DrawFn) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        member = draw(st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "x"]))
        z.writestr(member, b"<" * draw(st.integers(0, 3 * 1024 * 1024)))
    data = out.getvalue()
    return data[: draw(st.integers(0, len(data)))]


@st.composite
def landing_file(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(["f.csv", "f.json", "f.jsonl", "f.xlsx"]))
    if draw(st.integers(0, 4)) == 0:  # one in five: content of another format, or noise
        kind = draw(st.integers(0, 3))
        return name, [draw(st.binary(max_size=300)), _csv(draw), _json(draw), _zip(draw)][kind]
    own = {"f.csv": _csv, "f.json": _json, "f.jsonl": _json, "f.xlsx": _zip}[name]
    return name, own(draw)


def test_no_landing_file_breaks_the_readers(capsys: pytest.CaptureFixture[str]) -> None:
    counts: Counter[str] = Counter()
    started = time.monotonic()
    options = ReadOptions(max_expanded_bytes=1024 * 1024)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(landing_file())
    def read(case: tuple[str, bytes]) -> None:
        if time.monotonic() - started > BUDGET_S and counts["tried"] >= 100:
            return  # the budget caps the run, never below the 100 files asserted below
        name, data = case
        counts["tried"] += 1
        try:
            table = read_table(name, data, options)
            rows = list(table.rows)
        except FileRejected as e:
            counts[f"rejected {e.reason}"] += 1
            return
        assert all(isinstance(r, SourceRow | BadRow) for r in rows)
        counts["read"] += 1
        counts["bad rows"] += sum(isinstance(r, BadRow) for r in rows)

    read()
    with capsys.disabled():
        print(f"\nfuzz landing readers: {counts['tried']} files in "
              f"{time.monotonic() - started:.1f}s, {counts['read']} read ({counts['bad rows']}"
              " bad rows), " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                                        if k.startswith("rejected")))  # fmt: skip
    assert counts["tried"] >= 100
