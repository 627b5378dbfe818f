"""Payments (key sale_id, so the payments of a sale stay ordered): the sale must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="finance.payments",
    key_field="sale_id",
    refs=(("sale_id", "erp.sales"),),
)
