"""The .avsc files: present, parseable, documented, with one envelope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from orion.catalog import SCHEMA_ROOT as SCHEMA_DIR
from producers.topics import TOPICS

STEMS = sorted(s.stem for s in TOPICS.values())
ENVELOPE = ["event_id", "event_type", "source_system", "event_time", "produced_at"]
MASTER = {"erp.vehicles", "erp.dealers", "crm.customers", "supplier.suppliers"}


def _load(layer: str, stem: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / layer / f"{stem}.avsc").read_text())
    return schema


def test_fourteen_topics_in_both_layers() -> None:
    assert len(STEMS) == 14
    for layer in ("raw", "clean"):
        found = sorted(p.stem for p in Path(SCHEMA_DIR / layer).glob("*.avsc"))
        assert found == STEMS


@pytest.mark.parametrize("layer", ["raw", "clean"])
@pytest.mark.parametrize("stem", STEMS)
def test_parses_and_is_named(layer: str, stem: str) -> None:
    schema = _load(layer, stem)
    fastavro.schema.parse_schema(schema)
    assert schema["namespace"] == f"orion.{layer}.{stem.split('.')[0]}"
    assert schema["name"][0].isupper() and "_" not in schema["name"]


def _docs_missing(node: Any, path: str) -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("record", "enum") and not node.get("doc"):
            missing.append(path)
        for f in node.get("fields", []):
            if not f.get("doc"):
                missing.append(f"{path}.{f['name']}")
            missing += _docs_missing(f["type"], f"{path}.{f['name']}")
    elif isinstance(node, list):
        for t in node:
            missing += _docs_missing(t, path)
    return missing


@pytest.mark.parametrize("layer", ["raw", "clean"])
def test_every_record_field_and_enum_has_a_doc(layer: str) -> None:
    missing = [m for stem in STEMS for m in _docs_missing(_load(layer, stem), stem)]
    assert missing == []


def test_envelope_identical_everywhere() -> None:
    reference = _load("raw", STEMS[0])["fields"][:5]
    master_ref = _load("raw", "erp.vehicles")["fields"][5:7]
    assert [f["name"] for f in reference] == ENVELOPE
    assert [f["name"] for f in master_ref] == ["updated_at", "operation"]
    for layer in ("raw", "clean"):
        for stem in STEMS:
            fields = _load(layer, stem)["fields"]
            assert fields[:5] == reference, (layer, stem)
            has_master = [f["name"] for f in fields[5:7]] == ["updated_at", "operation"]
            assert has_master == (stem in MASTER), (layer, stem)
            if has_master:
                assert fields[5:7] == master_ref


@pytest.mark.parametrize("stem", STEMS)
def test_raw_is_permissive_and_clean_is_strict(stem: str) -> None:
    raw = {f["name"]: f["type"] for f in _load("raw", stem)["fields"]}
    clean = {f["name"]: f["type"] for f in _load("clean", stem)["fields"]}
    assert list(raw) == list(clean)
    body = [n for n in raw if n not in ENVELOPE and n not in ("updated_at", "operation")]
    for name in body:
        if isinstance(raw[name], dict):  # arrays stay arrays
            assert raw[name]["type"] == "array"
        else:
            assert raw[name] == ["null", "string"], name
    money = [t for t in clean.values() if isinstance(t, dict) and t.get("logicalType") == "decimal"]
    for t in money:
        assert (t["precision"], t["scale"]) == (18, 2)
    assert all(
        t != ["null", "string"] for n, t in clean.items() if n in TOPICS[f"raw.{stem}"].required
    )
