"""fewer_collections: the collector's first threshold raised for the block, restored after."""

from __future__ import annotations

import gc

import pytest

from sinks.base.collector import fewer_collections


def test_threshold_is_raised_inside_and_restored_even_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(123_456):
        assert gc.get_threshold() == (123_456, *before[1:])
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def test_a_higher_threshold_set_by_the_program_is_kept() -> None:
    before = gc.get_threshold()
    gc.set_threshold(500_000, *before[1:])
    try:
        with fewer_collections(100_000):
            assert gc.get_threshold()[0] == 500_000
    finally:
        gc.set_threshold(*before)
