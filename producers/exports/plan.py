"""Which entity is exported in which format, how files are cut, and what they are called.

Who uses it: the writer (format, rotation, names) and the tests (the table).
Each source system sends what such a system plausibly sends:

======================== ======= ===== ============================================
entity                   format  delim why
======================== ======= ===== ============================================
erp.sales                CSV     ,     the dealer management system's sales report
erp.vehicles             CSV     ,     vehicle master export
erp.dealers              CSV     ,     dealer master export
erp.service_events       CSV     ,     workshop system export
erp.inventory            CSV     ;     dealer stock lists, European-locale tooling
erp.production_costs     CSV     ;     plant costing export, decimal commas (1234,50)
finance.payments         JSONL         the bank's payment feed, one object per line
finance.expenses         CSV     ,     general-ledger extract
finance.commissions      CSV     ,     commission run output
crm.customers            JSON          the CRM's REST export: one array per file
crm.interactions         JSON          same
iot.telemetry            JSONL         the telematics gateway's line-per-reading log
supplier.procurement     XLSX          the supplier portal's spreadsheet download
supplier.suppliers       XLSX          same
======================== ======= ===== ============================================

Decimal commas are written for money fields only (the clean schema's
decimals) in ``;`` files. Dealer inventory has no money field (quantities and
reorder levels are integers), so the decimal-comma file is production costs;
inventory is a ``;`` file with nothing to localise.

Files are cut at :data:`MIN_ROWS`-:data:`MAX_ROWS` rows (drawn per file) or
when the simulated clock enters a new South African calendar month (a month's
export closes every entity's open file), whichever comes first. A file is
named ``orion-<domain>-<entity>-<number>.<suffix>``, the number counting up
from 000001 per entity, so key order in a landing prefix is write order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from orion.catalog import Entity, entities
from orion.landing import landing_prefix
from producers.clock import DAY_MS, SAST_OFFSET_MS

__all__ = [
    "MAX_ROWS",
    "MIN_ROWS",
    "PLANS",
    "EntityPlan",
    "Format",
    "file_key",
    "month_of",
]

MIN_ROWS = 300
MAX_ROWS = 2000
_NUMBER_DIGITS = 6


class Format(StrEnum):
    """A landing-zone file format; the value is the suffix the ingester dispatches on."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    XLSX = "xlsx"

    @property
    def is_json(self) -> bool:
        return self in (Format.JSON, Format.JSONL)


@dataclass(frozen=True)
class EntityPlan:
    """How one entity's exports look."""

    format: Format
    delimiter: str = ","
    decimal_comma: bool = False


PLANS: dict[str, EntityPlan] = {
    "erp.sales": EntityPlan(Format.CSV),
    "erp.vehicles": EntityPlan(Format.CSV),
    "erp.dealers": EntityPlan(Format.CSV),
    "erp.service_events": EntityPlan(Format.CSV),
    "erp.inventory": EntityPlan(Format.CSV, delimiter=";"),
    "erp.production_costs": EntityPlan(Format.CSV, delimiter=";", decimal_comma=True),
    "finance.payments": EntityPlan(Format.JSONL),
    "finance.expenses": EntityPlan(Format.CSV),
    "finance.commissions": EntityPlan(Format.CSV),
    "crm.customers": EntityPlan(Format.JSON),
    "crm.interactions": EntityPlan(Format.JSON),
    "iot.telemetry": EntityPlan(Format.JSONL),
    "supplier.procurement": EntityPlan(Format.XLSX),
    "supplier.suppliers": EntityPlan(Format.XLSX),
}
if set(PLANS) != {e.stem for e in entities()}:
    raise RuntimeError(
        f"producers/exports/plan.py plans {sorted(PLANS)}, the schemas define"
        f" {sorted(e.stem for e in entities())}: add the new entity to PLANS"
    )


def file_key(entity: Entity, number: int, fmt: Format) -> str:
    """``landing/erp/sales/orion-erp-sales-000001.csv``: the key of file ``number`` (from 1)."""
    if not 0 < number < 10**_NUMBER_DIGITS:
        raise ValueError(f"file number {number} out of range")
    name = f"orion-{entity.domain}-{entity.name}-{number:0{_NUMBER_DIGITS}d}.{fmt.value}"
    return landing_prefix(entity) + name


def month_of(ms: int) -> int:
    """The South African calendar month of an instant, as ``year * 12 + month - 1``."""
    day = date(1970, 1, 1) + timedelta(days=(ms + SAST_OFFSET_MS) // DAY_MS)
    return day.year * 12 + day.month - 1
