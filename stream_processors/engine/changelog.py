"""The state changelog topics: their names, their creation, and reading one back.

Two compacted topics per app, partitioned like the raw topics: partition p
of ``<app>-dedup-changelog`` and ``<app>-parked-changelog`` holds the state
of partition number p. Records are written in the same transaction as the
outputs they belong to, so a read_committed reader sees exactly the state
of committed work.
"""

from __future__ import annotations

import contextlib
import logging
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.exceptions import ServiceUnavailableError

__all__ = ["CHANGELOGS", "changelog_topic", "ensure_changelogs", "read_to_end"]

log = logging.getLogger("orion.processor")
CHANGELOGS = ("dedup", "parked")
Rows = list[tuple[bytes, bytes | None]]


def changelog_topic(app_id: str, name: str) -> str:
    return f"{app_id}-{name}-changelog"


def ensure_changelogs(admin: AdminClient, app_id: str, partitions: int) -> None:
    """Create the changelog topics that are missing (compacted, one per state)."""
    existing = admin.list_topics(timeout=10).topics
    config = {"cleanup.policy": "compact", "segment.ms": "600000",
              "min.cleanable.dirty.ratio": "0.2"}  # fmt: skip
    new = [
        NewTopic(
            changelog_topic(app_id, n),
            num_partitions=partitions,
            replication_factor=-1,  # the broker's default: 1 alone, 3 on a cluster
            config=config,
        )
        for n in CHANGELOGS
        if changelog_topic(app_id, n) not in existing
    ]
    if not new:
        return
    for name, fut in admin.create_topics(new).items():
        with contextlib.suppress(KafkaException):  # created meanwhile by another worker
            fut.result(timeout=30)
        log.info("created changelog topic", extra={"topic": name})


def end_offsets(reader: Consumer, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The last stable offset of each partition (what a read_committed reader can reach)."""
    out = {}
    for t, p in tps:
        try:
            out[(t, p)] = int(reader.get_watermark_offsets(TopicPartition(t, p), timeout=10,
                                                           cached=False)[1])  # fmt: skip
        except KafkaException as e:
            raise ServiceUnavailableError(f"cannot read the end of changelog {t}[{p}]: {e}") from e
    return out


def read_to_end(
    reader: Consumer, starts: dict[tuple[str, int], int | None]
) -> tuple[dict[tuple[str, int], Rows], dict[tuple[str, int], int]]:
    """Every committed record from each start (None: the beginning) to the end offset.

    Returns the rows per partition and the end offsets reached, to catch up from
    next time. Raises ServiceUnavailableError when the broker does not answer.
    """
    ends = end_offsets(reader, list(starts))
    rows: dict[tuple[str, int], Rows] = {tp: [] for tp in starts}
    todo = {tp for tp in starts if ends[tp] > (starts[tp] or 0)}
    if todo:
        reader.assign([TopicPartition(t, p, _start(starts[(t, p)])) for t, p in todo])
        deadline = time.monotonic() + 300
        try:
            while todo:
                if time.monotonic() > deadline:
                    raise ServiceUnavailableError(f"reading changelogs {sorted(todo)} timed out")
                for msg in reader.consume(10000, timeout=0.5):
                    if msg.error() is not None:
                        continue
                    tp = (msg.topic() or "", msg.partition() or 0)
                    if tp in todo and (msg.offset() or 0) < ends[tp]:
                        rows[tp].append((msg.key() or b"", msg.value()))
                for pos in reader.position([TopicPartition(t, p) for t, p in todo]):
                    if pos.offset >= ends[(pos.topic, pos.partition)]:
                        todo.discard((pos.topic, pos.partition))
        finally:
            reader.unassign()
    return rows, ends


def _start(offset: int | None) -> int:
    return OFFSET_BEGINNING if offset is None else offset
