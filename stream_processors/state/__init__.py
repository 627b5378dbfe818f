"""Per-partition state of a processor worker, shaped like Kafka Streams' state stores.

* :mod:`.dedup` - seen events, in RocksDB (:mod:`.store`), expiring by event time.
* :mod:`.parked` - facts waiting for master data, in memory.
* :mod:`.partition` - both, for one partition number, with commit and abort.

Every change is a changelog record written in the transaction that made it
and applied locally only after that transaction committed; a partition's
state is rebuilt from its changelogs when it is assigned.
"""

from stream_processors.state.dedup import DedupTable, Seen, dedup_key
from stream_processors.state.parked import Judged, Parked, ParkedTable
from stream_processors.state.partition import PENDING, PartitionState
from stream_processors.state.store import RocksStore

__all__ = [
    "PENDING",
    "DedupTable",
    "Judged",
    "Parked",
    "ParkedTable",
    "PartitionState",
    "RocksStore",
    "Seen",
    "dedup_key",
]
