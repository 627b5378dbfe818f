"""ERP: dealers, vehicles, production costs, sales, inventory, service events.

A sale takes a vehicle off a dealer's floor; when the line drops to its
reorder level the ERP orders kits from a supplier (:mod:`producers.supplier`)
and the delivery builds new vehicles into that line. Popular models sell
faster than slow suppliers deliver, so some lines run low or out of stock.
"""

from __future__ import annotations

from collections.abc import Callable

from producers.catalogue import PLANTS
from producers.clock import DAY_MS
from producers.events import Draft
from producers.topics import TOPICS
from producers.world import Dealer, SoldVehicle, StockLine, World, money

__all__ = ["ErpSource"]

_VEHICLES = TOPICS["raw.erp.vehicles"]
_DEALERS = TOPICS["raw.erp.dealers"]
_SALES = TOPICS["raw.erp.sales"]
_INVENTORY = TOPICS["raw.erp.inventory"]
_COSTS = TOPICS["raw.erp.production_costs"]
_SERVICE = TOPICS["raw.erp.service_events"]
_CHANNELS = ("SHOWROOM",) * 12 + ("ONLINE",) * 3 + ("FLEET",) * 2 + ("REFERRAL",) * 3
_METHODS = (
    ("CASH",) * 8
    + ("EFT",) * 20
    + ("CARD",) * 4
    + ("BANK_FINANCE",) * 45
    + ("DEALER_FINANCE",) * 15
    + ("LEASE",) * 8
)
_WARRANTY_JOBS = (
    "Cooling system repair",
    "Water pump replaced",
    "Thermostat replaced",
    "Injector replaced",
    "Catalytic converter replaced",
    "ECU reflash",
    "Gearbox repair",
    "Battery module replaced",
)
_MAINTENANCE_JOBS = (
    "Scheduled service 15 000 km",
    "Scheduled service 30 000 km",
    "Brake pads replaced",
    "Tyres rotated",
    "Oil and filter change",
    "Wheel alignment",
)

# Called with a sale's facts; returns the finance follow-ups (payments, commission).
OnSale = Callable[[str, Dealer, int, str], list[Draft]]
# Called with a stock line that needs kits; returns the procurement order.
OnReorder = Callable[[StockLine], list[Draft]]


class ErpSource:
    """Builds the ERP's drafts; the simulation decides when."""

    def __init__(self, world: World, on_sale: OnSale, on_reorder: OnReorder) -> None:
        self.w = world
        self._on_sale = on_sale
        self._on_reorder = on_reorder

    # -- master data --------------------------------------------------------
    def initial_dealers(self) -> list[Draft]:
        """One UPSERT per dealer; never rejected, so facts can rely on them."""
        w = self.w
        return [
            Draft(
                _DEALERS, d.rec, "dealer.created", w.now, d.dealer_id, "UPSERT", allow_reject=False
            )
            for d in w.dealers
        ]

    def initial_stock(self, per_line: tuple[int, int]) -> list[Draft]:
        """The opening stock of every line, with production costs and stock levels."""
        w = self.w
        out: list[Draft] = []
        for line in w.lines:
            for _ in range(w.rng.randrange(*per_line)):
                out += self._build(line, w.now - w.rng.randrange(5, 90) * DAY_MS)
            out.append(self.inventory(line))
        return out

    def _build(self, line: StockLine, built_ms: int) -> list[Draft]:
        w, rng = self.w, self.w.rng
        rec = w.new_vehicle(line, built_ms)
        price = int(rec["list_price"].replace(".", ""))
        materials = price * rng.randrange(52, 60) // 100
        labour = price * rng.randrange(12, 16) // 100
        overhead = price * rng.randrange(7, 10) // 100
        cost = {
            "vin": rec["vin"],
            "model_code": line.model.code,
            "production_date": rec["manufacture_date"],
            "plant": PLANTS[line.model.plant],
            "materials_cost": money(materials),
            "labour_cost": money(labour),
            "overhead_cost": money(overhead),
            "total_cost": money(materials + labour + overhead),
        }
        return [
            Draft(
                _VEHICLES, rec, "vehicle.created", w.now, rec["vin"], "UPSERT", allow_reject=False
            ),
            Draft(_COSTS, cost, "production_cost.recorded", w.now, rec["vin"]),
        ]

    def deliver(self, line: StockLine, qty: int) -> list[Draft]:
        """Kits arrived: build ``qty`` vehicles into the line."""
        out: list[Draft] = []
        for _ in range(qty):
            out += self._build(line, self.w.now)
        line.open_order = False
        out.append(self.inventory(line))
        return out

    def inventory(self, line: StockLine) -> Draft:
        """The current stock level of a line."""
        w = self.w
        q = len(line.vins)
        status = (
            "OUT_OF_STOCK" if q == 0 else "LOW_STOCK" if q <= line.reorder_level else ("IN_STOCK")
        )
        rec = {
            "inventory_id": line.inventory_id,
            "dealer_id": line.dealer.dealer_id,
            "model_code": line.model.code,
            "make": line.model.make,
            "model": line.model.name,
            "snapshot_date": w.fmt.sast_date(w.now),
            "quantity": q,
            "reorder_level": line.reorder_level,
            "stock_status": status,
        }
        return Draft(_INVENTORY, rec, "inventory.changed", w.now, line.inventory_id)

    def dealer_change(self, out_of_order: bool = False) -> list[Draft]:
        """A dealer's principal changes (name, e-mail, phone)."""
        w = self.w
        dealer = w.rng.choice(w.dealers)
        versions = []
        for _ in range(2 if out_of_order else 1):
            _, first, last = w.person()
            code = dealer.rec["dealer_code"].lower()
            dealer.rec = {
                **dealer.rec,
                "contact_name": f"{first} {last}",
                "contact_email": w.email(first, last, f"{code}.orionmotors.co.za"),
                "contact_phone": w.phone(),
            }
            versions.append(dealer.rec)
        return w.master_versions(_DEALERS, versions, "dealer.updated", dealer.dealer_id)

    def vehicle_change(self) -> list[Draft]:
        """A price change on a vehicle in stock (an SCD2 change on the vehicle)."""
        w, rng = self.w, self.w.rng
        line = rng.choice(w.lines)
        if not line.vins:
            return []
        vin = rng.choice(line.vins)
        rec = w.in_stock[vin]
        price = int(rec["list_price"].replace(".", ""))
        new = {**rec, "list_price": money(price * rng.randrange(96, 105) // 100)}
        w.in_stock[vin] = new
        return [Draft(_VEHICLES, new, "vehicle.updated", w.now, vin, "UPSERT")]

    # -- facts --------------------------------------------------------------
    def sale(self) -> list[Draft]:
        """A customer buys a vehicle in stock; follow-ups only if the sale is clean."""
        w, rng = self.w, self.w.rng
        customer = w.random_customer()
        if customer is None:
            return []
        for _ in range(4):
            dealer = w.dealer_pick[int(rng.random() * len(w.dealer_pick))]
            line = dealer.line_pick[int(rng.random() * len(dealer.line_pick))]
            if line.vins:
                break
        else:
            return []
        vins = line.vins
        i = int(rng.random() * len(vins))
        vin = vins[i]
        vins[i] = vins[-1]
        vins.pop()
        vrec = w.in_stock.pop(vin)
        price = int(vrec["list_price"].replace(".", ""))
        discount = 0 if rng.random() < 0.4 else price * rng.randrange(1, 13) // 10_000 * 100
        final = price - discount
        sale_id = f"SAL-{w.next_id('sale'):08d}"
        method = _METHODS[int(rng.random() * len(_METHODS))]
        status = "CANCELLED" if rng.random() < 0.03 else "COMPLETED"
        rec = {
            "sale_id": sale_id,
            "sale_date": w.fmt.sast_date(w.at),
            "customer_id": customer["customer_id"],
            "vin": vin,
            "dealer_id": dealer.dealer_id,
            "sale_price": money(price),
            "discount_amount": money(discount),
            "final_price": money(final),
            "sale_channel": _CHANNELS[int(rng.random() * len(_CHANNELS))],
            "sale_status": status,
            "payment_method": method,
        }

        def done(ok: bool) -> list[Draft]:
            if not ok or status == "CANCELLED":
                vins.append(vin)
                w.in_stock[vin] = vrec
                return []
            sold = {**vrec, "status": "SOLD", "dealer_id": dealer.dealer_id}
            out = [
                Draft(_VEHICLES, sold, "vehicle.sold", w.now, vin, "UPSERT"),
                self.inventory(line),
            ]
            out += self._on_sale(sale_id, dealer, final, method)
            w.add_sold(vin, dealer, vrec["engine_type"] == "ELECTRIC")
            if len(vins) <= line.reorder_level and not line.open_order:
                out += self._on_reorder(line)
            return out

        return [Draft(_SALES, rec, "sale.recorded", w.at, sale_id, on_done=done)]

    def service(self, sv: SoldVehicle | None = None, warranty: bool | None = None) -> list[Draft]:
        """A service job: routine (random vehicle) or after a telemetry anomaly."""
        w, rng = self.w, self.w.rng
        if sv is None:
            if not w.sold:
                return []
            sv = w.sold[int(rng.random() * len(w.sold))]
        if warranty is None:
            warranty = rng.random() < 0.1
        sv.service_due = False
        if warranty:
            kind, job, cost = (
                "WARRANTY_CLAIM",
                rng.choice(_WARRANTY_JOBS),
                rng.randrange(200_000, 4_500_000),
            )
        else:
            kind, job, cost = (
                "MAINTENANCE",
                rng.choice(_MAINTENANCE_JOBS),
                rng.randrange(150_000, 1_200_000),
            )
        rec = {
            "service_id": f"SVC-{w.next_id('service'):08d}",
            "vin": sv.vin,
            "dealer_id": sv.dealer.dealer_id,
            "service_date": w.fmt.sast_date(w.at),
            "kind": kind,
            "description": job,
            "odometer_km": sv.odometer,
            "cost": money(cost),
        }
        return [Draft(_SERVICE, rec, "service.recorded", w.at, sv.vin)]
