"""The ground-truth ledger: one record per event the simulator produced.

Format: JSON Lines, UTF-8, one object per line, keys sorted, compact
separators (``,`` and ``:``), so the same run gives byte-identical files.
Every line has these keys:

``seq``           int, 0-based position of the event in the simulated stream
``event_id``      the envelope event_id (for poison events: an id that exists
                  only in the ledger, the bytes carry none)
``topic``         raw topic the event was sent to, e.g. ``raw.erp.sales``
``key``           Kafka message key (the business id; see producers.topics)
``defects``       list of :class:`orion.reasons.DefectKind` codes (empty or one)
``outcome``       :class:`orion.reasons.Outcome`: ACCEPT, REPAIR, REJECT, DUPLICATE
``reason``        :class:`orion.reasons.Reason` code for REJECT, else null
``duplicate_of``  for DUPLICATE, the event_id of the first copy, else null
``expected``      for ACCEPT and REPAIR, the record the clean topic must carry,
                  else null. JSON-friendly: money as strings with two decimals
                  (``"1234.50"``), dates ``"YYYY-MM-DD"``, instants as ISO-8601
                  UTC with milliseconds (``"2025-03-01T08:15:00.000Z"``),
                  enums as their symbol, optional values null, arrays as lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from orion.reasons import DefectKind, Outcome, Reason
from producers.clock import Formatter

__all__ = [
    "ExpectedParts",
    "LedgerFields",
    "LedgerRecord",
    "LedgerWriter",
    "build_expected",
    "read_ledger",
]


# What a lazily built ``expected`` is made from: business values with clean
# types, event_type, source_system, event_time ms, produced_at ms, operation
# (None for facts).
ExpectedParts = tuple[dict[str, Any], str, str, int, int, str | None]

# What :meth:`LedgerRecord.wire_fields` gives: the constructor's arguments,
# enums as their string values.
LedgerFields = tuple[
    int,
    str,
    str,
    str,
    tuple[str, ...],
    str,
    str | None,
    str | None,
    dict[str, Any] | None,
    ExpectedParts | None,
]

_FMT = Formatter()
# Enum lookups by value without a call per event (a worker rebuilds a record per event).
_DEFECTS = {d.value: d for d in DefectKind}
_OUTCOMES = {o.value: o for o in Outcome}
_REASONS = {r.value: r for r in Reason}


def build_expected(parts: ExpectedParts) -> dict[str, Any]:
    """The clean record of an ACCEPT/REPAIR event from its parts."""
    rec, event_type, source_system, t, produced, operation = parts
    event_id = ""
    t_iso = _FMT.iso(t)
    out: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "source_system": source_system,
        "event_time": t_iso,
        "produced_at": _FMT.iso(produced),
    }
    if operation is not None:
        out["updated_at"] = t_iso
        out["operation"] = operation
    out.update(rec)
    return out


class LedgerRecord:
    """Ground truth for one produced event (see the module docstring).

    Treat it as immutable. ``expected`` may be given ready-made or as
    :data:`ExpectedParts`, formatted on first access: the simulator makes one
    record per event in its hot loop, and most runs never read most of them.
    """

    __slots__ = (
        "_expected",
        "_parts",
        "defects",
        "duplicate_of",
        "event_id",
        "key",
        "outcome",
        "reason",
        "seq",
        "topic",
    )

    def __init__(
        self,
        seq: int,
        event_id: str,
        topic: str,
        key: str,
        defects: tuple[DefectKind, ...],
        outcome: Outcome,
        reason: Reason | None,
        duplicate_of: str | None,
        expected: dict[str, Any] | None,
        parts: ExpectedParts | None = None,
    ) -> None:
        self.seq = seq
        self.event_id = event_id
        self.topic = topic
        self.key = key
        self.defects = defects
        self.outcome = outcome
        self.reason = reason
        self.duplicate_of = duplicate_of
        self._expected = expected
        self._parts = parts

    @property
    def expected(self) -> dict[str, Any] | None:
        """The clean record for ACCEPT and REPAIR, else None."""
        parts = self._parts
        if parts is not None:
            exp = build_expected(parts)
            exp["event_id"] = self.event_id
            self._expected = exp
            self._parts = None
        return self._expected

    def wire_fields(self) -> LedgerFields:
        """The constructor's arguments as plain values, cheap to pickle to a worker process.

        Enums become their string values (a ledger line spells them the same
        way) and ``expected`` stays unformatted when it has not been read, so
        the worker, not the simulating process, pays for formatting it.
        """
        return (
            self.seq,
            self.event_id,
            self.topic,
            self.key,
            tuple([d.value for d in self.defects]) if self.defects else (),
            self.outcome.value,
            None if self.reason is None else self.reason.value,
            self.duplicate_of,
            self._expected,
            self._parts,
        )

    @classmethod
    def from_wire_fields(cls, fields: LedgerFields) -> LedgerRecord:
        """Inverse of :meth:`wire_fields`; its ledger line is the original's, byte for byte."""
        seq, event_id, topic, key, defects, outcome, reason, duplicate_of, expected, parts = fields
        return cls(
            seq,
            event_id,
            topic,
            key,
            tuple(_DEFECTS[d] for d in defects),
            _OUTCOMES[outcome],
            None if reason is None else _REASONS[reason],
            duplicate_of,
            expected,
            parts,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-friendly mapping written as one ledger line."""
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "topic": self.topic,
            "key": self.key,
            "defects": list(self.defects),
            "outcome": self.outcome,
            "reason": self.reason,
            "duplicate_of": self.duplicate_of,
            "expected": self.expected,
        }

    def to_json(self) -> str:
        """One ledger line, without the newline."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LedgerRecord:
        """Inverse of :meth:`to_dict`."""
        reason = d["reason"]
        return cls(
            seq=int(d["seq"]),
            event_id=str(d["event_id"]),
            topic=str(d["topic"]),
            key=str(d["key"]),
            defects=tuple(DefectKind(k) for k in d["defects"]),
            outcome=Outcome(d["outcome"]),
            reason=None if reason is None else Reason(reason),
            duplicate_of=d["duplicate_of"],
            expected=d["expected"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LedgerRecord):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LedgerRecord({self.to_dict()!r})"


class LedgerWriter:
    """Appends ledger lines to a file; use as a context manager.

    Called by the producer loop once per event it hands to Kafka. Lines are
    buffered by the file object; :meth:`close` (or leaving the ``with``)
    flushes them. If the process dies, the tail of the buffer is lost but
    every line on disk is complete.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: TextIO = self.path.open("w", encoding="utf-8", newline="\n")

    def write(self, record: LedgerRecord) -> None:
        """Write one record as one line."""
        self._fh.write(record.to_json())
        self._fh.write("\n")

    def write_lines(self, lines: list[str]) -> None:
        """Write ready-made lines (from :meth:`LedgerRecord.to_json`), in order."""
        if lines:
            self._fh.write("\n".join(lines))
            self._fh.write("\n")

    def flush(self) -> None:
        """Push buffered lines to the operating system."""
        self._fh.flush()

    def close(self) -> None:
        """Flush and close; idempotent."""
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_ledger(path: str | Path) -> Iterator[LedgerRecord]:
    """Yield the records of a ledger file in order."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield LedgerRecord.from_dict(json.loads(line))
