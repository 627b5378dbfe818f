"""One raw record in, one verdict out: decode, repair, validate (pure apart from the registry).

Who calls it: :class:`stream_processors.processor.Processor`, per record,
and again for a parked record when its references can be decided. The
verdict is :class:`Valid` (with the clean record, its repairs, its dedup
keys and its foreign keys) or :class:`Rejected` (reason, rule, exception,
and the event's identity when it decoded, so a re-sent reject is known).
Deduplication and the referential check need state, so they live in the
processor; everything here is deterministic, which is what the unit tests hold.

A registry that does not answer raises
:class:`~orion.exceptions.ServiceUnavailableError`: the caller retries with
backoff and never dead-letters for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orion.catalog import entities, load_schema, load_schema_text, subject
from orion.exceptions import (
    CorruptRecordError,
    NotWireFormatError,
    SerdeError,
    UnknownSchemaError,
)
from orion.reasons import Reason
from orion.registry import Registry
from orion.serde import AvroDecoder, AvroEncoder
from stream_processors.content import ContentHasher, hash_values
from stream_processors.exceptions import RuleViolation
from stream_processors.rules import CompiledRules, all_rules

__all__ = ["Identity", "Pipeline", "Rejected", "Valid", "content_hash"]

_SERDE_REASON: dict[type[SerdeError], tuple[Reason, str]] = {
    NotWireFormatError: (Reason.NOT_WIRE_FORMAT, "wire.format"),
    UnknownSchemaError: (Reason.UNKNOWN_SCHEMA, "wire.schema_id"),
    CorruptRecordError: (Reason.UNDECODABLE, "wire.avro"),
}


@dataclass(slots=True)
class Valid:
    """A record that passed every field rule (references not yet checked)."""

    clean: dict[str, Any]
    repairs: list[str]
    event_id: str
    content: str
    refs: list[tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class Identity:
    """What deduplication knows an event by: its id and content hash."""

    event_id: str
    content: str


@dataclass(slots=True)
class Rejected:
    reason: Reason
    rule: str
    exc_class: str
    message: str
    identity: Identity | None = None
    """None for bytes that do not decode: they have no identity to deduplicate by."""


content_hash = hash_values
"""Digest of the decoded values but event_id and produced_at (see :mod:`.content`)."""


def _identity(raw: dict[str, Any], content: str) -> Identity | None:
    try:
        return Identity(str(raw["event_id"]), content)
    except (KeyError, TypeError):
        return None


class Pipeline:
    """Decoders, rules and clean encoders for every entity, built once per worker."""

    def __init__(self, registry: Registry, prefix: str) -> None:
        self.rules: dict[str, CompiledRules] = all_rules()
        self._decode = AvroDecoder(registry)
        self._content = ContentHasher(registry.parsed_schema)
        self.encoders: dict[str, AvroEncoder] = {}
        for entity in entities():
            path = entity.schema_path("clean")
            self.encoders[entity.stem] = AvroEncoder(
                registry.register(subject(prefix + entity.topic("clean")), load_schema_text(path)),
                load_schema(path),
            )

    def evaluate(self, stem: str, value: bytes | None) -> Valid | Rejected:
        """The verdict on one raw value of entity ``stem``."""
        if value is None:
            return Rejected(Reason.NOT_WIRE_FORMAT, "wire.format", "NotWireFormatError", "null")
        try:
            schema_id, raw = self._decode(value)
        except SerdeError as e:
            reason, rule = _SERDE_REASON.get(type(e), (Reason.UNDECODABLE, "wire.avro"))
            return Rejected(reason, rule, type(e).__name__, e.message)
        rules = self.rules[stem]
        try:
            clean, repairs = rules.apply(raw)
        except RuleViolation as e:
            content = self._content(schema_id, value, raw)
            return Rejected(e.reason, e.rule, type(e).__name__, e.message, _identity(raw, content))
        except (TypeError, AttributeError, KeyError) as e:  # a raw schema the rules do not know
            return Rejected(Reason.UNDECODABLE, "rules.shape", type(e).__name__, str(e))
        return Valid(
            clean,
            repairs,
            str(raw["event_id"]),
            self._content(schema_id, value, raw),
            rules.references(clean),
        )

    def encode(self, stem: str, clean: dict[str, Any]) -> bytes:
        return self.encoders[stem](clean)
