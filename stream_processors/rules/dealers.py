"""Dealers (master data, key dealer_id): contact e-mail and SA phone validated,
free text de-garbaged."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.dealers",
    key_field="dealer_id",
    emails=("contact_email",),
    phones=("contact_phone",),
    text=("dealer_name", "contact_name", "street", "city"),
)
