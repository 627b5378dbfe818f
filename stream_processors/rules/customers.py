"""Customers (master data, key customer_id): e-mail and SA phone validated,
names and address de-garbaged."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="crm.customers",
    key_field="customer_id",
    emails=("email",),
    phones=("phone",),
    text=("first_name", "last_name", "street_name", "suburb", "city"),
)
