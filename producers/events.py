"""The simulator's public event type and its internal draft.

A source module builds a :class:`Draft` (typed, canonical business values);
the simulation turns it into a :class:`SimEvent` by adding the envelope,
maybe a defect, and the ledger record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orion.reasons import DefectKind
from producers.ledger import LedgerRecord
from producers.topics import TopicSpec

__all__ = ["Draft", "SimEvent"]


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One message for the producer loop to send.

    ``value`` is valid against ``schemas/avro/raw/<stem>.avsc``; when
    ``poison`` is set, ``value`` is None and the producer sends these bytes
    as the message value instead of Avro.
    """

    topic: str
    key: str
    value: dict[str, Any] | None
    poison: bytes | None
    ledger: LedgerRecord


@dataclass(slots=True)
class Draft:
    """An event before envelope and defects.

    ``rec`` holds the canonical business values with their clean types
    (ints, floats, money as ``"1234.50"``, dates as ``"YYYY-MM-DD"``); it is
    never mutated after it is built, so master records can share it.
    ``on_done`` is called with True when the event will reach the clean
    topic (ACCEPT or REPAIR) and returns follow-up drafts.
    """

    spec: TopicSpec
    rec: dict[str, Any]
    event_type: str
    t: int
    key: str
    operation: str | None = None
    allow_reject: bool = True
    preset: DefectKind | None = None
    on_done: Callable[[bool], list[Draft]] | None = None
