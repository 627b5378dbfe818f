"""A busy group coordinator is asked again; anything else fails at once (no I/O)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from orion.exceptions import ServiceUnavailableError
from orionctl.ops import offsets

KAFKA = {"bootstrap.servers": "127.0.0.1:1"}


def _answers(*outcomes: Any) -> tuple[list[int], Any]:
    calls: list[int] = []

    def submit() -> Future[Any]:
        calls.append(1)
        f: Future[Any] = Future()
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(outcome, KafkaError):
            f.set_exception(KafkaException(outcome))
        else:
            f.set_result(outcome)
        return f

    return calls, submit


def test_coordinator_loading_after_a_restart_is_asked_again() -> None:
    loading = KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS)
    calls, submit = _answers(loading, loading, "offsets")
    assert offsets._ask_coordinator(submit, "reading offsets of g", KAFKA) == "offsets"
    assert len(calls) == 3


def test_a_non_retriable_error_fails_at_once_and_names_the_broker() -> None:
    calls, submit = _answers(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED))
    failed = r"reading offsets of g failed on 127\.0\.0\.1:1"
    with pytest.raises(ServiceUnavailableError, match=failed):
        offsets._ask_coordinator(submit, "reading offsets of g", KAFKA)
    assert len(calls) == 1


def test_a_coordinator_busy_for_longer_than_the_timeout_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offsets, "TIMEOUT_S", 1.2)
    calls, submit = _answers(KafkaError(KafkaError.NOT_COORDINATOR))
    with pytest.raises(ServiceUnavailableError, match="NOT_COORDINATOR"):
        offsets._ask_coordinator(submit, "describing g", KAFKA)
    assert 2 <= len(calls) <= 4


def test_a_leader_election_while_listing_offsets_is_asked_again() -> None:
    electing = [KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION),
                KafkaError(KafkaError.LEADER_NOT_AVAILABLE)]  # fmt: skip
    calls: list[int] = []

    def ask() -> dict[tuple[str, int], int]:
        calls.append(1)
        if len(calls) <= len(electing):
            raise KafkaException(electing[len(calls) - 1])
        return {("t", 0): 42}

    assert offsets._ask_again(ask, "listing offsets", KAFKA) == {("t", 0): 42}
    assert len(calls) == 3
