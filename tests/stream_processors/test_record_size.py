"""Records near the producer's size limit are dead-lettered, and every dead letter fits.

Found by the fuzz test: a raw record near the broker's limit made its clean
twin or its dead letter too large to produce; ``MSG_SIZE_TOO_LARGE`` inside
the transaction aborted the batch, and every retry failed the same way. The
processor's logic is run here without Kafka (a registry in memory, a
reference tracker that knows every referent); the real limit is the
integration test's (``test_fuzz_hostile.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from orion import deadletter
from orion.reasons import Reason
from stream_processors.barriers import BarrierLookup
from stream_processors.pipeline import Pipeline
from stream_processors.processor import OutHeaders, Processor
from stream_processors.record_size import HEADROOM, MAX_RECORD_BYTES, raw_fits, wire_size
from stream_processors.references import ReferenceTracker
from stream_processors.state import DedupTable, PartitionState, RocksStore
from tests.stream_processors.hostile import MemoryRegistry, base_events, encode

Out = tuple[str, bytes | None, bytes, dict[str, bytes]]


@pytest.fixture(scope="module")
def dealer() -> tuple[Pipeline, int, str, dict[str, Any]]:
    registry = MemoryRegistry()
    pipeline = Pipeline(registry, "")
    key, value = base_events(per_stem=1)["erp.dealers"][0]
    return pipeline, registry.raw_ids()["erp.dealers"], key, value


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PartitionState]:
    s = PartitionState(0, DedupTable(RocksStore(tmp_path / "p0", memory_mib=4), window_ms=10**9))
    yield s
    s.dedup.close()


def _run(pipeline: Pipeline, state: PartitionState, key: bytes, value: bytes) -> list[Out]:
    tracker = SimpleNamespace(exists=lambda stem, key: True, epoch=0, arrived=deque())
    processor = Processor(pipeline, "", ["erp.dealers"], 1, cast(ReferenceTracker, tracker),
                          cast(BarrierLookup, None))  # fmt: skip
    out: list[Out] = []

    def emit(topic: str, p: int, k: bytes | None, v: bytes, headers: OutHeaders | None) -> None:
        assert wire_size(k, v, headers) <= MAX_RECORD_BYTES, f"{topic}: too large to produce"
        out.append((topic, k, v, {h: x for h, x in headers or () if isinstance(x, bytes)}))

    processor.handle(state, emit, "erp.dealers", 7, 1_700_000_000_000, key, value, None)
    return out


def test_a_raw_record_without_headroom_is_dead_lettered_without_its_payload(
    dealer: tuple[Pipeline, int, str, dict[str, Any]], state: PartitionState
) -> None:
    pipeline, schema_id, key, record = dealer
    value = encode(schema_id, "erp.dealers", {**record, "dealer_name": "x" * MAX_RECORD_BYTES})
    assert not raw_fits(key.encode(), value)
    [(topic, k, v, headers)] = _run(pipeline, state, key.encode(), value)
    assert topic == "dlq.erp.dealers"
    assert headers[deadletter.REASON] == Reason.RECORD_TOO_LARGE.value.encode()
    assert v == b"" and k == key.encode()
    assert headers[deadletter.PAYLOAD_OMITTED] == f"{len(value)} value bytes omitted".encode()
    assert headers[deadletter.SOURCE_OFFSET] == b"7"


def test_a_raw_key_too_large_for_any_record_is_omitted_too(
    dealer: tuple[Pipeline, int, str, dict[str, Any]], state: PartitionState
) -> None:
    pipeline, schema_id, _, record = dealer
    value = encode(schema_id, "erp.dealers", record)
    [(topic, k, v, headers)] = _run(pipeline, state, b"k" * MAX_RECORD_BYTES, value)
    assert (topic, k, v) == ("dlq.erp.dealers", None, b"")
    assert b"key bytes" in headers[deadletter.PAYLOAD_OMITTED]


def test_a_clean_record_that_would_not_fit_is_dead_lettered_with_the_raw_bytes(
    dealer: tuple[Pipeline, int, str, dict[str, Any]], state: PartitionState
) -> None:
    """The repaired partition key is the clean record's Kafka key and one of its fields: a
    long id under a short raw key makes the clean record twice the raw one."""
    pipeline, schema_id, key, record = dealer
    dealer_id = "D" * (MAX_RECORD_BYTES - HEADROOM - 2_000)
    value = encode(schema_id, "erp.dealers", {**record, "dealer_id": dealer_id})
    assert raw_fits(key.encode(), value)
    [(topic, _, v, headers)] = _run(pipeline, state, key.encode(), value)
    assert topic == "dlq.erp.dealers"
    assert headers[deadletter.REASON] == Reason.RECORD_TOO_LARGE.value.encode()
    assert headers[deadletter.RULE] == b"clean.size"
    assert v == value and deadletter.PAYLOAD_OMITTED not in headers


def test_a_large_record_that_fits_goes_clean(
    dealer: tuple[Pipeline, int, str, dict[str, Any]], state: PartitionState
) -> None:
    pipeline, schema_id, key, record = dealer
    value = encode(schema_id, "erp.dealers", {**record, "street": "x" * 900_000})
    [(topic, _, v, _)] = _run(pipeline, state, key.encode(), value)
    assert topic == "clean.erp.dealers" and len(v) > 900_000
