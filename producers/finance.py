"""Finance: payments and commissions that follow sales, and operating expenses.

Cash, EFT and card sales are paid in full; financed sales (bank or dealer
finance, lease) pay a deposit and then monthly instalments (the first three
are simulated). A payment may be PENDING first and COMPLETED or FAILED a few
days later: the change is a new event with the same payment_id. A failed
full payment is retried under a new payment_id. Payments are keyed by
sale_id so the payments of one sale stay in order.
"""

from __future__ import annotations

from typing import Any

from producers.catalogue import PROVINCE_CODES, PROVINCES
from producers.clock import DAY_MS
from producers.events import Draft
from producers.topics import TOPICS
from producers.world import Dealer, World, money

__all__ = ["FinanceSource"]

_PAYMENTS = TOPICS["raw.finance.payments"]
_COMMISSIONS = TOPICS["raw.finance.commissions"]
_EXPENSES = TOPICS["raw.finance.expenses"]
_FULL = frozenset({"CASH", "EFT", "CARD"})
# category -> (weight, min cents, max cents)
_CATEGORIES: dict[str, tuple[int, int, int]] = {
    "SALARIES": (5, 25_000_000, 180_000_000),
    "RENT": (3, 4_000_000, 35_000_000),
    "UTILITIES": (3, 500_000, 6_000_000),
    "MARKETING": (3, 1_000_000, 25_000_000),
    "LOGISTICS": (3, 800_000, 15_000_000),
    "IT": (2, 300_000, 9_000_000),
    "INSURANCE": (1, 2_000_000, 12_000_000),
    "TRAVEL": (2, 50_000, 1_500_000),
}
_DESCRIPTIONS = {
    "SALARIES": "Monthly payroll",
    "RENT": "Premises lease",
    "UTILITIES": "Electricity and water",
    "MARKETING": "Regional campaign",
    "LOGISTICS": "Vehicle transport",
    "IT": "Software licences",
    "INSURANCE": "Stock insurance premium",
    "TRAVEL": "Staff travel",
}


class FinanceSource:
    """Builds the finance system's drafts; the simulation decides when."""

    def __init__(self, world: World) -> None:
        self.w = world
        self._category_pick = [c for c, (wt, _, _) in _CATEGORIES.items() for _ in range(wt)]
        self._province_pick = [p for p, wt in PROVINCES.items() for _ in range(wt)]

    def on_sale(self, sale_id: str, dealer: Dealer, final_cents: int, method: str) -> list[Draft]:
        """Commission and first payment of a clean sale; later payments are scheduled."""
        w, rng = self.w, self.w.rng
        bp = dealer.commission_bp
        commission = {
            "commission_id": f"COM-{w.next_id('commission'):08d}",
            "sale_id": sale_id,
            "dealer_id": dealer.dealer_id,
            "commission_date": w.fmt.sast_date(w.now),
            "commission_rate": bp / 10_000,
            "commission_amount": money((final_cents * bp + 5_000) // 10_000),
        }
        out = [Draft(_COMMISSIONS, commission, "commission.booked", w.now, sale_id)]
        if method in _FULL:
            out += self._payment(sale_id, method, "FULL", 0, final_cents, retry_on_fail=True)
        else:
            deposit = final_cents * rng.randrange(10, 21) // 100
            out += self._payment(sale_id, method, "DEPOSIT", 0, deposit)
            instalment = (final_cents - deposit) // 60
            for n in (1, 2, 3):
                w.schedule(
                    w.now + n * 30 * DAY_MS, self._instalment, (sale_id, method, n, instalment)
                )
        return out

    def _instalment(self, arg: tuple[str, str, int, int]) -> list[Draft]:
        sale_id, method, n, cents = arg
        return self._payment(sale_id, method, "INSTALMENT", n, cents, first="PENDING")

    def _payment(
        self,
        sale_id: str,
        method: str,
        kind: str,
        number: int,
        cents: int,
        *,
        first: str | None = None,
        retry_on_fail: bool = False,
    ) -> list[Draft]:
        w, rng = self.w, self.w.rng
        if first is None:
            r = rng.random()
            first = "COMPLETED" if r < 0.85 else "PENDING" if r < 0.97 else "FAILED"
        rec = {
            "payment_id": f"PAY-{w.next_id('payment'):09d}",
            "sale_id": sale_id,
            "payment_date": w.fmt.sast_date(w.now),
            "payment_amount": money(cents),
            "payment_method": method,
            "payment_type": kind,
            "instalment_number": number,
            "payment_status": first,
            "transaction_reference": f"TXN{rng.getrandbits(40):010X}",
        }
        if first == "PENDING":
            r = rng.random()
            final = "COMPLETED" if r < 0.85 else "FAILED" if r < 0.97 else None
            if final is not None:
                w.schedule(
                    w.now + rng.randrange(1, 5) * DAY_MS,
                    self._status_change,
                    (rec, final, retry_on_fail),
                )
        elif first == "FAILED" and retry_on_fail:
            w.schedule(w.now + 2 * DAY_MS, self._retry, rec)
        return [Draft(_PAYMENTS, rec, "payment.recorded", w.now, sale_id)]

    def _status_change(self, arg: tuple[dict[str, Any], str, bool]) -> list[Draft]:
        rec, status, retry = arg
        w = self.w
        new = {**rec, "payment_status": status}
        if status == "FAILED" and retry:
            w.schedule(w.now + 2 * DAY_MS, self._retry, new)
        return [Draft(_PAYMENTS, new, "payment.status_changed", w.now, rec["sale_id"])]

    def _retry(self, failed: dict[str, Any]) -> list[Draft]:
        cents = int(failed["payment_amount"].replace(".", ""))
        return self._payment(
            failed["sale_id"],
            failed["payment_method"],
            failed["payment_type"],
            failed["instalment_number"],
            cents,
            first="COMPLETED",
        )

    def expense(self) -> list[Draft]:
        """An operating expense booked against a provincial cost centre."""
        w, rng = self.w, self.w.rng
        category = self._category_pick[int(rng.random() * len(self._category_pick))]
        province = self._province_pick[int(rng.random() * len(self._province_pick))]
        _, lo, hi = _CATEGORIES[category]
        rec: dict[str, Any] = {
            "expense_id": f"EXP-{w.next_id('expense'):08d}",
            "expense_date": w.fmt.sast_date(w.at),
            "category": category,
            "cost_centre": f"CC-{PROVINCE_CODES[province]}-{category}",
            "province": province,
            "amount": money(rng.randrange(lo, hi)),
            "description": _DESCRIPTIONS[category] if rng.random() < 0.7 else None,
        }
        return [Draft(_EXPENSES, rec, "expense.booked", w.at, rec["expense_id"])]
