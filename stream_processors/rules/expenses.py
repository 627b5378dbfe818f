"""Expenses (key expense_id): money and dates only; no references."""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="finance.expenses",
    key_field="expense_id",
    text=("cost_centre",),
)
