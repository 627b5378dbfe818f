"""IoT: telemetry readings from sold vehicles.

About 8% of vehicles carry a hidden fault: a quarter of their readings are
anomalous (engine above 110 C, or a diagnostic trouble code), against 1% for
healthy vehicles. An anomaly often books a service job days later (mostly
warranty claims), so anomalies precede service events for the same VIN far
more often than chance - no field says so; it is in the data.
"""

from __future__ import annotations

from collections.abc import Callable

from producers.clock import DAY_MS
from producers.events import Draft
from producers.topics import TOPICS
from producers.world import SoldVehicle, World

__all__ = ["IotSource"]

_TELEMETRY = TOPICS["raw.iot.telemetry"]
_CODES = ("P0217", "P0118", "P0300", "P0420", "P0171", "P0128", "P0562")

# Books a service job for a vehicle: (vehicle, is warranty) -> drafts.
Service = Callable[[SoldVehicle, bool], list[Draft]]


class IotSource:
    """Builds telemetry drafts; the simulation decides when."""

    def __init__(self, world: World, service: Service) -> None:
        self.w = world
        self._service = service

    def _book(self, arg: tuple[SoldVehicle, bool]) -> list[Draft]:
        return self._service(*arg)

    def reading(self) -> list[Draft]:
        """One reading from a random vehicle on the road."""
        w = self.w
        rng = w.rng
        if not w.sold:
            return []
        sv = w.sold[int(rng.random() * len(w.sold))]
        rnd = rng.random
        sv.odometer += 3 + int(rnd() * 147)
        speed = round(15.0 + rnd() * 125.0, 1) if rnd() < 0.8 else 0.0
        temp = round((25.0 + rnd() * 20.0) if sv.electric else (82.0 + rnd() * 22.0), 1)
        codes: list[str] = []
        if rnd() < (0.25 if sv.faulty else 0.01):
            if rng.random() < 0.6:
                temp = round(rng.uniform(111.0, 138.0), 1)
                codes = ["P0217"] if rng.random() < 0.5 else []
            else:
                codes = [rng.choice(_CODES)]
            if not sv.service_due and rng.random() < (0.5 if sv.faulty else 0.15):
                sv.service_due = True
                w.schedule(
                    w.now + rng.randrange(2, 22) * DAY_MS, self._book, (sv, rng.random() < 0.75)
                )
        rec = {
            "telemetry_id": f"TEL-{w.next_id('telemetry'):010d}",
            "vin": sv.vin,
            "speed_kmh": speed,
            "fuel_level_pct": round(4.0 + rnd() * 96.0, 1),
            "engine_temp_c": temp,
            "latitude": round(sv.lat - 0.3 + rnd() * 0.6, 5),
            "longitude": round(sv.lon - 0.3 + rnd() * 0.6, 5),
            "odometer_km": sv.odometer,
            "error_codes": codes,
        }
        return [Draft(_TELEMETRY, rec, "telemetry.reading", w.at, sv.vin)]
