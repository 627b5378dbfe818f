"""CRM interactions (key customer_id): the customer and the dealer must exist."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="crm.interactions",
    key_field="customer_id",
    refs=(("customer_id", "crm.customers"), ("dealer_id", "erp.dealers")),
)
