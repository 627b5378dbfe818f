"""Fixtures of the warehouse schema tests: a migrated database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orion.settings import OrionSettings
from tests.warehouse_sql.support import fresh_database, migrated


@pytest.fixture
def empty_db(settings: OrionSettings) -> Iterator[str]:
    """DSN of a new, empty database (dropped after the test)."""
    with fresh_database(settings) as dsn:
        yield dsn


@pytest.fixture
def warehouse_db(settings: OrionSettings) -> Iterator[str]:
    """DSN of a new database with every migration applied."""
    with fresh_database(settings) as dsn:
        yield migrated(dsn)
