"""The rules of every entity, compiled from the catalog on one shared engine.

:func:`rules_for` returns the compiled rules of a topic stem such as
``erp.sales``. Nothing about an entity is declared here: types come from its
clean ``.avsc``, and what types cannot say (kinds, references, ranges, keys)
from that schema's ``orion.*`` attributes (see :mod:`orion.catalog`), so a
new entity or a new foreign key is an edit of the schema alone.
"""

from __future__ import annotations

from functools import cache

from orion.catalog import entities
from stream_processors.rules.base import CompiledRules, compile_rules

__all__ = ["REFERENT_STEMS", "CompiledRules", "all_rules", "rules_for"]

REFERENT_STEMS: tuple[str, ...] = tuple(
    sorted({stem for e in entities() for _, stem in e.references})
)
"""Entities that something refers to: their clean topics feed the reference index."""


@cache
def all_rules() -> dict[str, CompiledRules]:
    """Compiled rules of every catalog entity."""
    return {e.stem: compile_rules(e) for e in entities()}


def rules_for(stem: str) -> CompiledRules:
    return all_rules()[stem]
