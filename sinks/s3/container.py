"""An Avro object container writer for the one KafkaRecord schema, and its checksum, in one pass.

Why not fastavro's ``writer``: it is generic (a schema walk and a union
match per field, three unions per record) and costs about 19 us a record
here, which alone holds the sink under 50,000 records/s (py-spy, see
``BENCHMARKS.md``, "S3 bronze sink"). The schema is fixed and small, so the
binary encoding is written out by hand from the Avro specification (zig-zag
varints, length-prefixed bytes, union branch index, blocked arrays) and the
container framing (magic, metadata map, sync marker, blocks of ``count,
size, data, sync``). Files read back with any Avro reader; the tests read
them with fastavro's ``reader`` and compare every field.

The same loop feeds :func:`sinks.s3.format.records_checksum`'s byte stream
to SHA-256, so the ``orion.records_sha256`` header equals that function's
value (the archive's manifests hold such values) without a second walk.

Codecs: ``null`` and ``deflate`` (raw deflate, as Avro defines it). Others
(``zstandard``) stay with fastavro; :class:`~sinks.s3.format.AvroContainerFormat`
chooses.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future

from sinks.base import KafkaRecord

__all__ = ["CODECS", "encode_container", "encode_records", "schema_text"]

CODECS = frozenset({"null", "deflate"})
MAGIC = b"Obj\x01"
_PACK = struct.Struct(">q").pack
_MINUS_ONE = _PACK(-1)
_PACK4 = struct.Struct(">qqqq").pack


def _varint_table(n: int) -> tuple[bytes, ...]:
    out = []
    for z in range(n):
        b = bytearray()
        while z > 0x7F:
            b.append((z & 0x7F) | 0x80)
            z >>= 7
        b.append(z)
        out.append(bytes(b))
    return tuple(out)


_FINAL = _varint_table(1 << 14)  # complete varints of 0 .. 16383 (1 or 2 bytes)
#: the low 14 bits as two bytes that both say "more follows"
_MORE = tuple(bytes(((z & 0x7F) | 0x80, ((z >> 7) & 0x7F) | 0x80)) for z in range(1 << 14))


def _zigzag(n: int) -> bytes:
    """Avro ``long``/``int``: zig-zag, then base-128 varint, 14 bits per table look-up."""
    z = (n << 1) ^ (n >> 63)
    if z < 16384:
        return _FINAL[z]
    parts = []
    while z >= 16384:
        parts.append(_MORE[z & 0x3FFF])
        z >>= 14
    parts.append(_FINAL[z])
    return b"".join(parts)


def _length(n: int) -> bytes:
    """A non-negative length (zig-zagged: 2n)."""
    return _FINAL[n << 1] if n < 8192 else _zigzag(n)


class _Strings(dict[str, tuple[bytes, bytes]]):
    """Per-string cache of (Avro encoding, checksum encoding): topics and header names repeat."""

    def __missing__(self, s: str) -> tuple[bytes, bytes]:
        raw = s.encode()
        value = (_length(len(raw)) + raw, _PACK(len(raw)) + raw)
        self[s] = value
        return value


def encode_records(
    records: Sequence[KafkaRecord], block_bytes: int, emit: Callable[[int, bytes], None]
) -> str:
    """Hand each Avro block to ``emit(record count, uncompressed bytes)``; return the checksum.

    One flat list of pieces per block, joined once: per record this is a
    handful of table look-ups and appends, which is what makes it fast.
    ``emit`` is called as soon as a block is complete, so its compression can
    run (in another thread: zlib lets go of the GIL) while the next is encoded.
    """
    strings = _Strings()
    h = hashlib.sha256()
    avro: list[bytes] = []
    summ: list[bytes] = []
    add, add_sum = avro.append, summ.append
    size = count = 0
    final, zz, length, pack, pack4 = _FINAL, _zigzag, _length, _PACK, _PACK4
    minus_one = _MINUS_ONE
    for r in records:
        partition, offset, ts, ts_type = r.partition, r.offset, r.timestamp, r.timestamp_type
        topic_avro, topic_sum = strings[r.topic]
        add(topic_avro)
        add(final[partition << 1] if 0 <= partition < 8192 else zz(partition))
        add(zz(offset))
        add(zz(ts))
        add(final[ts_type << 1] if 0 <= ts_type < 8192 else zz(ts_type))
        add_sum(pack4(partition, offset, ts, ts_type))
        add_sum(topic_sum)
        key, value, headers = r.key, r.value, r.headers
        if key is None:
            add(b"\x00")
            add_sum(minus_one)
        else:
            n = len(key)
            add(b"\x02" + length(n))
            add(key)
            add_sum(pack(n))
            add_sum(key)
            size += n
        if value is None:
            add(b"\x00")
            add_sum(minus_one)
        else:
            n = len(value)
            add(b"\x02" + length(n))
            add(value)
            add_sum(pack(n))
            add_sum(value)
            size += n
        add_sum(pack(len(headers)))
        if headers:
            add(length(len(headers)))
            for k, v in headers:
                k_avro, k_sum = strings[k]
                add(k_avro)
                add_sum(k_sum)
                if v is None:
                    add(b"\x00")
                    add_sum(minus_one)
                else:
                    n = len(v)
                    add(b"\x02" + length(n))
                    add(v)
                    add_sum(pack(n))
                    add_sum(v)
                    size += n + len(k_avro)
        add(b"\x00")  # end of the headers array
        size += 32  # the fixed fields, about; blocks need only be about block_bytes
        count += 1
        if size >= block_bytes:
            emit(count, b"".join(avro))
            h.update(b"".join(summ))
            avro.clear()
            summ.clear()
            size = count = 0
    if count:
        emit(count, b"".join(avro))
        h.update(b"".join(summ))
    return h.hexdigest()


def _compressor(codec: str, level: int | None) -> Callable[[bytes], bytes]:
    if codec == "null":
        return bytes
    if codec == "deflate":
        lvl = -1 if level is None else level

        def deflate(data: bytes) -> bytes:
            c = zlib.compressobj(lvl, zlib.DEFLATED, -15)
            return c.compress(data) + c.flush()

        return deflate
    raise ValueError(f"codec {codec!r} is not one of {sorted(CODECS)}")


def encode_container(
    records: Sequence[KafkaRecord],
    schema_json: str,
    *,
    codec: str = "deflate",
    level: int | None = 1,
    block_bytes: int = 1 << 20,
    metadata: Callable[[str], Mapping[str, str]],
    executor: Executor | None = None,
) -> bytes:
    """One container file of ``records``; ``metadata(checksum)`` gives the extra header entries.

    Blocks are cut once ``block_bytes`` of uncompressed records are in one,
    as fastavro's ``sync_interval`` does. With an ``executor`` each block is
    compressed there while the caller's thread encodes the next one.
    """
    compress = _compressor(codec, level)
    blocks: list[tuple[int, Future[bytes] | bytes]] = []
    if executor is None or codec == "null":
        checksum = encode_records(
            records, block_bytes, lambda n, data: blocks.append((n, compress(data)))
        )
    else:
        pool = executor
        checksum = encode_records(
            records, block_bytes, lambda n, data: blocks.append((n, pool.submit(compress, data)))
        )
    meta: dict[str, bytes] = {"avro.schema": schema_json.encode(), "avro.codec": codec.encode()}
    meta.update({k: v.encode() for k, v in metadata(checksum).items()})
    sync = os.urandom(16)
    out = [MAGIC, _zigzag(len(meta))]
    for k, v in meta.items():
        kb = k.encode()
        out += [_length(len(kb)), kb, _length(len(v)), v]
    out += [b"\x00", sync]
    for count, done in blocks:
        body = done if isinstance(done, bytes) else done.result()
        out += [_zigzag(count), _length(len(body)), body, sync]
    return b"".join(out)


def schema_text(schema: Mapping[str, object]) -> str:
    """The schema as the header's ``avro.schema`` string (compact JSON)."""
    return json.dumps(schema, separators=(",", ":"))
