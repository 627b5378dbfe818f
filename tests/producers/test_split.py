"""The split over producer workers: one seed, one ledger, whatever the number of workers.

No processes and no Kafka: the functions the simulating process and the
workers run (:mod:`producers.split`) are driven here as ``orion produce
--workers N`` drives them, chunk by chunk.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Callable

import pytest

from producers.events import SimEvent
from producers.ledger import LedgerRecord
from producers.split import interleave, ledger_lines, split, worker_of
from tests.producers.conftest import ledger_lines as one_process_lines


def ledger_through_workers(events: list[SimEvent], workers: int, chunk: int) -> list[str]:
    """The ledger as the worker path writes it: split, pickled, formatted per worker, merged."""
    out: list[str] = []
    for start in range(0, len(events), chunk):
        order, parts = split(events[start : start + chunk], workers)
        # What crosses the pipe: the workers see only what pickle carries.
        received = [pickle.loads(pickle.dumps(p)) for p in parts]  # noqa: S301 - our own bytes
        texts = ["\n".join(ledger_lines(p)) for p in received]
        out.extend(interleave(order, [t.split("\n") if t else [] for t in texts]))
    return out


@pytest.fixture(scope="module")
def stream(make_run: Callable[..., list[SimEvent]]) -> list[SimEvent]:
    """One run with every kind of defect, shared by the tests of this module."""
    return make_run(5000, seed=13)


@pytest.mark.parametrize(("workers", "chunk"), [(1, 1000), (2, 1000), (3, 7), (8, 333)])
def test_any_number_of_workers_gives_the_one_process_ledger_byte_for_byte(
    stream: list[SimEvent], workers: int, chunk: int
) -> None:
    assert ledger_through_workers(stream, workers, chunk) == one_process_lines(stream)


def test_the_same_seed_gives_the_same_split_and_a_key_stays_on_one_worker(
    make_run: Callable[..., list[SimEvent]], stream: list[SimEvent]
) -> None:
    first, again = stream, make_run(5000, seed=13)
    order, _ = split(first, 3)
    assert split(again, 3)[0] == order
    owner: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ev, w in zip(first, order, strict=True):
        owner[(ev.topic, ev.key)].add(w)
    assert all(len(ws) == 1 for ws in owner.values())
    assert set(order) == {0, 1, 2}, "every worker gets a share"
    # CRC-32 of "topic\0key", not the salted hash(): the same on every machine and run.
    assert [worker_of("raw.erp.sales", f"S-{i:06d}", 4) for i in range(6)] == [3, 1, 3, 1, 2, 0]
    assert worker_of("raw.erp.sales", "S-000001", 1) == 0


def test_wire_fields_rebuild_the_record_and_its_line(stream: list[SimEvent]) -> None:
    for ev in stream:
        rebuilt = LedgerRecord.from_wire_fields(ev.ledger.wire_fields())
        assert rebuilt.to_json() == ev.ledger.to_json()
        assert rebuilt == ev.ledger


def test_a_worker_that_loses_or_invents_a_line_is_caught() -> None:
    order = bytes([0, 1, 0])
    assert interleave(order, [["a", "c"], ["b"]]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="fewer"):
        interleave(order, [["a"], ["b"]])
    with pytest.raises(ValueError, match="more"):
        interleave(order, [["a", "c", "d"], ["b"]])
