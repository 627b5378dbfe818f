"""Per-entity rules: one small module per entity, named after it, on one shared engine.

:func:`rules_for` returns the compiled rules of a topic stem such as
``erp.sales``; every entity in the schema catalog must have a module here
(checked at start-up, so a new schema without rules stops the service).
"""

from __future__ import annotations

from functools import cache

from orion.catalog import entities
from orion.exceptions import ConfigurationError
from stream_processors.rules import (
    commissions,
    customers,
    dealers,
    expenses,
    interactions,
    inventory,
    payments,
    procurement,
    production_costs,
    sales,
    service_events,
    suppliers,
    telemetry,
    vehicles,
)
from stream_processors.rules.base import CompiledRules, EntityRules, compile_rules

__all__ = ["KEY_FIELDS", "REFERENT_STEMS", "CompiledRules", "EntityRules", "all_rules", "rules_for"]

_MODULES = (
    commissions, customers, dealers, expenses, interactions, inventory, payments, procurement,
    production_costs, sales, service_events, suppliers, telemetry, vehicles,
)  # fmt: skip
_BY_STEM: dict[str, EntityRules] = {m.RULES.stem: m.RULES for m in _MODULES}
REFERENT_STEMS: tuple[str, ...] = tuple(
    sorted({stem for r in _BY_STEM.values() for _, stem in r.refs})
)
"""Entities that something refers to: their clean topics feed the reference index."""
KEY_FIELDS: dict[str, str] = {stem: r.key_field for stem, r in _BY_STEM.items()}


@cache
def all_rules() -> dict[str, CompiledRules]:
    """Compiled rules of every catalog entity; ConfigurationError if one has none."""
    missing = sorted({e.stem for e in entities()} - set(_BY_STEM))
    if missing:
        raise ConfigurationError(
            f"no processing rules for {', '.join(missing)}",
            fix="add a module under stream_processors/rules/ for each new entity",
        )
    return {stem: compile_rules(r) for stem, r in _BY_STEM.items()}


def rules_for(stem: str) -> CompiledRules:
    return all_rules()[stem]
