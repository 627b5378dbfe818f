"""Supplier: suppliers (master data) and procurement orders for vehicle kits.

An order is placed when a dealer's stock line reaches its reorder level.
Each supplier has a hidden reliability: most deliver on time, a few are
much worse (often DELAYED past the promised date, sometimes CANCELLED).
Every status change is a new event with the same procurement_id; a
cancelled order is placed again with another supplier, and a delivery
builds the vehicles into the dealer's stock (:meth:`ErpSource.deliver`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from producers.clock import DAY_MS
from producers.events import Draft
from producers.topics import TOPICS
from producers.world import StockLine, World, money

__all__ = ["SupplierSource"]

_SUPPLIERS = TOPICS["raw.supplier.suppliers"]
_PROCUREMENT = TOPICS["raw.supplier.procurement"]

Deliver = Callable[[StockLine, int], list[Draft]]


class SupplierSource:
    """Builds the supplier system's drafts; the simulation decides when."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.deliver: Deliver = lambda line, qty: []

    def initial_suppliers(self) -> list[Draft]:
        """One UPSERT per supplier; never rejected, so orders can rely on them."""
        w = self.w
        return [
            Draft(
                _SUPPLIERS,
                s.rec,
                "supplier.created",
                w.now,
                s.supplier_id,
                "UPSERT",
                allow_reject=False,
            )
            for s in w.suppliers
        ]

    def change(self, out_of_order: bool = False) -> list[Draft]:
        """A supplier's contact details change."""
        w = self.w
        s = w.rng.choice(w.suppliers)
        versions = []
        for _ in range(2 if out_of_order else 1):
            _, first, last = w.person()
            domain = s.rec["contact_email"].partition("@")[2]
            s.rec = {
                **s.rec,
                "contact_email": w.email(first, last, domain),
                "contact_phone": w.phone(),
            }
            versions.append(s.rec)
        return w.master_versions(_SUPPLIERS, versions, "supplier.updated", s.supplier_id)

    def order(self, line: StockLine, exclude: str | None = None) -> list[Draft]:
        """Order kits for a stock line and schedule how the order ends."""
        w, rng = self.w, self.w.rng
        choices = [s for s in w.suppliers if s.supplier_id != exclude]
        s = choices[int(rng.random() * len(choices))]
        line.open_order = True
        qty = line.order_qty
        unit = line.model.base_price_cents * rng.randrange(70, 79) // 100
        lead = max(3, s.lead_days + rng.randrange(-2, 3))
        expected = w.now + lead * DAY_MS
        rec: dict[str, Any] = {
            "procurement_id": f"PO-{w.next_id('procurement'):07d}",
            "supplier_id": s.supplier_id,
            "model_code": line.model.code,
            "dealer_id": line.dealer.dealer_id,
            "order_date": w.fmt.sast_date(w.now),
            "expected_delivery_date": w.fmt.sast_date(expected),
            "actual_delivery_date": None,
            "quantity": qty,
            "cost_price": money(unit * qty),
            "status": "ORDERED",
        }
        r = rng.random()
        if r < s.cancel_prob:
            w.schedule(w.now + rng.randrange(1, lead + 1) * DAY_MS, self._cancel, (rec, line))
        elif r < s.cancel_prob + s.delay_prob:
            w.schedule(expected + DAY_MS, self._delay, rec)
            late = expected + rng.randrange(2, s.max_delay + 1) * DAY_MS
            w.schedule(late, self._deliver, (rec, line))
        else:
            w.schedule(expected - rng.randrange(0, 3) * DAY_MS, self._deliver, (rec, line))
        return [Draft(_PROCUREMENT, rec, "procurement.ordered", w.now, rec["procurement_id"])]

    def _status(self, rec: dict[str, Any], **changes: Any) -> Draft:
        new = {**rec, **changes}
        return Draft(
            _PROCUREMENT,
            new,
            f"procurement.{changes['status'].lower()}",
            self.w.now,
            rec["procurement_id"],
        )

    def _cancel(self, arg: tuple[dict[str, Any], StockLine]) -> list[Draft]:
        rec, line = arg
        line.open_order = False
        return [self._status(rec, status="CANCELLED"), *self.order(line, rec["supplier_id"])]

    def _delay(self, rec: dict[str, Any]) -> list[Draft]:
        return [self._status(rec, status="DELAYED")]

    def _deliver(self, arg: tuple[dict[str, Any], StockLine]) -> list[Draft]:
        rec, line = arg
        w = self.w
        done = self._status(rec, status="DELIVERED", actual_delivery_date=w.fmt.sast_date(w.now))
        return [done, *self.deliver(line, rec["quantity"])]
