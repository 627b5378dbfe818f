"""One business timeline for all sources: the public entry point :func:`simulate`.

Order of the stream: the master data first (dealers, suppliers, the opening
customer population, the opening stock with its production costs and stock
levels), then a mix of spontaneous activity (telemetry, sales, interactions,
expenses, master changes, routine service) and scheduled follow-ups
(instalments, payment status changes, procurement deliveries and delays,
service after anomalies) on one clock. Follow-ups of an event come after it,
so every reference points at something already sent.

The clock advances a fixed step per event sent: ``(end - start) /
total_events`` when the total is known (the events span start..end, South
African calendar days), else one day per ``events_per_day`` events.
Everything random comes from one ``random.Random(seed)``: no wall clock, no
``uuid4``, no global random state. Sources that are not selected are still
simulated (the world must stay whole) but their events are not yielded.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from orion.reasons import DefectKind, Outcome, Reason
from producers.clock import DAY_MS, SAST_OFFSET_MS, date_to_ms, new_uuid
from producers.config import SimulationConfig, validate
from producers.crm import CrmSource
from producers.defects import FIELD_KINDS, DefectInjector
from producers.erp import ErpSource
from producers.events import Draft, SimEvent
from producers.finance import FinanceSource
from producers.iot import IotSource
from producers.ledger import LedgerRecord
from producers.supplier import SupplierSource
from producers.topics import TOPICS
from producers.world import World

__all__ = ["SimEvent", "Simulation", "SimulationConfig", "simulate"]

K = DefectKind
RECENT_WINDOW = 256
"""Duplicates repeat one of the last this-many clean events."""
_HOUR = 3_600_000


def simulate(config: SimulationConfig) -> Iterator[SimEvent]:
    """Yield the events of a simulation run (see :class:`SimulationConfig`).

    Raises SimulationConfigError before yielding anything if the config is bad.
    """
    return iter(Simulation(config))


class Simulation:
    """The state of one run; iterate it once."""

    def __init__(self, config: SimulationConfig) -> None:
        rates = validate(config)
        self.config = config
        # Simulation, not cryptography: a seeded PRNG is the point.
        self.rng = rng = random.Random(config.seed)  # noqa: S311
        self.world = w = World(rng, config.seed)
        self._selected = frozenset(t for t, s in TOPICS.items() if s.source in config.sources)
        self._topics = sorted(self._selected)
        self._start = date_to_ms(config.start) - SAST_OFFSET_MS
        total = config.total_events
        if total is None:
            self._step = DAY_MS / config.events_per_day
        else:
            span = ((config.end - config.start).days + 1) * DAY_MS
            self._step = span / total
        self._t = float(self._start)
        w.now = w.at = self._start
        self._seq = 0
        self._pending: deque[Draft] = deque()
        self._recent: list[SimEvent] = []
        self._recent_pos = 0
        # Stream-level defects, decided before an event is drawn.
        self._p_resend = rates[K.EXACT_RESEND]
        self._p_dup = self._p_resend + rates[K.BUSINESS_DUPLICATE]
        self._p_stream = self._p_dup + rates[K.POISON]
        self._p_late = rates[K.LATE_ARRIVAL]
        self._p_ooo = rates[K.OUT_OF_ORDER]
        self._late_budget = 0.0
        self._ooo_budget = 0.0
        rest = 1.0 - self._p_stream - self._p_late - self._p_ooo
        p_field = sum(rates[k] for k in FIELD_KINDS)
        p_field = min(1.0, p_field / rest) if rest > 0 else 1.0
        self._p_field = p_field
        self.injector = DefectInjector(rng, w, rates)
        self._wire(config)

    def _wire(self, config: SimulationConfig) -> None:
        w = self.world
        w.build_dealers()
        w.build_suppliers()
        self.finance = FinanceSource(w)
        self.supplier = SupplierSource(w)
        self.erp = ErpSource(w, self.finance.on_sale, self.supplier.order)
        self.supplier.deliver = self.erp.deliver
        self.crm = CrmSource(w)
        self.iot = IotSource(w, self.erp.service)
        erp, crm, fin, sup, iot = self.erp, self.crm, self.finance, self.supplier, self.iot
        weighted: list[tuple[Callable[[], list[Draft]], int]] = [
            (iot.reading, 150),
            (erp.sale, 20),
            (crm.interaction, 24),
            (fin.expense, 8),
            (crm.change, 6),
            (crm.register, 4),
            (erp.service, 2),
            (erp.vehicle_change, 2),
            (erp.dealer_change, 1),
            (sup.change, 1),
        ]
        self._acts = [fn for fn, n in weighted for _ in range(n)]
        src = config.sources
        self._late_acts = [
            fn
            for fn, s in (
                (iot.reading, "iot"),
                (erp.sale, "erp"),
                (erp.service, "erp"),
                (crm.interaction, "crm"),
                (fin.expense, "finance"),
            )
            if s in src
        ]
        self._ooo_acts = [
            fn
            for fn, s in ((crm.change, "crm"), (erp.dealer_change, "erp"), (sup.change, "supplier"))
            if s in src
        ]
        total = config.total_events
        customers = 3000 if total is None else max(150, min(3000, total // 25))
        per_line = (2, 7) if total is None or total >= 50_000 else (1, 3)
        self._pending.extend(erp.initial_dealers())
        self._pending.extend(sup.initial_suppliers())
        self._pending.extend(crm.initial_customers(customers))
        self._pending.extend(erp.initial_stock(per_line))

    def __iter__(self) -> Iterator[SimEvent]:
        total = self.config.total_events
        nxt = self._next
        if total is None:
            while True:
                yield nxt()
        else:
            for _ in range(total):
                yield nxt()

    # -- one event ------------------------------------------------------------
    def _next(self) -> SimEvent:
        rng = self.rng
        r = rng.random()
        if r < self._p_stream:
            if r >= self._p_dup:
                ev = self._poison()
            elif self._recent:
                ev = self._duplicate(exact=r < self._p_resend)
            else:
                ev = self._fresh()
        else:
            ev = self._fresh()
        self._t += self._step
        if self._late_budget < 4.0:
            self._late_budget += self._p_late
        if self._ooo_budget < 4.0:
            self._ooo_budget += self._p_ooo
        return ev

    def _fresh(self) -> SimEvent:
        pending = self._pending
        selected = self._selected
        while True:
            if not pending:
                self._refill()
                continue
            d = pending.popleft()
            if d.spec.topic in selected:
                return self._finalize(d)
            if d.on_done is not None:
                pending.extend(d.on_done(True))

    def _refill(self) -> None:
        w, rng = self.world, self.rng
        w.now = w.at = int(self._t)
        due = w.pop_due()
        if due is not None:
            fn, arg = due
            drafts: list[Draft] = fn(arg)
        elif self._ooo_budget >= 1.0 and self._ooo_acts:
            self._ooo_budget -= 1.0
            drafts = rng.choice(self._ooo_acts)(True)
            if len(drafts) == 2:
                drafts[1].preset = K.OUT_OF_ORDER
        elif self._late_budget >= 1.0 and self._late_acts:
            self._late_budget -= 1.0
            w.at = w.now - rng.randrange(_HOUR, 48 * _HOUR)
            drafts = rng.choice(self._late_acts)()
            w.at = w.now
            if drafts:
                drafts[0].preset = K.LATE_ARRIVAL
        else:
            acts = self._acts
            drafts = acts[int(rng.random() * len(acts))]()
        self._pending.extend(drafts)

    def _finalize(self, d: Draft) -> SimEvent:
        rng = self.rng
        spec = d.spec
        seq = self._seq
        self._seq = seq + 1
        eid = new_uuid(rng)
        t = d.t
        produced = int(self._t) + 20 + int(rng.random() * 2500)
        raw: dict[str, Any] = {
            "event_id": eid,
            "event_type": d.event_type,
            "source_system": spec.source_system,
            "event_time": t,
            "produced_at": produced,
        }
        if spec.master:
            raw["updated_at"] = t
            raw["operation"] = d.operation
        raw.update(d.rec)
        for f in spec.numeric:
            raw[f] = str(raw[f])
        kind = d.preset
        outcome = Outcome.ACCEPT
        reason = None
        key = d.key
        if kind is None and rng.random() < self._p_field:
            kind = self.injector.choose(d, raw)
            if kind is not None:
                outcome, reason, key = self.injector.apply(kind, d, raw)
        parts = None
        if outcome is not Outcome.REJECT:
            parts = (d.rec, d.event_type, spec.source_system, t, produced, d.operation)
        ledger = LedgerRecord(
            seq,
            eid,
            spec.topic,
            key,
            () if kind is None else (kind,),
            outcome,
            reason,
            None,
            None,
            parts,
        )
        ev = SimEvent(spec.topic, key, raw, None, ledger)
        if kind is None:
            self._remember(ev)
        if d.on_done is not None:
            self._pending.extend(d.on_done(outcome is not Outcome.REJECT))
        return ev

    # -- stream-level defects ---------------------------------------------------
    def _remember(self, ev: SimEvent) -> None:
        recent = self._recent
        if len(recent) < RECENT_WINDOW:
            recent.append(ev)
        else:
            recent[self._recent_pos] = ev
            self._recent_pos = (self._recent_pos + 1) % RECENT_WINDOW

    def _duplicate(self, *, exact: bool) -> SimEvent:
        rng = self.rng
        orig = self._recent[int(rng.random() * len(self._recent))]
        seq = self._seq
        self._seq = seq + 1
        first = orig.ledger.event_id
        if exact:
            ledger = LedgerRecord(
                seq,
                first,
                orig.topic,
                orig.key,
                (K.EXACT_RESEND,),
                Outcome.DUPLICATE,
                None,
                first,
                None,
            )
            return SimEvent(orig.topic, orig.key, orig.value, None, ledger)
        assert orig.value is not None
        eid = new_uuid(rng)
        value = dict(orig.value)
        value["event_id"] = eid
        value["produced_at"] = int(self._t) + 20 + int(rng.random() * 2500)
        ledger = LedgerRecord(
            seq,
            eid,
            orig.topic,
            orig.key,
            (K.BUSINESS_DUPLICATE,),
            Outcome.DUPLICATE,
            None,
            first,
            None,
        )
        return SimEvent(orig.topic, orig.key, value, None, ledger)

    def _poison(self) -> SimEvent:
        rng = self.rng
        if self._recent:
            orig = self._recent[int(rng.random() * len(self._recent))]
            topic, key = orig.topic, orig.key
        else:
            topic, key = rng.choice(self._topics), "UNKNOWN"
        style = rng.randrange(3)
        if style == 0:
            payload = f'{{"topic": "{topic}", "key": "{key}", "amount": "R 1 234,50"}}'.encode()
        elif style == 1:
            payload = f"{key},{topic},2025-03-07,1234.50\r\n".encode()
        else:
            payload = b"\xff\xfe" + rng.randbytes(30)
        seq = self._seq
        self._seq = seq + 1
        ledger = LedgerRecord(
            seq,
            new_uuid(rng),
            topic,
            key,
            (K.POISON,),
            Outcome.REJECT,
            Reason.NOT_WIRE_FORMAT,
            None,
            None,
        )
        return SimEvent(topic, key, None, payload, ledger)
