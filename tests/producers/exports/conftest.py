"""Fixtures of the exporter tests: one seeded export run, shared by the module's tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from producers.exports.storage import LocalStorage
from producers.exports.writer import ExportStats, FileWriter
from producers.ledger import LedgerRecord, LedgerWriter, read_ledger
from producers.simulation import SimEvent, SimulationConfig, simulate
from producers.topics import SOURCES


@dataclass
class Export:
    root: Path
    events: list[SimEvent]
    ledger: list[LedgerRecord]
    ledger_path: Path
    stats: ExportStats
    written: list[str]
    """Keys in the order the files were finished."""

    def files(self, stem: str = "") -> list[Path]:
        """Every file (of one entity: ``erp.sales``), in key order."""
        base = self.root / "landing"
        if stem:
            base = base.joinpath(*stem.split("."))
        return sorted(p for p in base.rglob("*") if p.is_file())


def export(root: Path, n: int, seed: int = 42) -> Export:
    events = list(simulate(SimulationConfig(sources=SOURCES, seed=seed, total_events=n)))
    written: list[str] = []
    ledger_path = root.with_name(root.name + ".ledger.jsonl")
    with (
        LedgerWriter(ledger_path) as ledger,
        FileWriter(LocalStorage(root), seed, ledger, lambda k, _d: written.append(k)) as writer,
    ):
        for ev in events:
            writer.add(ev)
    return Export(root, events, list(read_ledger(ledger_path)), ledger_path, writer.stats, written)


@pytest.fixture(scope="session")
def make_export(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Export]:
    """Factory: ``make_export(n, seed=...)`` exports a fresh run into its own directory."""

    def make(n: int, seed: int = 42) -> Export:
        return export(tmp_path_factory.mktemp("export") / "out", n, seed)

    return make


@pytest.fixture(scope="session")
def exported(make_export: Callable[..., Export]) -> Export:
    """A 12 000-event run over every source with the default defect mix."""
    return make_export(12_000)
