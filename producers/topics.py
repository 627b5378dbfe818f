"""The fourteen raw topics as the simulator sees them: key, source, and what each field is.

Everything about an entity comes from the catalog (:mod:`orion.catalog`,
read from the ``.avsc`` files): types, which fields are required, money or
dates, and the facts types cannot say (its key, references, e-mails, phones,
VINs, free text). What only the simulator knows is declared here: which pool
of ids a reference is drawn from, and the out-of-range values it injects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orion.catalog import ENVELOPE, MASTER_ENVELOPE, Entity, entities, load_schema
from orion.exceptions import SchemaError

__all__ = [
    "SOURCES",
    "TOPICS",
    "RefKind",
    "TopicSpec",
    "spec_of",
    "topic_spec",
]

SOURCES = frozenset({"erp", "crm", "finance", "supplier", "iot"})


class RefKind(StrEnum):
    """What a foreign key points at."""

    DEALER = "DEALER"
    CUSTOMER = "CUSTOMER"
    VEHICLE = "VEHICLE"
    SUPPLIER = "SUPPLIER"
    SALE = "SALE"


_POOL_OF_STEM = {
    "erp.dealers": RefKind.DEALER,
    "crm.customers": RefKind.CUSTOMER,
    "erp.vehicles": RefKind.VEHICLE,
    "supplier.suppliers": RefKind.SUPPLIER,
    "erp.sales": RefKind.SALE,
}
"""The simulator's pool of ids that a reference to an entity is drawn from."""

_OUT_OF_RANGE: dict[str, tuple[tuple[str, tuple[str | None, ...]], ...]] = {
    "erp.vehicles": (("model_year", ("-2025", "-1", "0", "3025")),),
    "iot.telemetry": (
        ("speed_kmh", ("-50.0", "9999.0")),
        ("fuel_level_pct", (None, "150.0", "-5.0")),
        ("engine_temp_c", ("-80.0", "300.0", "999.0")),
    ),
}
"""Values the defect injector puts in a field with a physical range (orion.range)."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """Everything the simulator knows about one raw topic."""

    topic: str
    stem: str
    source: str
    source_system: str
    key_field: str
    master: bool
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    vins: tuple[str, ...] = ()
    refs: tuple[tuple[str, RefKind], ...] = ()
    text: tuple[str, ...] = ()
    ranges: tuple[tuple[str, tuple[str | None, ...]], ...] = ()
    # Read from the clean schema's types.
    business: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


def _type_of(t: Any) -> tuple[Any, bool]:
    if isinstance(t, list):
        return next(x for x in t if x != "null"), True
    return t, False


def spec_of(entity: Entity) -> TopicSpec:
    """The simulator's view of one entity's raw topic."""
    schema = load_schema(entity.schema_path("clean"))
    business, required, numeric, money, dates = [], [], [], [], []
    skip = set(ENVELOPE) | set(MASTER_ENVELOPE)
    for field in schema["fields"]:
        name = field["name"]
        if name in skip:
            continue
        business.append(name)
        t, optional = _type_of(field["type"])
        logical = t.get("logicalType") if isinstance(t, dict) else None
        base = t.get("type") if isinstance(t, dict) else t
        if not optional and base != "array":
            required.append(name)
        if logical == "decimal":
            money.append(name)
        elif logical == "date":
            dates.append(name)
        elif base in ("int", "long", "double", "float"):
            numeric.append(name)
    ranged = {f for f, _, _ in entity.ranges}
    injected = _OUT_OF_RANGE.get(entity.stem, ())
    # A range may only bound what the warehouse holds (its CHECK constraints, e.g. a
    # latitude or a count that cannot be negative), with no defect the simulator injects.
    if not {f for f, _ in injected} <= ranged:
        raise SchemaError(
            f"{entity.stem}: the simulator has out-of-range values for"
            f" {sorted(f for f, _ in injected)}, the schema's orion.range fields"
            f" are {sorted(ranged)}",
            fix="give those fields an orion.range or remove them from _OUT_OF_RANGE in "
            "producers/topics.py",
        )
    return TopicSpec(
        topic=entity.topic("raw"),
        stem=entity.stem,
        source=entity.domain,
        source_system=entity.domain.upper(),
        key_field=entity.partition_key,
        master=entity.master,
        emails=entity.of_kind("email"),
        phones=entity.of_kind("phone"),
        vins=entity.of_kind("vin"),
        refs=tuple((f, _POOL_OF_STEM[r]) for f, r in entity.references),
        text=entity.of_kind("text"),
        ranges=injected,
        business=tuple(business),
        required=tuple(required),
        numeric=tuple(numeric),
        money=tuple(money),
        dates=tuple(dates),
    )


TOPICS: dict[str, TopicSpec] = {e.topic("raw"): spec_of(e) for e in entities()}


def topic_spec(topic: str) -> TopicSpec:
    """The spec of a raw topic name such as ``raw.erp.sales``."""
    return TOPICS[topic]
