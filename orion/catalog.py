"""The topic and schema catalog, and each entity's facts, read from the ``.avsc`` files.

``schemas/avro/raw/<domain>.<entity>.avsc`` defines topic
``raw.<domain>.<entity>``; its strict twin under ``clean/`` defines
``clean.<domain>.<entity>``; ``dlq.<domain>.<entity>`` carries the original
bytes of rejected records and has no schema. An entity is master data when
its schema carries ``updated_at`` and ``operation``. Nothing here restates a
schema: Python reads the files.

What Avro types cannot say, the clean schema says in extra attributes (the
Avro spec allows them; parsers and the registry keep them), declared once and
read by every stage:

- on the record, ``orion.partition_key`` (the Kafka message key: what
  co-partitions an entity with what it references) and
  ``orion.business_key`` (the fields that identify one row: the warehouse's
  natural key);
- on a field, ``orion.references`` (the stem of the entity whose key it
  holds), ``orion.kind`` (``email``, ``phone``, ``vin`` or ``text``: how it is
  repaired and validated, and how the simulator damages it) and
  ``orion.range`` (``[low, high]``, its physical bounds), and ``orion.sum_of``
  (the fields it must equal the sum of, a ``-`` before a name subtracting it:
  ``final_price`` is ``["sale_price", "-discount_amount"]``; the warehouse's
  CHECK constraints hold the same).

The raw schema says how sources name things: a field's ``orion.headers``
lists the column headers export files use for it besides its own name
(``"Price (ZAR)"`` for ``sale_price``); the file ingester matches headers
after folding case and dropping everything but letters and digits, so
``Sale ID``, ``sale_id`` and ``SALEID`` need no entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import SchemaParseException

from orion.exceptions import SchemaError

SCHEMA_ROOT = Path(__file__).resolve().parents[1] / "schemas" / "avro"
LAYERS = ("raw", "clean")
ENVELOPE = ("event_id", "event_type", "source_system", "event_time", "produced_at")
"""Fields every event carries, before its business fields."""
MASTER_ENVELOPE = ("updated_at", "operation")
"""Fields master data carries on top: when the source changed it, and how."""
KINDS = frozenset({"email", "phone", "vin", "text"})


@dataclass(frozen=True)
class Entity:
    """One business entity, its three topics, and its facts from the clean schema."""

    domain: str
    name: str
    master: bool
    partition_key: str = ""
    business_key: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()
    """(field, referent stem): the field holds the referent's partition key."""
    kinds: tuple[tuple[str, str], ...] = ()
    """(field, kind), kind one of :data:`KINDS`."""
    ranges: tuple[tuple[str, float, float], ...] = ()
    """(field, low, high): physical bounds."""
    sums: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    """(field, ((term, +1 or -1), ...)): the field equals the signed sum of the terms."""
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(raw field, other column headers export files use for it), from the raw schema."""
    root: Path = SCHEMA_ROOT
    """The schema folder it was read from (another one in tests)."""

    @property
    def stem(self) -> str:
        return f"{self.domain}.{self.name}"

    def topic(self, layer: str) -> str:
        """``raw``, ``clean`` or ``dlq`` topic of this entity."""
        return f"{layer}.{self.stem}"

    def schema_path(self, layer: str) -> Path:
        return self.root / layer / f"{self.stem}.avsc"

    def of_kind(self, kind: str) -> tuple[str, ...]:
        """The fields of one kind, in schema order."""
        return tuple(f for f, k in self.kinds if k == kind)


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
    out = [_entity(root / "clean" / f"{stem}.avsc") for stem in sorted(raw)]
    stems = {e.stem: e for e in out}
    for e in out:
        for name, referent in e.references:
            if referent not in stems:
                raise SchemaError(
                    f"{e.schema_path('clean')}: {name} references {referent!r}, no such entity",
                    fix="orion.references names another entity's stem, e.g. erp.dealers",
                )
    return tuple(out)


def _entity(path: Path) -> Entity:
    """One entity from its clean schema; SchemaError when an ``orion.*`` attribute is wrong."""
    schema = load_schema(path)
    domain, _, name = path.stem.partition(".")
    fields = {f["name"]: f for f in schema["fields"]}

    def bad(what: str) -> SchemaError:
        return SchemaError(f"{path}: {what}", fix="see the orion.* attributes in orion/catalog.py")

    partition_key = schema.get("orion.partition_key")
    business_key = schema.get("orion.business_key")
    if partition_key not in fields:
        raise bad(f"orion.partition_key {partition_key!r} is not a field")
    if not isinstance(business_key, list) or not business_key:
        raise bad("orion.business_key must be a non-empty list of fields")
    if unknown := [k for k in business_key if k not in fields]:
        raise bad(f"orion.business_key names unknown fields {unknown}")
    references, kinds, ranges, sums = [], [], [], []
    for f in schema["fields"]:
        if (referent := f.get("orion.references")) is not None:
            references.append((f["name"], str(referent)))
        if (kind := f.get("orion.kind")) is not None:
            if kind not in KINDS:
                raise bad(f"{f['name']}: orion.kind {kind!r} is not one of {sorted(KINDS)}")
            kinds.append((f["name"], str(kind)))
        if (bounds := f.get("orion.range")) is not None:
            numbers = (
                isinstance(bounds, list)
                and len(bounds) == 2
                and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            )
            if not (numbers and bounds[0] < bounds[1]):
                raise bad(f"{f['name']}: orion.range must be [low, high], got {bounds!r}")
            ranges.append((f["name"], float(bounds[0]), float(bounds[1])))
        if (terms := f.get("orion.sum_of")) is not None:
            ok = isinstance(terms, list) and terms and all(isinstance(t, str) for t in terms)
            names = [str(t).removeprefix("-") for t in terms] if ok else []
            if not ok or any(n not in fields for n in names):
                raise bad(f"{f['name']}: orion.sum_of must list fields, got {terms!r}")
            signed = tuple(
                (n, -1 if str(t).startswith("-") else 1) for n, t in zip(names, terms, strict=True)
            )
            sums.append((f["name"], signed))
    headers = []
    for f in load_schema(path.parents[1] / "raw" / path.name)["fields"]:
        if (names := f.get("orion.headers")) is not None:
            if not (
                isinstance(names, list)
                and names
                and all(isinstance(n, str) and n.strip() for n in names)
            ):
                raise bad(f"raw {f['name']}: orion.headers must be a list of non-empty strings")
            headers.append((f["name"], tuple(names)))
    return Entity(
        domain=domain,
        name=name,
        master=set(MASTER_ENVELOPE) <= set(fields),
        partition_key=str(partition_key),
        business_key=tuple(str(k) for k in business_key),
        references=tuple(references),
        kinds=tuple(kinds),
        ranges=tuple(ranges),
        sums=tuple(sums),
        headers=tuple(headers),
        root=path.parents[1],
    )


def dependency_order(root: Path = SCHEMA_ROOT) -> tuple[Entity, ...]:
    """Every entity, each after the entities it references (ties by stem).

    The order a batch source should send in, so a fact's master data is there
    before it: the file ingester takes its pending files in this order.
    """
    by_stem = {e.stem: e for e in entities(root)}
    graph = TopologicalSorter(
        {s: {r for _, r in e.references if r != s} for s, e in by_stem.items()}
    )
    graph.prepare()
    out: list[Entity] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        out.extend(by_stem[s] for s in ready)
        graph.done(*ready)
    return tuple(out)


def entity(stem: str) -> Entity:
    """The entity of a stem such as ``erp.sales``; SchemaError if there is none."""
    for e in entities():
        if e.stem == stem:
            return e
    raise SchemaError(f"no entity {stem!r}", fix="entities are the stems of schemas/avro/clean/")


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
