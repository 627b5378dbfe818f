"""``orion produce --to-files DIR`` through the command's own entry point (no service needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from producers.ledger import read_ledger


def _orion(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORION_PRODUCER_")}
    return subprocess.run(
        [sys.executable, "-m", "orionctl", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_produce_to_files_writes_the_files_the_ledger_and_a_summary(tmp_path: Path) -> None:
    out, ledger = tmp_path / "exports", tmp_path / "ledger.jsonl"
    done = _orion("produce", "--to-files", str(out), "--events", "4000", "--seed", "9",
                  "--ledger", str(ledger))  # fmt: skip
    assert done.returncode == 0, done.stderr
    for fmt in ("csv", "json", "jsonl", "xlsx"):
        assert fmt in done.stdout
    assert "events 4000" in done.stdout and "rows/s" in done.stdout
    assert f"to {out}" in done.stdout
    files = [p for p in (out / "landing").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".csv", ".json", ".jsonl", ".xlsx"}
    poison = 4000 - len(list(read_ledger(ledger)))
    assert f"poison left out {poison}" in done.stdout


def test_produce_to_files_refuses_a_rate(tmp_path: Path) -> None:
    done = _orion("produce", "--to-files", str(tmp_path), "--events", "10", "--rate", "5")
    assert done.returncode == 1
    assert "--to-files and --rate exclude each other" in done.stderr
