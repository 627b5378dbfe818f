"""The soak's figures survive a run stopped by hand: samples.csv read back gives the same table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.soak import METRICS, read_samples, tenths_table


def _write(path: Path, rows: list[tuple[float, str, float, float, float]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "service", *METRICS])
        w.writerows(rows)


def test_a_growing_service_is_found_and_the_producer_is_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "samples.csv"
    rows = [(float(t), "sink-silver", 100.0 + 2 * t, 40.0, 12.0) for t in range(100)]
    rows += [(float(t), "producer", 50.0 + 5 * t, 9.0, 4.0) for t in range(100)]
    _write(path, rows)
    samples = read_samples(path)
    assert sorted(samples) == ["producer", "sink-silver"]
    assert samples["sink-silver"][3] == (3.0, {"rss_mib": 106.0, "fds": 40.0, "threads": 12.0})
    assert tenths_table(samples, 100.0) is False
    out = capsys.readouterr().out
    medians = "109 129 149 169 189 209 229 249 269 289"  # 100 + 2t, t = 4.5, 14.5, ...
    assert f"rss_mib  per tenth: {medians}  last/fifth 1.53 GROWS" in out
    assert "fds      per tenth: 40 40 40 40 40 40 40 40 40 40  last/fifth 1.00 flat" in out


def test_flat_services_pass_whatever_the_producer_does(tmp_path: Path) -> None:
    path = tmp_path / "samples.csv"
    rows = [(float(t), "processor-1", 300.0 + (t % 3), 60.0, 20.0) for t in range(200)]
    rows += [(float(t), "producer", 50.0 + 5 * t, 9.0, 4.0) for t in range(200)]
    _write(path, rows)
    assert tenths_table(read_samples(path), 200.0) is True
