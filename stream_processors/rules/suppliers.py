"""Suppliers (master data, key supplier_id): contact e-mail and phone validated."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="supplier.suppliers",
    key_field="supplier_id",
    emails=("contact_email",),
    phones=("contact_phone",),
    text=("supplier_name", "country"),
)
