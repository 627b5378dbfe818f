"""The fourteen raw topics: key, source system, and the semantics of their fields.

Types come from the ``.avsc`` files (the single source of truth): which
fields are required, integers, doubles, money or dates is read from the clean
schema. What Python adds is what no schema says: which field is an e-mail, a
VIN, a foreign key, free text, or has a physical range - the facts the defect
injector needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMA_DIR",
    "SOURCES",
    "TOPICS",
    "RefKind",
    "TopicSpec",
    "load_schema",
    "topic_spec",
]

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "avro"
SOURCES = frozenset({"erp", "crm", "finance", "supplier", "iot"})
ENVELOPE = ("event_id", "event_type", "source_system", "event_time", "produced_at")
MASTER_ENVELOPE = ("updated_at", "operation")


class RefKind(StrEnum):
    """What a foreign key points at."""

    DEALER = "DEALER"
    CUSTOMER = "CUSTOMER"
    VEHICLE = "VEHICLE"
    SUPPLIER = "SUPPLIER"
    SALE = "SALE"


@cache
def load_schema(layer: str, stem: str) -> dict[str, Any]:
    """The parsed JSON of ``schemas/avro/<layer>/<stem>.avsc``."""
    path = SCHEMA_DIR / layer / f"{stem}.avsc"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


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
    # Read from the clean schema by _derive().
    business: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


def _type_of(t: Any) -> tuple[Any, bool]:
    if isinstance(t, list):
        return next(x for x in t if x != "null"), True
    return t, False


def _derive(spec: TopicSpec) -> TopicSpec:
    schema = load_schema("clean", spec.stem)
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
    return TopicSpec(
        topic=spec.topic,
        stem=spec.stem,
        source=spec.source,
        source_system=spec.source_system,
        key_field=spec.key_field,
        master=spec.master,
        emails=spec.emails,
        phones=spec.phones,
        vins=spec.vins,
        refs=spec.refs,
        text=spec.text,
        ranges=spec.ranges,
        business=tuple(business),
        required=tuple(required),
        numeric=tuple(numeric),
        money=tuple(money),
        dates=tuple(dates),
    )


D, C, V, S, SA = RefKind.DEALER, RefKind.CUSTOMER, RefKind.VEHICLE, RefKind.SUPPLIER, RefKind.SALE
_SPECS = [
    TopicSpec(
        "raw.erp.vehicles",
        "erp.vehicles",
        "erp",
        "ERP",
        "vin",
        True,
        vins=("vin",),
        text=("color", "manufacture_country"),
        ranges=(("model_year", ("-2025", "-1", "0", "3025")),),
    ),
    TopicSpec(
        "raw.erp.dealers",
        "erp.dealers",
        "erp",
        "ERP",
        "dealer_id",
        True,
        emails=("contact_email",),
        phones=("contact_phone",),
        text=("dealer_name", "contact_name", "street", "city"),
    ),
    TopicSpec(
        "raw.crm.customers",
        "crm.customers",
        "crm",
        "CRM",
        "customer_id",
        True,
        emails=("email",),
        phones=("phone",),
        text=("first_name", "last_name", "street_name", "suburb", "city"),
    ),
    TopicSpec(
        "raw.supplier.suppliers",
        "supplier.suppliers",
        "supplier",
        "SUPPLIER",
        "supplier_id",
        True,
        emails=("contact_email",),
        phones=("contact_phone",),
        text=("supplier_name", "country"),
    ),
    TopicSpec(
        "raw.erp.sales",
        "erp.sales",
        "erp",
        "ERP",
        "sale_id",
        False,
        vins=("vin",),
        refs=(("customer_id", C), ("vin", V), ("dealer_id", D)),
    ),
    TopicSpec(
        "raw.erp.inventory",
        "erp.inventory",
        "erp",
        "ERP",
        "inventory_id",
        False,
        refs=(("dealer_id", D),),
        text=("make", "model"),
    ),
    TopicSpec(
        "raw.finance.payments",
        "finance.payments",
        "finance",
        "FINANCE",
        "sale_id",
        False,
        refs=(("sale_id", SA),),
    ),
    TopicSpec(
        "raw.finance.commissions",
        "finance.commissions",
        "finance",
        "FINANCE",
        "sale_id",
        False,
        refs=(("sale_id", SA), ("dealer_id", D)),
    ),
    TopicSpec(
        "raw.finance.expenses",
        "finance.expenses",
        "finance",
        "FINANCE",
        "expense_id",
        False,
        text=("cost_centre",),
    ),
    TopicSpec(
        "raw.erp.production_costs",
        "erp.production_costs",
        "erp",
        "ERP",
        "vin",
        False,
        vins=("vin",),
        refs=(("vin", V),),
        text=("plant",),
    ),
    TopicSpec(
        "raw.erp.service_events",
        "erp.service_events",
        "erp",
        "ERP",
        "vin",
        False,
        vins=("vin",),
        refs=(("vin", V), ("dealer_id", D)),
        text=("description",),
    ),
    TopicSpec(
        "raw.supplier.procurement",
        "supplier.procurement",
        "supplier",
        "SUPPLIER",
        "procurement_id",
        False,
        refs=(("supplier_id", S), ("dealer_id", D)),
    ),
    TopicSpec(
        "raw.crm.interactions",
        "crm.interactions",
        "crm",
        "CRM",
        "customer_id",
        False,
        refs=(("customer_id", C), ("dealer_id", D)),
    ),
    TopicSpec(
        "raw.iot.telemetry",
        "iot.telemetry",
        "iot",
        "IOT",
        "vin",
        False,
        vins=("vin",),
        refs=(("vin", V),),
        ranges=(
            ("speed_kmh", ("-50.0", "9999.0")),
            ("fuel_level_pct", (None, "150.0", "-5.0")),
            ("engine_temp_c", ("-80.0", "300.0", "999.0")),
        ),
    ),
]

TOPICS: dict[str, TopicSpec] = {s.topic: _derive(s) for s in _SPECS}


def topic_spec(topic: str) -> TopicSpec:
    """The spec of a raw topic name such as ``raw.erp.sales``."""
    return TOPICS[topic]
