"""Which dead letters `orion replay dlq` re-feeds (pure logic, no Kafka)."""

from __future__ import annotations

from types import SimpleNamespace

from orion import deadletter
from orionctl.ops.dlq_replay import DlqReplay, _matching


def _msg(*extra: tuple[str, bytes]) -> SimpleNamespace:
    headers = [(deadletter.REASON, b"RECORD_TOO_LARGE"),
               (deadletter.SOURCE_TOPIC, b"raw.erp.dealers"), *extra]  # fmt: skip
    return SimpleNamespace(headers=lambda: headers)


def test_a_dead_letter_without_its_payload_is_not_re_fed() -> None:
    """Its value is empty (too large to copy): re-publishing it would send nothing useful;
    the original is the raw record its source headers name."""
    result = DlqReplay()
    assert _matching(_msg(), None, result) == "raw.erp.dealers"
    omitted = (deadletter.PAYLOAD_OMITTED, b"1048000 value bytes omitted")
    assert _matching(_msg(omitted), None, result) is None
    assert _matching(_msg(omitted), "RECORD_TOO_LARGE", result) is None
