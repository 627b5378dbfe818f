"""CRM: customers (master data) and their interactions with dealers.

Customers register over the whole timeline, move province, turn INACTIVE
(and sometimes back), change e-mail or phone, and now and then ask to be
deleted (a DELETE carrying the last known values). A customer joins the pool
that sales and interactions draw from only once a version of them reached
the clean topic, and leaves it when deleted, so references always resolve.
"""

from __future__ import annotations

from typing import Any

from producers.catalogue import CITIES
from producers.clock import DAY_MS
from producers.events import Draft
from producers.topics import TOPICS
from producers.world import World

__all__ = ["CrmSource"]

_CUSTOMERS = TOPICS["raw.crm.customers"]
_INTERACTIONS = TOPICS["raw.crm.interactions"]
_TYPES = (
    ("ENQUIRY",) * 5
    + ("TEST_DRIVE",) * 3
    + ("FOLLOW_UP",) * 3
    + ("COMPLAINT",)
    + ("SERVICE_BOOKING",) * 2
)
_CHANNELS = ("PHONE",) * 4 + ("EMAIL",) * 3 + ("WALK_IN",) * 4 + ("WEB",) * 2 + ("WHATSAPP",) * 3
_OUTCOMES = {
    "ENQUIRY": ("INTERESTED", "NOT_INTERESTED", "FOLLOW_UP_REQUIRED"),
    "TEST_DRIVE": ("INTERESTED", "PURCHASED", "NOT_INTERESTED", "FOLLOW_UP_REQUIRED"),
    "FOLLOW_UP": ("INTERESTED", "NOT_INTERESTED", "PURCHASED", "RESOLVED"),
    "COMPLAINT": ("RESOLVED", "FOLLOW_UP_REQUIRED"),
    "SERVICE_BOOKING": ("RESOLVED", "FOLLOW_UP_REQUIRED"),
}
_NOTES = (
    "Asked about finance options",
    "Wants a trade-in valuation",
    "Prefers automatic",
    "Comparing with a competitor",
    "Call back after month end",
    "Fleet enquiry",
    "Unhappy with delivery delay",
    "Booked for Saturday",
)


class CrmSource:
    """Builds the CRM's drafts; the simulation decides when."""

    def __init__(self, world: World) -> None:
        self.w = world

    def initial_customers(self, count: int) -> list[Draft]:
        """The customers known before the timeline starts (registered up to 6 years ago)."""
        out: list[Draft] = []
        for _ in range(count):
            out += self.register(self.w.rng.randrange(1, 6 * 365) * DAY_MS)
        return out

    def register(self, age_ms: int = 0) -> list[Draft]:
        """A new customer; joins the pool if the record reaches clean."""
        w = self.w
        rec = w.new_customer(w.now - age_ms)
        if rec is None:
            return []

        def done(ok: bool) -> list[Draft]:
            if ok:
                w.customers.append(rec)
            return []

        return [
            Draft(
                _CUSTOMERS,
                rec,
                "customer.registered",
                w.now,
                rec["customer_id"],
                "UPSERT",
                on_done=done,
            )
        ]

    def change(self, out_of_order: bool = False) -> list[Draft]:
        """A customer moves, turns (in)active, changes contact details or is deleted."""
        w, rng = self.w, self.w.rng
        pool = w.customers
        if not pool:
            return []
        i = int(rng.random() * len(pool))
        rec = pool[i]
        cid = rec["customer_id"]
        if not out_of_order and rng.random() < 0.05:
            pool[i] = pool[-1]
            pool.pop()
            return [
                Draft(_CUSTOMERS, rec, "customer.deleted", w.now, cid, "DELETE", allow_reject=False)
            ]
        versions = []
        for _ in range(2 if out_of_order else 1):
            rec = self._changed(rec)
            versions.append(rec)
        pool[i] = rec
        return w.master_versions(_CUSTOMERS, versions, "customer.updated", cid)

    def _changed(self, rec: dict[str, Any]) -> dict[str, Any]:
        w, rng = self.w, self.w.rng
        r = rng.random()
        if r < 0.35:
            city = rng.choice([c for c in CITIES if c.province != rec["province"]])
            return {**rec, **w.address(city)}
        if r < 0.65:
            return {**rec, "status": "INACTIVE" if rec["status"] == "ACTIVE" else "ACTIVE"}
        if r < 0.85:
            return {**rec, "email": w.email(rec["first_name"], rec["last_name"])}
        return {**rec, "phone": w.phone()}

    def interaction(self) -> list[Draft]:
        """A customer contacts a dealer, usually one in their own province."""
        w, rng = self.w, self.w.rng
        customer = w.random_customer()
        if customer is None:
            return []
        local = w.dealers_by_province[customer["province"]]
        dealer = rng.choice(local) if rng.random() < 0.85 else rng.choice(w.dealers)
        kind = _TYPES[int(rng.random() * len(_TYPES))]
        rec = {
            "interaction_id": f"INT-{w.next_id('interaction'):09d}",
            "customer_id": customer["customer_id"],
            "dealer_id": dealer.dealer_id,
            "employee_id": f"EMP-{dealer.dealer_id[4:]}-{rng.randrange(1, 25):02d}",
            "interaction_date": w.fmt.sast_date(w.at),
            "interaction_type": kind,
            "interaction_channel": _CHANNELS[int(rng.random() * len(_CHANNELS))],
            "outcome": rng.choice(_OUTCOMES[kind]),
            "notes": rng.choice(_NOTES) if rng.random() < 0.45 else None,
        }
        return [Draft(_INTERACTIONS, rec, "interaction.logged", w.at, customer["customer_id"])]
