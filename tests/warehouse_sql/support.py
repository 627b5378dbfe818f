"""Test support for the warehouse: throwaway databases and clean records from the ledger.

Every test module that needs a warehouse gets a database of its own (CREATE
DATABASE on the stack's PostgreSQL, dropped after), so tests never see each
other's rows and never touch the shared ``warehouse`` database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg2
from psycopg2 import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from orion.database_url import with_database
from orion.settings import OrionSettings
from producers.simulation import SimulationConfig, simulate
from sinks.warehouse.tables import columns

ALL_SOURCES = frozenset({"erp", "crm", "finance", "supplier", "iot"})


def dsn_for(settings: OrionSettings, database: str) -> str:
    return with_database(settings.database_dsn, database)


def reaching(settings: OrionSettings, dsn: str) -> OrionSettings:
    """The settings with every role's login pointed at ``dsn``'s server and database.

    For a sink under test that must load into ``dsn`` (a test's database, a
    fault-injecting proxy in front of the server) as its own role.
    """
    target = make_url(dsn)
    update = {"database_url": SecretStr(dsn)}
    for field in ("loader_database_url", "analyst_database_url"):
        value = getattr(settings, field)
        if value is not None:
            own = make_url(value.get_secret_value())
            moved = target.set(username=own.username, password=own.password)
            update[field] = SecretStr(moved.render_as_string(hide_password=False))
    return settings.model_copy(update=update)


@contextmanager
def fresh_database(settings: OrionSettings, prefix: str = "wh_test_") -> Iterator[str]:
    """A new empty database on the stack's server; yields its DSN, drops it after."""
    name = prefix + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(settings.database_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield dsn_for(settings, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


def to_clean(stem: str, expected: dict[str, Any]) -> dict[str, Any]:
    """A ledger ``expected`` dict (JSON-friendly) as the Avro record of the clean topic."""
    out: dict[str, Any] = {}
    for col in columns(stem):
        v = expected.get(col.name)
        if v is None:
            out[col.name] = None
        elif col.kind == "timestamptz":
            out[col.name] = dt.datetime.fromisoformat(v)
        elif col.kind == "date":
            out[col.name] = dt.date.fromisoformat(v)
        elif col.kind == "numeric":
            out[col.name] = Decimal(v)
        elif col.kind == "double precision":
            out[col.name] = float(v)
        elif col.kind in ("integer", "bigint"):
            out[col.name] = int(v)
        elif col.kind == "text[]":
            out[col.name] = list(v)
        else:
            out[col.name] = v
    return out


def clean_events(
    seed: int, total: int, days: int | None = None
) -> list[tuple[str, str, dict[str, Any]]]:
    """(stem, key, ledger expected) of every ACCEPT/REPAIR event of a simulator run, in order.

    ``days`` squeezes the run into that many business days from the default start
    (the default spans a year, so few events share a day).
    """
    out = []
    config = SimulationConfig(sources=ALL_SOURCES, seed=seed, total_events=total)
    if days is not None:
        config = dataclasses.replace(config, end=config.start + dt.timedelta(days=days - 1))
    for ev in simulate(config):
        led = ev.ledger
        if led.outcome in ("ACCEPT", "REPAIR"):
            exp = led.expected
            assert exp is not None
            out.append((led.topic.removeprefix("raw."), led.key, exp))
    return out


def cli_entry() -> list[str]:
    """The ``orion`` command, through its own entry point."""
    import sys

    return [sys.executable, "-m", "orionctl"]


def migrated(dsn: str) -> str:
    from sinks.warehouse.migrations import migrate

    migrate(dsn)
    return dsn


def load_sample(dsn: str, total: int = 4000, seed: int = 9) -> None:
    """A small simulator run's clean records through the real writer, in one batch."""
    from sinks.warehouse.load import Item, Load
    from sinks.warehouse.writer import WarehouseWriter

    writer = WarehouseWriter(dsn)
    b = Load()
    for i, (stem, _key, exp) in enumerate(clean_events(seed=seed, total=total)):
        b.items.append(Item(stem, "clean." + stem, 0, i, to_clean(stem, exp)))
        b.advance("clean." + stem, 0, i)
    writer.write(b)
    writer.close()
