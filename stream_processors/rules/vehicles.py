"""Vehicles (master data, key vin): the VIN is normalised and check-digit validated;
model year 1980-2100."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.vehicles",
    key_field="vin",
    vins=("vin",),
    text=("color", "manufacture_country"),
    ranges=(("model_year", 1980, 2100),),
)
