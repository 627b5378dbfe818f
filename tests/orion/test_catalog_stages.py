"""Every stage reads an entity's facts from the catalog: one schema edit reaches them all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from orion.catalog import SCHEMA_ROOT, Entity, entities
from orion.exceptions import SchemaError
from producers.topics import TOPICS, RefKind, spec_of
from sinks.warehouse.tables import DIMENSIONS, DimSpec, Ref, fact_spec, spec_for_stem
from stream_processors.rules import REFERENT_STEMS, rules_for
from stream_processors.rules.base import compile_rules

DIMENSION_STEMS = {d.stem for d in DIMENSIONS.values()}


@pytest.mark.parametrize("e", entities(), ids=lambda e: e.stem)
def test_every_stage_agrees_with_the_catalog(e: Entity) -> None:
    producer = TOPICS[e.topic("raw")]
    assert producer.key_field == e.partition_key
    assert [f for f, _ in producer.refs] == [f for f, _ in e.references]
    for kind, fields in (("email", producer.emails), ("phone", producer.phones),
                         ("vin", producer.vins), ("text", producer.text)):  # fmt: skip
        assert fields == e.of_kind(kind)
    assert rules_for(e.stem).entity == e
    warehouse = spec_for_stem(e.stem)
    if isinstance(warehouse, DimSpec):
        assert (warehouse.key,) == e.business_key
    else:
        assert warehouse.natural_key == e.business_key
        assert [r.column for r in warehouse.refs] == [
            f for f, r in e.references if r in DIMENSION_STEMS
        ]


def test_the_reference_index_follows_every_referent() -> None:
    assert set(REFERENT_STEMS) == {r for e in entities() for _, r in e.references}
    assert {"erp.sales", "erp.dealers", "erp.vehicles"} <= set(REFERENT_STEMS)


def _edit(root: Path, layer: str, stem: str, change: Any) -> None:
    path = root / layer / f"{stem}.avsc"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def test_a_new_foreign_key_is_one_schema_edit(tmp_path: Path) -> None:
    """A customer on service events: the field in both schemas, orion.references in clean."""
    root = tmp_path / "avro"
    shutil.copytree(SCHEMA_ROOT, root)
    field = {"name": "customer_id", "type": "string", "doc": "Who brought the vehicle in."}
    for layer in ("raw", "clean"):
        extra = {"orion.references": "crm.customers"} if layer == "clean" else {}
        _edit(root, layer, "erp.service_events",
              lambda s, x=extra: s["fields"].append({**field, **x}))  # fmt: skip
    service = next(e for e in entities(root) if e.stem == "erp.service_events")
    assert ("customer_id", "crm.customers") in service.references
    rules = compile_rules(service)
    clean = {"vin": "V1", "dealer_id": "DLR-1", "customer_id": "CUS-7"}
    assert ("customer_id", "crm.customers", "CUS-7") in rules.references(clean)
    assert ("customer_id", RefKind.CUSTOMER) in spec_of(service).refs
    fact = fact_spec(service, "fact_service_events", "service_date")
    assert Ref("customer", "customer_id") in fact.refs


@pytest.mark.parametrize(
    ("change", "message"),
    [(lambda s: s["fields"][-1].update({"orion.references": "erp.nothing"}),
      "references 'erp.nothing', no such entity"),
     (lambda s: s["fields"][-1].update({"orion.kind": "iban"}), "orion.kind 'iban' is not one of"),
     (lambda s: s.update({"orion.partition_key": "nope"}), "orion.partition_key 'nope' is not"),
     (lambda s: s.update({"orion.business_key": []}), "orion.business_key must be a non-empty"),
     (lambda s: s["fields"][-1].update({"orion.range": [5, 1]}),
      "orion.range must be [low, high]"),
     (lambda s: s["fields"][-1].update({"orion.range": ["a", 1]}),
      "orion.range must be [low, high]"),
     (lambda s: s["fields"][-1].update({"orion.sum_of": ["sale_price", "-nope"]}),
      "orion.sum_of must list fields"),
     (lambda s: s["fields"][-1].update({"orion.sum_of": "sale_price"}),
      "orion.sum_of must list fields")],
)  # fmt: skip
def test_a_wrong_attribute_names_the_file(tmp_path: Path, change: Any, message: str) -> None:
    root = tmp_path / "avro"
    shutil.copytree(SCHEMA_ROOT, root)
    _edit(root, "clean", "erp.sales", change)
    with pytest.raises(SchemaError, match=r"erp\.sales\.avsc") as raised:
        entities(root)
    assert message in raised.value.message
