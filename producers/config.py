"""Simulation settings and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from orion.reasons import DefectKind
from producers.defects import DEFAULT_WEIGHTS
from producers.exceptions import SimulationConfigError
from producers.topics import SOURCES

__all__ = ["SimulationConfig", "validate"]


def _default_weights() -> Mapping[DefectKind, float]:
    return dict(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Same config, same events and ledger, byte for byte.

    ``defect_weights`` are relative: they are scaled so that all kinds
    together hit ``defect_rate`` of the events (kind -> weight; a kind left
    out or weighted 0 never occurs). ``events_per_day`` sets the pace of
    the business clock when ``total_events`` is None (endless mode);
    with ``total_events`` the clock is paced so the events span start..end
    and the iterator stops after exactly that many events.
    """

    sources: frozenset[str]
    seed: int = 42
    defect_rate: float = 0.10
    start: date = date(2025, 3, 1)
    end: date = date(2026, 2, 28)
    total_events: int | None = None
    defect_weights: Mapping[DefectKind, float] = field(default_factory=_default_weights)
    events_per_day: int = 2000


def validate(config: SimulationConfig) -> dict[DefectKind, float]:
    """Check a config; return the per-kind defect rates (summing to defect_rate).

    Raises SimulationConfigError with a fix for anything the simulation
    could not honour.
    """
    unknown = set(config.sources) - SOURCES
    if unknown or not config.sources:
        raise SimulationConfigError(
            f"unknown or no sources: {sorted(unknown) or 'none given'}",
            fix=f"choose one or more of {sorted(SOURCES)}",
        )
    if not 0.0 <= config.defect_rate <= 1.0:
        raise SimulationConfigError(
            f"defect_rate {config.defect_rate} is outside [0, 1]",
            fix="give the overall share of defective events, e.g. 0.10",
        )
    if config.end < config.start:
        raise SimulationConfigError(
            f"end {config.end} is before start {config.start}", fix="swap or correct the dates"
        )
    if config.total_events is not None and config.total_events < 1:
        raise SimulationConfigError(
            f"total_events {config.total_events} must be positive",
            fix="give a positive count or None for endless",
        )
    if config.events_per_day < 1:
        raise SimulationConfigError(
            f"events_per_day {config.events_per_day} must be positive", fix="e.g. 2000"
        )
    weights: dict[DefectKind, float] = {}
    for k, v in config.defect_weights.items():
        try:
            kind = DefectKind(k)
        except ValueError as e:
            raise SimulationConfigError(
                f"unknown defect kind {k!r}", fix=f"use one of {[d.value for d in DefectKind]}"
            ) from e
        if not 0.0 <= v <= 1.0:
            raise SimulationConfigError(
                f"defect weight {v} for {kind} is outside [0, 1]", fix="use a share such as 0.005"
            )
        weights[kind] = float(v)
    total = sum(weights.values())
    if total == 0.0:
        return dict.fromkeys(DefectKind, 0.0)
    return {k: config.defect_rate * weights.get(k, 0.0) / total for k in DefectKind}
