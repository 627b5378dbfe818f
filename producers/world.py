"""The consistent simulated world: entity pools built once, state kept bounded.

Everything Faker makes is made here, up front (a Faker call costs far more
than the whole per-event budget); the hot loop only draws from lists with the
seeded ``random.Random``. Faker has no ``en_ZA`` locale, so names come from
``zu_ZA`` and ``en_GB`` plus a table of Afrikaans surnames, and addresses from
the city table in :mod:`producers.catalogue` (city, province and postal code
always agree).

State that grows with time is bounded: sold vehicles live in a ring (the
newest ``sold_window``), vehicles leave ``in_stock`` when sold, customers stop
registering while ``MAX_CUSTOMERS`` are in the pool, and scheduled follow-ups leave the heap
when due. Ids of entities that never exist (orphans) come from
:meth:`World.orphan`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from producers.catalogue import CITIES, COLOURS, MODELS, PROVINCE_CODES, PROVINCES, City, Model
from producers.clock import DAY_MS, Formatter
from producers.events import Draft
from producers.topics import RefKind, TopicSpec
from producers.vin import make_vin

__all__ = ["MAX_CUSTOMERS", "Dealer", "SoldVehicle", "StockLine", "Supplier", "World", "money"]

MAX_CUSTOMERS = 20_000
"""Registrations pause while this many customers are in the pool (memory stays flat)."""
_AFRIKAANS = (
    "Van der Merwe",
    "Botha",
    "Pretorius",
    "Nel",
    "Steyn",
    "Du Plessis",
    "Venter",
    "Kruger",
    "Joubert",
    "Coetzee",
    "Van Wyk",
    "Smit",
    "Fourie",
    "Du Toit",
    "Swanepoel",
    "Jacobs",
)
_MOBILE = (
    "60",
    "61",
    "62",
    "63",
    "64",
    "71",
    "72",
    "73",
    "74",
    "76",
    "78",
    "79",
    "81",
    "82",
    "83",
    "84",
)
_MAIL = ("gmail.com", "outlook.com", "webmail.co.za", "mweb.co.za", "yahoo.com", "icloud.com")
_SUPPLIER_COUNTRIES = ("South Africa",) * 7 + ("Germany", "Japan", "China", "India", "Thailand")
_BRANCHES = ("North", "Central", "East", "West", "Motor City", "Auto Park")
_SUPPLIER_TYPES = ("PARTS", "ELECTRONICS", "MATERIALS", "TYRES", "LOGISTICS")


def money(cents: int) -> str:
    """Canonical money text of a non-negative cent amount: ``"1234.50"``."""
    return f"{cents // 100}.{cents % 100:02d}"


def _slug(s: str) -> str:
    return "".join(c for c in s.lower() if c.isalpha())


def _expand(items: list[Any], weights: list[int]) -> list[Any]:
    return [it for it, w in zip(items, weights, strict=True) for _ in range(w)]


@dataclass(slots=True, eq=False)
class StockLine:
    """One model stocked at one dealer; ``vins`` are the vehicles on the floor."""

    inventory_id: str
    dealer: Dealer
    model: Model
    reorder_level: int
    order_qty: int
    vins: list[str] = field(default_factory=list)
    open_order: bool = False


@dataclass(slots=True, eq=False)
class Dealer:
    """A dealership and the stock lines it carries."""

    dealer_id: str
    city: City
    rec: dict[str, Any]
    commission_bp: int
    lines: list[StockLine] = field(default_factory=list)
    line_pick: list[StockLine] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Supplier:
    """A supplier and how reliable it is (hidden from the events)."""

    supplier_id: str
    rec: dict[str, Any]
    lead_days: int
    delay_prob: float
    cancel_prob: float
    max_delay: int


@dataclass(slots=True, eq=False)
class SoldVehicle:
    """A vehicle on the road: what telemetry and service events need."""

    vin: str
    dealer: Dealer
    odometer: int
    faulty: bool
    electric: bool
    lat: float
    lon: float
    service_due: bool = False


class World:
    """Entities, pools, id counters and the follow-up schedule of one run."""

    def __init__(self, rng: random.Random, seed: int, *, sold_window: int = 5000) -> None:
        self.rng = rng
        self.fmt = Formatter()
        self.now = 0
        self.at = 0
        self._heap: list[tuple[int, int, Callable[[Any], list[Any]], Any]] = []
        self._hseq = 0
        self._ids: dict[str, int] = {}
        fk = Faker(["zu_ZA", "en_GB"])
        fk.seed_instance(seed)
        zu, en = fk["zu_ZA"], fk["en_GB"]
        self.first_f = sorted(
            {zu.first_name_female() for _ in range(120)}
            | {en.first_name_female() for _ in range(80)}
        )
        self.first_m = sorted(
            {zu.first_name_male() for _ in range(120)} | {en.first_name_male() for _ in range(80)}
        )
        self.last = sorted(
            {zu.last_name() for _ in range(150)}
            | {en.last_name() for _ in range(80)}
            | set(_AFRIKAANS)
        )
        self.streets = sorted(
            {f"{zu.street_name()} {rng.choice(('Street', 'Road', 'Avenue'))}" for _ in range(80)}
            | {en.street_name() for _ in range(80)}
        )
        self.suburbs = sorted(
            {f"{zu.last_name()}{rng.choice(('ville', ' Park', ' Heights'))}" for _ in range(60)}
        )
        self.companies = sorted(
            {zu.company() for _ in range(20)} | {en.company() for _ in range(20)}
        )
        self._slugs = {n: _slug(n) for n in (*self.first_f, *self.first_m, *self.last)}
        city_w = [
            PROVINCES[c.province] * 12 // sum(x.province == c.province for x in CITIES)
            for c in CITIES
        ]
        self.city_pick: list[City] = _expand(list(CITIES), city_w)
        self.model_pick: list[Model] = _expand(list(MODELS), [m.popularity for m in MODELS])
        self.dealers: list[Dealer] = []
        self.dealers_by_province: dict[str, list[Dealer]] = {p: [] for p in PROVINCES}
        self.dealer_pick: list[Dealer] = []
        self.suppliers: list[Supplier] = []
        self.lines: list[StockLine] = []
        self.customers: list[dict[str, Any]] = []
        self.in_stock: dict[str, dict[str, Any]] = {}
        self.sold: list[SoldVehicle] = []
        self._sold_cap = sold_window
        self._sold_next = 0

    # -- ids and scheduling -------------------------------------------------
    def next_id(self, name: str) -> int:
        """Next number of a per-kind counter, starting at 1."""
        n = self._ids.get(name, 0) + 1
        self._ids[name] = n
        return n

    def schedule(self, due: int, fn: Callable[[Any], list[Any]], arg: Any) -> None:
        """Run ``fn(arg)`` once the clock reaches ``due``; it returns drafts."""
        self._hseq += 1
        heapq.heappush(self._heap, (due, self._hseq, fn, arg))

    def pop_due(self) -> tuple[Callable[[Any], list[Any]], Any] | None:
        """The next follow-up whose time has come, if any."""
        heap = self._heap
        if heap and heap[0][0] <= self.now:
            _, _, fn, arg = heapq.heappop(heap)
            return fn, arg
        return None

    @property
    def pending_followups(self) -> int:
        """Size of the follow-up schedule (bounded in steady state)."""
        return len(self._heap)

    def master_versions(
        self, spec: TopicSpec, versions: list[dict[str, Any]], event_type: str, key: str
    ) -> list[Draft]:
        """Drafts for one or two successive versions of a master record.

        With two versions the newer is sent first and the older (an hour to a
        few days older) second; the simulation marks that one OUT_OF_ORDER.
        """
        if len(versions) == 1:
            return [Draft(spec, versions[0], event_type, self.now, key, "UPSERT")]
        older = self.now - self.rng.randrange(3_600_000, 4 * DAY_MS)
        return [
            Draft(spec, versions[1], event_type, self.now, key, "UPSERT", allow_reject=False),
            Draft(spec, versions[0], event_type, older, key, "UPSERT", allow_reject=False),
        ]

    def orphan(self, kind: RefKind) -> str:
        """A well-formed id that no entity of ``kind`` will ever have.

        Customers and sales consume a number of their own sequence, so the
        id looks like its neighbours but is skipped for good; dealers and
        suppliers are a fixed population, so numbers beyond it are used;
        vehicles use plant ``Z``, which builds nothing.
        """
        rng = self.rng
        if kind is RefKind.CUSTOMER:
            return f"CUST-{self.next_id('customer'):06d}"
        if kind is RefKind.SALE:
            return f"SAL-{self.next_id('sale'):08d}"
        if kind is RefKind.DEALER:
            return f"DLR-{rng.randrange(9000, 10000):04d}"
        if kind is RefKind.SUPPLIER:
            return f"SUP-{rng.randrange(900, 1000):03d}"
        m = rng.choice(MODELS)
        return make_vin(m.vds, 2025, "Z", rng.randrange(1_000_000))

    # -- people and addresses ---------------------------------------------
    def phone(self) -> str:
        """A South African mobile number in E.164."""
        rng = self.rng
        return f"+27{rng.choice(_MOBILE)}{rng.randrange(10_000_000):07d}"

    def person(self) -> tuple[str, str, str]:
        """(gender, first name, last name)."""
        rng = self.rng
        r = rng.random()
        gender = (
            "FEMALE"
            if r < 0.49
            else "MALE"
            if r < 0.97
            else "OTHER"
            if r < 0.98
            else ("UNDISCLOSED")
        )
        pool = (
            self.first_f
            if gender == "FEMALE" or (gender != "MALE" and r > 0.99)
            else (self.first_m)
        )
        return gender, rng.choice(pool), rng.choice(self.last)

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        """A plausible lower-case e-mail address for a person."""
        rng = self.rng
        dom = domain or rng.choice(_MAIL)
        return f"{self._slugs[first]}.{self._slugs[last]}{rng.randrange(100)}@{dom}"

    def address(self, city: City | None = None) -> dict[str, Any]:
        """Street, suburb, city, province and postal code that agree."""
        rng = self.rng
        c = city or rng.choice(self.city_pick)
        return {
            "street_number": str(rng.randrange(1, 400)),
            "street_name": rng.choice(self.streets),
            "suburb": rng.choice(self.suburbs),
            "city": c.name,
            "province": c.province,
            "postal_code": c.postal_code,
            "country": "South Africa",
        }

    def new_customer(self, since_ms: int) -> dict[str, Any] | None:
        """A new customer record, or None while the pool is full."""
        if len(self.customers) >= MAX_CUSTOMERS:
            return None
        rng = self.rng
        gender, first, last = self.person()
        dob = (since_ms // DAY_MS) - rng.randrange(18 * 365, 75 * 365)
        return {
            "customer_id": f"CUST-{self.next_id('customer'):06d}",
            "first_name": first,
            "last_name": last,
            "email": self.email(first, last),
            "phone": self.phone(),
            "date_of_birth": self.fmt.day(dob),
            "gender": gender,
            **self.address(),
            "customer_since": self.fmt.sast_date(since_ms),
            "status": "ACTIVE",
        }

    # -- dealers, suppliers, stock ---------------------------------------
    def build_dealers(self, per_province: int = 5) -> None:
        """Dealers in every province, each stocking a subset of the models."""
        rng = self.rng
        for province, weight in PROVINCES.items():
            cities = [c for c in CITIES if c.province == province]
            for i in range(per_province):
                n = self.next_id("dealer")
                city = cities[i % len(cities)]
                dealer_id = f"DLR-{n:04d}"
                _, first, last = self.person()
                code = f"{PROVINCE_CODES[province]}{n:03d}"
                rec = {
                    "dealer_id": dealer_id,
                    "dealer_name": f"Orion Motors {city.name} {rng.choice(_BRANCHES)}",
                    "dealer_code": code,
                    "dealer_type": rng.choice(
                        ("FRANCHISE", "FRANCHISE", "INDEPENDENT", "FLEET_CENTRE")
                    ),
                    "contact_name": f"{first} {last}",
                    "contact_email": self.email(first, last, f"{code.lower()}.orionmotors.co.za"),
                    "contact_phone": self.phone(),
                    "street": f"{rng.randrange(1, 300)} {rng.choice(self.streets)}",
                    "city": city.name,
                    "province": province,
                    "postal_code": city.postal_code,
                    "country": "South Africa",
                    "commission_rate": 0.0,
                    "status": "ACTIVE",
                }
                bp = rng.choice((250, 300, 350, 400, 450, 500))
                rec["commission_rate"] = bp / 10_000
                dealer = Dealer(dealer_id, city, rec, bp)
                models = {m.code: m for m in rng.sample(self.model_pick, 12)}
                for m in models.values():
                    line = StockLine(
                        f"INV-{dealer_id}-{m.code}",
                        dealer,
                        m,
                        rng.randrange(1, 4),
                        rng.randrange(3, 9),
                    )
                    dealer.lines.append(line)
                    self.lines.append(line)
                dealer.line_pick = _expand(
                    dealer.lines, [ln.model.popularity for ln in dealer.lines]
                )
                self.dealers.append(dealer)
                self.dealers_by_province[province].append(dealer)
                self.dealer_pick.extend([dealer] * max(1, weight // per_province))

    def build_suppliers(self, count: int = 20) -> None:
        """Suppliers with hidden reliability: most good, a few much worse."""
        rng = self.rng
        for i in range(count):
            n = self.next_id("supplier")
            tier = 0 if i % 10 < 6 else 1 if i % 10 < 8 else 2
            delay, cancel, max_delay = ((0.05, 0.01, 7), (0.2, 0.04, 15), (0.5, 0.12, 40))[tier]
            country = rng.choice(_SUPPLIER_COUNTRIES)
            lead = rng.randrange(7, 15) if country == "South Africa" else rng.randrange(21, 45)
            _, first, last = self.person()
            name = f"{self.companies[i % len(self.companies)]} (Pty) Ltd"
            rec: dict[str, Any] = {
                "supplier_id": f"SUP-{n:03d}",
                "supplier_name": name,
                "supplier_type": rng.choice(_SUPPLIER_TYPES),
                "country": country,
                "contact_email": self.email(first, last, f"{_slug(name)[:12]}.com"),
                "contact_phone": self.phone(),
                "lead_time_days": lead,
                "status": "ACTIVE",
            }
            self.suppliers.append(Supplier(rec["supplier_id"], rec, lead, delay, cancel, max_delay))

    def new_vehicle(self, line: StockLine, built_ms: int) -> dict[str, Any]:
        """A vehicle just built for a stock line; it joins the line's stock."""
        rng = self.rng
        m = line.model
        day = built_ms // DAY_MS
        date_s = self.fmt.day(day)
        year = int(date_s[:4])
        vin = make_vin(m.vds, year, m.plant, self.next_id("vin"))
        rec = {
            "vin": vin,
            "make": m.make,
            "model": m.name,
            "model_code": m.code,
            "body_type": m.body_type,
            "model_year": year,
            "color": rng.choice(COLOURS),
            "engine_type": rng.choice(m.engines),
            "transmission": "AUTOMATIC" if rng.random() < 0.65 else "MANUAL",
            "manufacture_country": "South Africa",
            "manufacture_date": date_s,
            "list_price": money(m.base_price_cents + rng.randrange(0, 40) * 100_000),
            "status": "IN_STOCK",
            "dealer_id": line.dealer.dealer_id,
        }
        line.vins.append(vin)
        self.in_stock[vin] = rec
        return rec

    # -- the road -----------------------------------------------------------
    def add_sold(self, vin: str, dealer: Dealer, electric: bool) -> None:
        """A vehicle leaves the showroom; the oldest beyond the window is forgotten."""
        rng = self.rng
        sv = SoldVehicle(
            vin,
            dealer,
            rng.randrange(5, 60),
            rng.random() < 0.08,
            electric,
            dealer.city.lat,
            dealer.city.lon,
        )
        if len(self.sold) < self._sold_cap:
            self.sold.append(sv)
        else:
            self.sold[self._sold_next] = sv
            self._sold_next = (self._sold_next + 1) % self._sold_cap

    def random_customer(self) -> dict[str, Any] | None:
        """A customer from the pool (never a deleted or rejected one)."""
        c = self.customers
        return c[int(self.rng.random() * len(c))] if c else None
