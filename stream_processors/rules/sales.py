"""Sales (key sale_id): money repaired/validated; customer, vehicle and dealer must exist.

Sales are themselves referenced by payments and commissions, so a parked sale
holds back the payments of its partition (see stream_processors.references).
"""

from __future__ import annotations

from stream_processors.rules.base import EntityRules

RULES = EntityRules(
    stem="erp.sales",
    key_field="sale_id",
    vins=("vin",),
    refs=(("customer_id", "crm.customers"), ("vin", "erp.vehicles"), ("dealer_id", "erp.dealers")),
)
