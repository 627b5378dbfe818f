"""The shared vocabularies of data quality: rejection reasons, defect kinds, outcomes.

The simulators (``producers``) write these codes into the ground-truth ledger;
the stream processors write the same :class:`Reason` codes into DLQ headers
and metrics. Comparing the two is how a run is scored, so both sides import
this one module and never spell a code as a bare string.

Values equal names, so ``Reason("INVALID_VIN")`` and ``json.dumps`` both work.

A rejected event is dead-lettered once. An exact re-send of it (same
event_id and content, e.g. a window replayed from the bronze archive) or a
business duplicate of it is a duplicate, dropped like a duplicate of an
accepted event (``orion_processor_duplicates_total{kind="rejected"}``), so a
replay neither doubles the dead letters nor fires the dead-letter alert. A
record ``orion replay dlq`` re-fed carries ``orion.replayed.from`` and is
judged again: accepted if the rules now pass it, dead-lettered again if not.
Bytes that do not decode (NOT_WIRE_FORMAT, UNKNOWN_SCHEMA, UNDECODABLE) have
no event identity and are dead-lettered each time they come.
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["DefectKind", "Outcome", "Reason"]


@unique
class Reason(StrEnum):
    """Why a record was rejected (sent to the DLQ) instead of published clean."""

    NOT_WIRE_FORMAT = "NOT_WIRE_FORMAT"
    """The bytes are not Confluent wire format (no 0x00 magic byte + 4-byte schema id)."""
    UNKNOWN_SCHEMA = "UNKNOWN_SCHEMA"
    """The schema id in the wire header is not known to the registry."""
    UNDECODABLE = "UNDECODABLE"
    """Wire header fine, but the Avro body does not decode with the writer schema."""
    MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
    """A field the clean schema requires is null or empty."""
    GARBAGE_VALUE = "GARBAGE_VALUE"
    """A text value is garbage that no rule can repair."""
    UNPARSEABLE_NUMBER = "UNPARSEABLE_NUMBER"
    """A number or money value cannot be parsed (e.g. "abc", "N/A")."""
    NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
    """A money amount is below zero."""
    IMPLAUSIBLE_AMOUNT = "IMPLAUSIBLE_AMOUNT"
    """A money amount parses but exceeds the plausibility ceiling (R 20 000 000.00)."""
    OUT_OF_RANGE = "OUT_OF_RANGE"
    """A measurement or year lies outside its physical or business range."""
    INVALID_DATE = "INVALID_DATE"
    """A date is impossible (e.g. 31-02-2025) or in no accepted format."""
    INVALID_EMAIL = "INVALID_EMAIL"
    """An e-mail address is not of the form local@domain.tld."""
    INVALID_PHONE = "INVALID_PHONE"
    """A phone number is not a South African number (+27 or 0, then 9 digits)."""
    INVALID_VIN = "INVALID_VIN"
    """A VIN is not 17 valid characters or its ISO 3779 check digit is wrong."""
    INVALID_ENUM = "INVALID_ENUM"
    """A value is not one of the symbols of its closed vocabulary."""
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    """A foreign key names a dealer, customer, vehicle, supplier or sale that does not exist.

    Decided once the referenced topics are processed past everything produced up to
    ``orion process --reference-grace`` (default 5 s) after the fact."""
    INCONSISTENT_VALUES = "INCONSISTENT_VALUES"
    """Fields contradict each other (e.g. final_price != sale_price - discount_amount)."""
    RECORD_TOO_LARGE = "RECORD_TOO_LARGE"
    """The record, or what the processor would write for it, exceeds the largest record its
    producer may write (``stream_processors/record_size.py``); its dead letter may carry no
    payload (header ``orion.payload.omitted``): the original stays in the raw topic."""


@unique
class DefectKind(StrEnum):
    """What the simulator did to an event; the ledger lists these per event."""

    NULL_REQUIRED = "NULL_REQUIRED"
    """A required business field was sent as null."""
    GARBAGE_SUFFIX = "GARBAGE_SUFFIX"
    """"??" was appended to a free-text field (repairable: strip it)."""
    CURRENCY_FORMAT = "CURRENCY_FORMAT"
    """A money value in a local format such as "R 1 234,50" (repairable, exact)."""
    CURRENCY_GARBAGE = "CURRENCY_GARBAGE"
    """A money value that is no number at all, e.g. "abc"."""
    NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
    """A money value made negative (e.g. -5000.00, -10000.00)."""
    IMPLAUSIBLE_AMOUNT = "IMPLAUSIBLE_AMOUNT"
    """A money value multiplied by 100 or replaced by 99999999.00."""
    OUT_OF_RANGE = "OUT_OF_RANGE"
    """A telemetry reading or model year outside its range (speed 9999, fuel null...)."""
    IMPOSSIBLE_DATE = "IMPOSSIBLE_DATE"
    """A date that cannot exist, e.g. "31-02-2025"."""
    DATE_FORMAT = "DATE_FORMAT"
    """A real date in another format, e.g. "2025/03/07" (repairable, exact)."""
    INVALID_EMAIL = "INVALID_EMAIL"
    """An e-mail address without @, with @@, or without a domain suffix."""
    INVALID_PHONE = "INVALID_PHONE"
    """A phone number that is too short or not digits."""
    VIN_FORMAT = "VIN_FORMAT"
    """A correct VIN padded with X, wrapped in spaces or in lower case (repairable)."""
    VIN_INVALID = "VIN_INVALID"
    """A VIN cut short or with a wrong check digit."""
    ORPHAN_REFERENCE = "ORPHAN_REFERENCE"
    """A foreign key replaced by an id that never exists in the simulated world."""
    EXACT_RESEND = "EXACT_RESEND"
    """An earlier event sent again: same event_id, same bytes."""
    BUSINESS_DUPLICATE = "BUSINESS_DUPLICATE"
    """An earlier event's content sent again under a new event_id."""
    LATE_ARRIVAL = "LATE_ARRIVAL"
    """An event whose event_time lies hours or days before its neighbours' (accepted)."""
    OUT_OF_ORDER = "OUT_OF_ORDER"
    """A master change with an older updated_at sent after a newer one (accepted)."""
    POISON = "POISON"
    """Bytes that are not Confluent wire format at all."""


@unique
class Outcome(StrEnum):
    """What the pipeline must do with an event, according to the ground truth."""

    ACCEPT = "ACCEPT"
    """Valid as sent: publish to clean unchanged (types converted)."""
    REPAIR = "REPAIR"
    """Invalid as sent but repairable: publish the repaired record to clean."""
    REJECT = "REJECT"
    """Send to the DLQ with the ledger's reason code."""
    DUPLICATE = "DUPLICATE"
    """Drop: an event_id or business content already seen."""
