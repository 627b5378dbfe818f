"""Procurement orders (key procurement_id): the supplier and the dealer must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="supplier.procurement",
    key_field="procurement_id",
    refs=(("supplier_id", "supplier.suppliers"), ("dealer_id", "erp.dealers")),
)
