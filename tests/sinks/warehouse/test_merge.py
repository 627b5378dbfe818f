"""The generated merge statements' plans on a real PostgreSQL (EXPLAIN, nothing written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from sinks.warehouse import merge
from sinks.warehouse.tables import DIMENSIONS, FACTS

pytestmark = pytest.mark.integration

RE_RESOLVED = [
    (f.table, r.dim, r.column) for f in FACTS.values() for r in f.refs if DIMENSIONS[r.dim].scd == 2
]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize(("table", "dim", "column"), RE_RESOLVED)
def test_re_resolve_looks_versions_up_for_the_joined_facts_only(
    warehouse_db: str, table: str, dim: str, column: str
) -> None:
    """A lookup written with the fact's columns alone is pushed into the fact table's
    scan: one call per row of the whole table on every load that changed a key."""
    spec = DIMENSIONS[dim]
    fact = next(f for f in FACTS.values() if f.table == table)
    conn = psycopg2.connect(warehouse_db)
    try:
        with conn.cursor() as cur:
            cur.execute(merge.create_affected(spec))
            cur.execute(
                psycopg2.sql.SQL("EXPLAIN (FORMAT JSON) {}").format(
                    merge.re_resolve(fact, spec, column)
                )
            )
            row = cur.fetchone()
            assert row is not None
            plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        scans = [n for n in _nodes(plan[0]["Plan"]) if n.get("Relation Name", "").startswith(table)]
        assert scans, f"no scan of {table} in the plan"
        assert [n.get("Filter", "") for n in scans if "_key_at" in n.get("Filter", "")] == []
    finally:
        conn.rollback()
        conn.close()
