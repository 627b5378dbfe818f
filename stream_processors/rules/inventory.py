"""Inventory levels (key inventory_id): the dealer holding the stock must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.inventory",
    key_field="inventory_id",
    text=("make", "model"),
    refs=(("dealer_id", "erp.dealers"),),
)
