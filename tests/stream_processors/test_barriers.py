"""barrier_times: grouping the facts of one decision pass into a few lookup times."""

from __future__ import annotations

import random

import pytest

from stream_processors.barriers import barrier_times


@pytest.mark.parametrize("slices", [1, 8, 64])
def test_barriers_of_5000_stamps_are_late_enough_ordered_and_few(slices: int) -> None:
    rng = random.Random(slices)  # noqa: S311
    times = sorted(1_700_000_000_000 + rng.randrange(3_600_000) for _ in range(5000))
    stamps: list[int | None] = [*times]
    barriers = barrier_times(stamps, slices)
    known = [b for b in barriers if b is not None]
    assert len(known) == len(times)
    assert all(b >= t for t, b in zip(times, known, strict=True))
    assert known == sorted(known)
    assert 2 <= len(set(known)) <= slices + 1


def test_a_short_span_still_gives_at_most_slices_plus_one_barriers() -> None:
    stamps: list[int | None] = list(range(5000))
    assert len(set(barrier_times(stamps, 100))) <= 101


def test_none_stays_none_in_place() -> None:
    barriers = barrier_times([None, 10, None, 20], 4)
    assert barriers[0] is None and barriers[2] is None
    assert barriers[1] is not None and barriers[1] >= 10
    assert barriers[3] is not None and barriers[3] >= 20


def test_a_single_stamp_and_equal_stamps() -> None:
    (only,) = barrier_times([42], 16)
    assert only is not None and only >= 42
    assert len(set(barrier_times([5, 5, 5], 16))) == 1


def test_all_none_and_empty_inputs() -> None:
    assert barrier_times([None, None], 8) == [None, None]
    assert barrier_times([], 8) == []
