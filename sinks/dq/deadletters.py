"""One dead letter as a row of ``dq.dead_letters``: its headers, and the field it names.

The processors' rules name the offending field in the rule
(``email.email``, ``money.final_price``, ``required.dealer_id``,
``reference.vin``) and start their message with the raw value's ``repr``
(``'abc' is no amount``, ``vin='X1'  : no such erp.vehicles record``). Both
are parsed here where that shape holds; anything else keeps NULL, never a
guess. Pure: no I/O.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass

from orion.deadletter import (
    EXCEPTION_CLASS,
    EXCEPTION_MESSAGE,
    REASON,
    REPLAYED_FROM,
    RULE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TIMESTAMP,
    SOURCE_TOPIC,
)
from sinks.base import KafkaRecord
from sinks.dq.outcomes import header, parse_topic

__all__ = ["DeadLetterRow", "dead_letter_row", "offending"]

#: Rule families that check one named field: ``<family>.<field>``.
FIELD_RULES = frozenset(
    {"money", "date", "vin", "email", "phone", "enum", "range", "number", "required", "reference"}
)
_REFERENCE = re.compile(r"^(?P<field>\w+)=(?P<value>.+?): no such ")


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    topic: str
    partition: int
    offset: int
    dlq_timestamp: dt.datetime | None
    system: str
    entity: str
    reason: str
    rule: str | None
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    source_timestamp: dt.datetime | None
    exception_class: str | None
    exception_message: str | None
    field: str | None
    value: str | None
    replayed_from: str | None
    key: bytes | None
    payload: bytes | None


def _leading_repr(message: str) -> str | None:
    """The value of a message that starts with a Python string literal, e.g. ``'a b' is ...``."""
    if not message or message[0] not in "'\"":
        return None
    quote = message[0]
    i = 1
    while i < len(message):
        c = message[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            try:
                value = ast.literal_eval(message[: i + 1])
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, str) else None
        i += 1
    return None


def offending(rule: str | None, message: str | None) -> tuple[str | None, str | None]:
    """(field, raw value) a rule and its message name; None where they do not say."""
    if not rule or "." not in rule:
        return None, None
    family, field = rule.split(".", 1)
    if family not in FIELD_RULES or not field:
        return None, None
    message = message or ""
    if family == "required":
        return field, None
    if family == "reference":
        m = _REFERENCE.match(message)
        value = _leading_repr(m["value"]) if m and m["field"] == field else None
        return field, value
    return field, _leading_repr(message)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _instant(ms: int | None) -> dt.datetime | None:
    if ms is None or ms < 0:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def dead_letter_row(record: KafkaRecord, prefix: str = "") -> DeadLetterRow | None:
    """The row of a record of a ``dlq.*`` topic under ``prefix``; None for other topics."""
    name = parse_topic(record.topic, prefix)
    if name is None or name.layer != "dlq":
        return None
    rule = header(record, RULE)
    message = header(record, EXCEPTION_MESSAGE)
    field, value = offending(rule, message)
    return DeadLetterRow(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        dlq_timestamp=_instant(record.timestamp if record.timestamp_type else None),
        system=name.system,
        entity=name.entity,
        reason=header(record, REASON) or "UNKNOWN",
        rule=rule,
        source_topic=header(record, SOURCE_TOPIC),
        source_partition=_int(header(record, SOURCE_PARTITION)),
        source_offset=_int(header(record, SOURCE_OFFSET)),
        source_timestamp=_instant(_int(header(record, SOURCE_TIMESTAMP))),
        exception_class=header(record, EXCEPTION_CLASS),
        exception_message=message,
        field=field,
        value=value,
        replayed_from=header(record, REPLAYED_FROM),
        key=record.key,
        payload=record.value,
    )
