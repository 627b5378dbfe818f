"""One partition's local key-value store: RocksDB through rocksdict's public API.

Who uses it: :class:`~stream_processors.state.dedup.DedupTable`, for the keys
that grow with the stream (a 7-day dedup window at 15k events/s is billions
of keys; memory would not hold them). The store is only a cache of the
partition's changelog topic: it is created empty (its directory wiped) when
a partition is first assigned to this process and filled from the
changelog, written only with changes whose transaction has committed, and
deleted when the partition leaves the worker for good. So nothing on local
disk is needed for correctness, and a killed process leaves nothing to trust.

Memory is bounded per store: two write buffers of a quarter of
``memory_mib`` each and a block cache of half of it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import rocksdict

__all__ = ["RocksStore"]

_MIB = 1024 * 1024


class RocksStore:
    """Raw bytes to raw bytes, with atomic batch writes and ordered range scans."""

    def __init__(self, path: Path, memory_mib: int) -> None:
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        half = memory_mib * _MIB // 2
        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        opts.set_write_buffer_size(half // 2)
        opts.set_max_write_buffer_number(2)
        opts.set_target_file_size_base(16 * _MIB)
        table = rocksdict.BlockBasedOptions()
        table.set_block_cache(rocksdict.Cache(half))
        opts.set_block_based_table_factory(table)
        self._db = rocksdict.Rdict(str(path), opts)

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key)
        return value

    def write(self, puts: dict[bytes, bytes | None]) -> None:
        """Apply puts (None: delete) atomically."""
        if not puts:
            return
        batch = rocksdict.WriteBatch(raw_mode=True)
        for k, v in puts.items():
            if v is None:
                batch.delete(k)
            else:
                batch.put(k, v)
        self._db.write(batch)

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, stop), in order."""
        it = self._db.iter()
        it.seek(start)
        while it.valid():
            key: bytes = it.key()
            if key >= stop:
                break
            yield key, it.value()
            it.next()

    def close(self) -> None:
        """Close and delete the files: the changelog is what survives."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
