"""The landing zone's contract: row ids and where decided files go."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from orion.landing import RowIds, decided_key, row_event_id


def test_row_ids_are_uuid5_of_hash_and_index_and_the_fast_path_agrees() -> None:
    sha = "AB" * 32
    ids = RowIds(sha)
    for i in (0, 1, 9, 10, 12345, 10**9):
        want = row_event_id(sha, i)
        assert ids(i) == want
        assert uuid.UUID(want).version == 5
    assert row_event_id(sha, 0) != row_event_id(sha, 1) != row_event_id("cd" * 32, 1)


def test_decided_files_keep_their_path_under_verdict_and_day() -> None:
    got = decided_key("landing/erp/sales/a.csv", "processed/", date(2025, 3, 1))
    assert got == "processed/2025-03-01/erp/sales/a.csv"
    with pytest.raises(ValueError, match="not under"):
        decided_key("elsewhere/a.csv", "processed/", date(2025, 3, 1))
