"""Fewer garbage collections while a sink runs: its records are acyclic and die by refcount.

A sink holds up to ``max_bytes`` of records per partition (tens of thousands
of tuples each), and CPython's default young-generation threshold (700
allocations) runs a collection every few hundred records, with a full one
each time the survivors grew by a quarter: py-spy charged about a fifth of
the bronze sink's time to the lines that happened to trigger them. Raising
the first threshold keeps cycle collection (rare cycles are still found)
while the records themselves are freed by reference counting as always.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections"]

#: young-generation threshold while a sink runs (CPython's default is 700)
SINK_THRESHOLD = 100_000


@contextmanager
def fewer_collections(threshold: int = SINK_THRESHOLD) -> Iterator[None]:
    """Raise the collector's first threshold for the block; restore the previous ones after.

    Process-wide: for a sink's own process (``orion sink ...``), not for a
    library call inside someone else's program that tuned its collector.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
