"""Telemetry (key vin): the seed's physical ranges (speed 0-350 km/h, fuel 0-100 %,
engine -50..250 C); the vehicle must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="iot.telemetry",
    key_field="vin",
    vins=("vin",),
    ranges=(("speed_kmh", 0, 350), ("fuel_level_pct", 0, 100), ("engine_temp_c", -50, 250)),
    refs=(("vin", "erp.vehicles"),),
)
