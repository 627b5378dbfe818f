"""What one micro-batch carries from the consumer to the writer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Batch", "Item", "Rejected"]


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded record of a clean topic and where it came from."""

    stem: str
    topic: str
    partition: int
    offset: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be loaded; stored in metadata.rejected_records with its reason."""

    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    value: bytes | None


@dataclass
class Batch:
    """Records and rejects in offset order per partition, and the positions they end at."""

    items: list[Item] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items) + len(self.rejected)

    def advance(self, topic: str, partition: int, offset: int) -> None:
        """Record that everything up to ``offset`` of the partition is in this batch."""
        self.offsets[(topic, partition)] = offset + 1

    def by_stem(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in self.items:
            out[item.stem].append(item.record)
        return out

    def singles(self) -> list[Batch]:
        """One batch per record, in order: how a batch that fails a constraint is retried."""
        keyed: list[tuple[str, int, int, Batch]] = []
        for item in self.items:
            b = Batch(items=[item])
            b.advance(item.topic, item.partition, item.offset)
            keyed.append((item.topic, item.partition, item.offset, b))
        for r in self.rejected:
            b = Batch(rejected=[r])
            b.advance(r.topic, r.partition, r.offset)
            keyed.append((r.topic, r.partition, r.offset, b))
        keyed.sort(key=lambda k: k[:3])
        # Offsets of skipped records (tombstones) are carried by a final empty batch.
        return [k[3] for k in keyed] + [Batch(offsets=dict(self.offsets))]
