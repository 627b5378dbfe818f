"""The topic and schema catalog, read from the ``.avsc`` files.

``schemas/avro/raw/<domain>.<entity>.avsc`` defines topic
``raw.<domain>.<entity>``; its strict twin under ``clean/`` defines
``clean.<domain>.<entity>``; ``dlq.<domain>.<entity>`` carries the original
bytes of rejected records and has no schema. An entity is master data when
its schema carries ``updated_at`` and ``operation``. Nothing here restates a
schema: Python reads the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import SchemaParseException

from orion.exceptions import SchemaError

SCHEMA_ROOT = Path(__file__).resolve().parents[1] / "schemas" / "avro"
LAYERS = ("raw", "clean")


@dataclass(frozen=True)
class Entity:
    """One business entity and its three topics."""

    domain: str
    name: str
    master: bool

    @property
    def stem(self) -> str:
        return f"{self.domain}.{self.name}"

    def topic(self, layer: str) -> str:
        """``raw``, ``clean`` or ``dlq`` topic of this entity."""
        return f"{layer}.{self.stem}"

    def schema_path(self, layer: str) -> Path:
        return SCHEMA_ROOT / layer / f"{self.stem}.avsc"


def load_schema_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_schema(path: Path) -> dict[str, Any]:
    """Read and check one ``.avsc`` file; SchemaError names the file and the problem."""
    try:
        schema: dict[str, Any] = json.loads(load_schema_text(path))
        parse_schema(schema)
    except (json.JSONDecodeError, SchemaParseException, KeyError, TypeError) as e:
        raise SchemaError(
            f"{path}: not a valid Avro schema: {e}",
            fix="correct the file; `orion schemas check` validates them all",
        ) from e
    return schema


@cache
def entities(root: Path = SCHEMA_ROOT) -> tuple[Entity, ...]:
    """Every entity, sorted by topic name, each with a raw and a clean schema."""
    raw = {p.stem for p in (root / "raw").glob("*.avsc")}
    clean = {p.stem for p in (root / "clean").glob("*.avsc")}
    if raw != clean:
        raise SchemaError(
            f"raw and clean schemas differ: only raw {sorted(raw - clean)}, "
            f"only clean {sorted(clean - raw)}",
            fix="every entity needs schemas/avro/raw/X.avsc and schemas/avro/clean/X.avsc",
        )
    out = []
    for stem in sorted(raw):
        domain, _, name = stem.partition(".")
        fields = {f["name"] for f in load_schema(root / "clean" / f"{stem}.avsc")["fields"]}
        out.append(Entity(domain=domain, name=name, master={"updated_at", "operation"} <= fields))
    return tuple(out)


def entity_for_topic(topic: str) -> Entity:
    layer, _, stem = topic.partition(".")
    for entity in entities():
        if entity.stem == stem and layer in (*LAYERS, "dlq"):
            return entity
    raise SchemaError(
        f"no schema for topic {topic!r}",
        fix="topics are raw.|clean.|dlq.<domain>.<entity> of schemas/avro/",
    )


def subject(topic: str) -> str:
    """Registry subject of a topic's values (TopicNameStrategy)."""
    return f"{topic}-value"
