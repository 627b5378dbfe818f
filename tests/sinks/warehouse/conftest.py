"""Fixtures of the loader tests: migrated throwaway databases, clean topics, publishing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orion.settings import OrionSettings
from tests.warehouse_sql.support import fresh_database, migrated


@pytest.fixture
def warehouse_db(settings: OrionSettings) -> Iterator[str]:
    """DSN of a new database with every migration applied."""
    with fresh_database(settings) as dsn:
        yield migrated(dsn)
