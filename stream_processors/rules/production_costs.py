"""Production costs (key vin): the VIN is normalised and must name a known vehicle."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.production_costs",
    key_field="vin",
    vins=("vin",),
    text=("plant",),
    refs=(("vin", "erp.vehicles"),),
)
