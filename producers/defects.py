"""Defect injection: what sloppy sources do to events, and what must follow.

Each defect is one :class:`orion.reasons.DefectKind`; at most one per event.
The ledger records the outcome the pipeline must reach:

================== ========= ====================== =================================
kind               outcome   reason                 what the source sent
================== ========= ====================== =================================
NULL_REQUIRED      REJECT    MISSING_REQUIRED_FIELD a required field as null
GARBAGE_SUFFIX     REPAIR    -                      "??" appended to a free-text field
CURRENCY_FORMAT    REPAIR    -                      "R 1 234,50", "R1234.50", "ZAR 1,234.50"
CURRENCY_GARBAGE   REJECT    UNPARSEABLE_NUMBER     "abc", "N/A", "R ???", "twelve thousand"
NEGATIVE_AMOUNT    REJECT    NEGATIVE_AMOUNT        -5000.00 (payments), -10000.00
                                                    (procurement), else the amount negated
IMPLAUSIBLE_AMOUNT REJECT    IMPLAUSIBLE_AMOUNT     amount x100 when that exceeds the
                                                    ceiling, else 99999999.00
OUT_OF_RANGE       REJECT    OUT_OF_RANGE           speed -50/9999, fuel 150/-5, engine
                                                    temp -80/300/999, model year -2025/0
                   REJECT    MISSING_REQUIRED_FIELD fuel level null (the seed's case)
IMPOSSIBLE_DATE    REJECT    INVALID_DATE           "31-02-2025", "2025-02-30", "2025-13-01"
DATE_FORMAT        REPAIR    -                      "2025/03/07", "07-03-2025", "07/03/2025",
                                                    "07-03-2025 14:00",
                                                    "2025-03-07T14:00:00+02:00"
INVALID_EMAIL      REJECT    INVALID_EMAIL          no @, @@, nothing after @, no TLD, space
INVALID_PHONE      REJECT    INVALID_PHONE          "12345", "+27 82 12", "n/a", "0000000000"
VIN_FORMAT         REPAIR    -                      VIN + "X"/"XX"/"XXX", " VIN ", lower case
VIN_INVALID        REJECT    INVALID_VIN            VIN cut to 10-16 chars, wrong check digit
ORPHAN_REFERENCE   REJECT    UNKNOWN_REFERENCE      a foreign key no entity ever has
EXACT_RESEND       DUPLICATE -                      an earlier event again, same event_id
BUSINESS_DUPLICATE DUPLICATE -                      an earlier event's content, new event_id
LATE_ARRIVAL       ACCEPT    -                      event_time 1-48 h before the stream's
OUT_OF_ORDER       ACCEPT    -                      an older master change after a newer one
POISON             REJECT    NOT_WIRE_FORMAT        JSON, CSV or binary junk, not Avro
================== ========= ====================== =================================

Repair rules (the expected clean value is always the value before the defect):

* text: strip a trailing "??".
* money: drop "R"/"ZAR" and all whitespace; with both "," and "." the commas
  are thousands separators, with only "," it is the decimal separator; the
  result is ``\\d+(\\.\\d{1,2})?``. Negative is NEGATIVE_AMOUNT; above
  R 20 000 000.00 is IMPLAUSIBLE_AMOUNT.
* dates: ``YYYY/MM/DD``; ``DD-MM-YYYY`` and ``DD/MM/YYYY`` are always day
  first; a time or ``+02:00`` offset after the date is dropped (the date as
  written, South African time). A date that cannot exist is INVALID_DATE.
* VIN: strip whitespace, upper-case, cut a run of trailing X beyond 17
  characters; then it must be 17 characters with a valid check digit.

Validity rules for the rejects: e-mail ``[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}``;
phone, after removing spaces and hyphens, ``(\\+27|0)[1-8]\\d{8}``; ranges
speed 0-350, fuel 0-100, engine temp -50-250, model year 1980-2100.

Reject defects are never put on the first version of a dealer, supplier or
vehicle, nor on a DELETE, so every reference in the stream can resolve.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Protocol

from orion.reasons import DefectKind, Outcome, Reason
from producers.events import Draft
from producers.topics import RefKind, TopicSpec

__all__ = [
    "DEFAULT_WEIGHTS",
    "FIELD_KINDS",
    "IMPLAUSIBLE_CEILING_CENTS",
    "REPAIR_KINDS",
    "DefectInjector",
    "OrphanSource",
]

K = DefectKind
DEFAULT_WEIGHTS: Mapping[DefectKind, float] = {
    K.NULL_REQUIRED: 0.015,
    K.GARBAGE_SUFFIX: 0.010,
    K.CURRENCY_FORMAT: 0.008,
    K.CURRENCY_GARBAGE: 0.004,
    K.NEGATIVE_AMOUNT: 0.006,
    K.IMPLAUSIBLE_AMOUNT: 0.006,
    K.OUT_OF_RANGE: 0.008,
    K.IMPOSSIBLE_DATE: 0.004,
    K.DATE_FORMAT: 0.006,
    K.INVALID_EMAIL: 0.003,
    K.INVALID_PHONE: 0.003,
    K.VIN_FORMAT: 0.003,
    K.VIN_INVALID: 0.003,
    K.ORPHAN_REFERENCE: 0.005,
    K.EXACT_RESEND: 0.005,
    K.BUSINESS_DUPLICATE: 0.005,
    K.LATE_ARRIVAL: 0.003,
    K.OUT_OF_ORDER: 0.002,
    K.POISON: 0.001,
}
"""Relative weights; scaled so they sum to ``SimulationConfig.defect_rate``."""

REPAIR_KINDS = frozenset({K.GARBAGE_SUFFIX, K.CURRENCY_FORMAT, K.DATE_FORMAT, K.VIN_FORMAT})
FIELD_KINDS: tuple[DefectKind, ...] = (
    K.NULL_REQUIRED,
    K.GARBAGE_SUFFIX,
    K.CURRENCY_FORMAT,
    K.CURRENCY_GARBAGE,
    K.NEGATIVE_AMOUNT,
    K.IMPLAUSIBLE_AMOUNT,
    K.OUT_OF_RANGE,
    K.IMPOSSIBLE_DATE,
    K.DATE_FORMAT,
    K.INVALID_EMAIL,
    K.INVALID_PHONE,
    K.VIN_FORMAT,
    K.VIN_INVALID,
    K.ORPHAN_REFERENCE,
)
IMPLAUSIBLE_CEILING_CENTS = 2_000_000_000
_MAX_OWED = 64
_REJECT_REASON = {
    K.NULL_REQUIRED: Reason.MISSING_REQUIRED_FIELD,
    K.CURRENCY_GARBAGE: Reason.UNPARSEABLE_NUMBER,
    K.NEGATIVE_AMOUNT: Reason.NEGATIVE_AMOUNT,
    K.IMPLAUSIBLE_AMOUNT: Reason.IMPLAUSIBLE_AMOUNT,
    K.OUT_OF_RANGE: Reason.OUT_OF_RANGE,
    K.IMPOSSIBLE_DATE: Reason.INVALID_DATE,
    K.INVALID_EMAIL: Reason.INVALID_EMAIL,
    K.INVALID_PHONE: Reason.INVALID_PHONE,
    K.VIN_INVALID: Reason.INVALID_VIN,
    K.ORPHAN_REFERENCE: Reason.UNKNOWN_REFERENCE,
}
_GARBAGE_MONEY = ("abc", "N/A", "R ???", "twelve thousand", "-", "1.2.3")
_BAD_PHONES = ("12345", "+27 82 12", "n/a", "0000000000", "+1 555 0100", "phone")


def _cents(money: str) -> int:
    rands, _, cents = money.partition(".")
    return int(rands) * 100 + int(cents or 0)


def _fmt_cents(c: int) -> str:
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def _spaced(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


class OrphanSource(Protocol):
    """Hands out foreign keys that no entity will ever have (see world.World)."""

    def orphan(self, kind: RefKind) -> str:
        """A well-formed id of ``kind`` that is never given to an entity."""


class DefectInjector:
    """Chooses and applies field defects at the configured per-kind rates.

    The simulation draws whether a new event gets a field defect and calls
    :meth:`choose` and :meth:`apply` for those that do (duplicates, poison
    and timing defects it decides itself). A kind that does
    not fit the event (an e-mail defect on telemetry) is owed and paid on a
    later event it fits, so the realised mix follows the configured one.
    """

    def __init__(
        self,
        rng: random.Random,
        orphans: OrphanSource,
        rates: Mapping[DefectKind, float],
    ) -> None:
        self._rng = rng
        self._orphans = orphans
        self._kinds = [k for k in FIELD_KINDS if rates.get(k, 0.0) > 0]
        self._weights = [rates[k] for k in self._kinds]
        self._owed: dict[DefectKind, int] = dict.fromkeys(self._kinds, 0)
        self._fits: dict[tuple[str, bool], list[DefectKind]] = {}

    def choose(self, draft: Draft, raw: dict[str, Any]) -> DefectKind | None:
        """Pick the defect for an event the caller chose to corrupt (None: none fits)."""
        rng = self._rng
        if not self._kinds:
            return None
        fits = self._structural(draft.spec, draft.allow_reject)
        owed = self._owed
        for k in sorted(fits, key=lambda k: -owed[k]):
            if not owed[k]:
                break
            if self._fields(k, draft.spec, raw):
                owed[k] -= 1
                return k
        kind = rng.choices(self._kinds, self._weights)[0]
        if kind in fits and self._fields(kind, draft.spec, raw):
            return kind
        self._owed[kind] = min(self._owed[kind] + 1, _MAX_OWED)
        usable = [k for k in fits if self._fields(k, draft.spec, raw)]
        if not usable:
            return None
        return rng.choices(usable, [self._weights[self._kinds.index(k)] for k in usable])[0]

    def _structural(self, spec: TopicSpec, allow_reject: bool) -> list[DefectKind]:
        key = (spec.topic, allow_reject)
        fits = self._fits.get(key)
        if fits is None:
            fits = [
                k
                for k in self._kinds
                if (allow_reject or k in REPAIR_KINDS) and self._fields(k, spec, None)
            ]
            self._fits[key] = fits
        return fits

    @staticmethod
    def _fields(kind: DefectKind, spec: TopicSpec, raw: dict[str, Any] | None) -> list[str]:
        """Fields of this event the kind can hit (raw None: structurally)."""
        if kind is K.NULL_REQUIRED:
            names: tuple[str, ...] = spec.required
        elif kind is K.GARBAGE_SUFFIX:
            names = spec.text
        elif kind in (K.CURRENCY_FORMAT, K.CURRENCY_GARBAGE, K.IMPLAUSIBLE_AMOUNT):
            names = spec.money
        elif kind is K.NEGATIVE_AMOUNT:
            names = spec.money
            if raw is not None:
                return [f for f in names if raw[f] is not None and _cents(raw[f]) > 0]
        elif kind is K.OUT_OF_RANGE:
            names = tuple(f for f, _ in spec.ranges)
        elif kind in (K.IMPOSSIBLE_DATE, K.DATE_FORMAT):
            names = spec.dates
        elif kind is K.INVALID_EMAIL:
            names = spec.emails
        elif kind is K.INVALID_PHONE:
            names = spec.phones
        elif kind in (K.VIN_FORMAT, K.VIN_INVALID):
            names = spec.vins
        elif kind is K.ORPHAN_REFERENCE:
            names = tuple(f for f, _ in spec.refs)
        else:
            names = ()
        if raw is None:
            return list(names)
        return [f for f in names if raw[f] is not None]

    def apply(
        self, kind: DefectKind, draft: Draft, raw: dict[str, Any]
    ) -> tuple[Outcome, Reason | None, str]:
        """Corrupt ``raw`` in place; return outcome, reason and the message key."""
        rng = self._rng
        spec = draft.spec
        field = rng.choice(self._fields(kind, spec, raw))
        value = raw[field]
        key = draft.key
        reason = _REJECT_REASON.get(kind)
        if kind is K.NULL_REQUIRED:
            raw[field] = None
        elif kind is K.GARBAGE_SUFFIX:
            raw[field] = value + "??"
        elif kind is K.CURRENCY_FORMAT:
            c = _cents(value)
            rands, cc = divmod(c, 100)
            raw[field] = rng.choice(
                (
                    f"R {_spaced(rands, ' ')},{cc:02d}",
                    f"R{rands}.{cc:02d}",
                    f"ZAR {_spaced(rands, ',')}.{cc:02d}",
                )
            )
        elif kind is K.CURRENCY_GARBAGE:
            raw[field] = rng.choice(_GARBAGE_MONEY)
        elif kind is K.NEGATIVE_AMOUNT:
            if spec.stem == "finance.payments":
                raw[field] = "-5000.00"
            elif spec.stem == "supplier.procurement":
                raw[field] = "-10000.00"
            else:
                raw[field] = "-" + value
        elif kind is K.IMPLAUSIBLE_AMOUNT:
            big = _cents(value) * 100
            raw[field] = _fmt_cents(big) if big > IMPLAUSIBLE_CEILING_CENTS else "99999999.00"
        elif kind is K.OUT_OF_RANGE:
            bad = rng.choice(dict(spec.ranges)[field])
            raw[field] = bad
            if bad is None:
                reason = Reason.MISSING_REQUIRED_FIELD
        elif kind is K.IMPOSSIBLE_DATE:
            y = value[:4]
            raw[field] = rng.choice((f"31-02-{y}", f"{y}-02-30", f"31-04-{y}", f"{y}-13-01"))
        elif kind is K.DATE_FORMAT:
            y, m, d = value[:4], value[5:7], value[8:10]
            hh = rng.randrange(8, 18)
            raw[field] = rng.choice(
                (
                    f"{y}/{m}/{d}",
                    f"{d}-{m}-{y}",
                    f"{d}/{m}/{y}",
                    f"{d}-{m}-{y} {hh:02d}:00",
                    f"{y}-{m}-{d}T{hh:02d}:{rng.randrange(60):02d}:00+02:00",
                )
            )
        elif kind is K.INVALID_EMAIL:
            local, _, domain = value.partition("@")
            raw[field] = rng.choice(
                (
                    f"{local}.{domain}",
                    f"{local}@@{domain}",
                    f"{local}@",
                    f"{local}@{domain.split('.')[0]}",
                    f"{local} @{domain}",
                )
            )
        elif kind is K.INVALID_PHONE:
            raw[field] = rng.choice(_BAD_PHONES)
        elif kind is K.VIN_FORMAT:
            padded = value + "X" * rng.randrange(1, 4)
            raw[field] = rng.choice((padded, f" {value}  ", value.lower()))
        elif kind is K.VIN_INVALID:
            if rng.random() < 0.5:
                raw[field] = value[: rng.randrange(10, 17)]
            else:
                wrong = rng.choice([c for c in "0123456789X" if c != value[8]])
                raw[field] = value[:8] + wrong + value[9:]
        elif kind is K.ORPHAN_REFERENCE:
            orphan = self._orphans.orphan(dict(spec.refs)[field])
            raw[field] = orphan
            if field == spec.key_field:
                key = orphan
        outcome = Outcome.REPAIR if kind in REPAIR_KINDS else Outcome.REJECT
        return outcome, (None if outcome is Outcome.REPAIR else reason), key
