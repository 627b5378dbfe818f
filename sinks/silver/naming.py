"""Partitioner: where a silver object goes, from the records it holds.

Keys are ``<prefix>/<stem>/dt=<event day>/<topic>+<partition>+<start offset>.parquet``:
the entity stem (``erp.sales``) names the folder, the event day (UTC date of
the record's ``event_time``, never the wall clock) the ``dt=`` partition
readers prune on, and the topic, partition and zero-padded first offset the
object, so listing a folder sorts its objects in offset order and a rewrite
after a crash lands on the same key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["OFFSET_DIGITS", "ObjectName", "event_day"]

OFFSET_DIGITS = 20


def event_day(event_time: dt.datetime) -> dt.date:
    """The ``dt=`` partition of a record: the UTC date of its event time."""
    if event_time.tzinfo is None:
        return event_time.date()
    return event_time.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class ObjectName:
    prefix: str
    stem: str
    day: dt.date
    topic: str
    partition: int
    start_offset: int

    @property
    def folder(self) -> str:
        """The entity's folder, which holds every ``dt=`` partition."""
        return f"{self.prefix.strip('/')}/{self.stem}"

    @property
    def key(self) -> str:
        return (
            f"{self.folder}/dt={self.day.isoformat()}/"
            f"{self.topic}+{self.partition}+{self.start_offset:0{OFFSET_DIGITS}d}.parquet"
        )
