"""Commissions (key sale_id): the sale and the earning dealer must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="finance.commissions",
    key_field="sale_id",
    refs=(("sale_id", "erp.sales"), ("dealer_id", "erp.dealers")),
)
