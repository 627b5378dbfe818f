"""Service events (key vin): the vehicle and the dealer doing the work must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.service_events",
    key_field="vin",
    vins=("vin",),
    text=("description",),
    refs=(("vin", "erp.vehicles"), ("dealer_id", "erp.dealers")),
)
