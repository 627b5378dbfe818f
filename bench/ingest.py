"""Benchmark: `orion ingest files` per format beside a bare parse of the same file.

One run per format (CSV, JSON array, JSON Lines, XLSX): the same N sales rows
written as that format, then (1) a bare parse of the file's bytes with the
library the ingester uses (``csv`` module, ``json``, ``json`` per line,
openpyxl read-only), and (2) one ingester pass over a landing zone holding
only that file: S3 get, parse, row to raw record, Avro encode, produce,
wait for every acknowledgement, move the file. Prints rows/s of both and
the ratio (target >= 50%).
Usage: python -m bench.ingest [--rows N] [--formats csv,json,jsonl,xlsx]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
import uuid
from collections.abc import Callable

from openpyxl import Workbook, load_workbook

from orion import s3 as orion_s3
from orion.settings import load_settings
from orion.topics import create_topics, topic_specs
from producers.landing.configuration import IngestConfig
from producers.landing.ingester import Ingester

HEADERS = ["Sale ID", "sale_date", "customer_id", "VIN Number", "dealer_id", "Price (ZAR)",
           "discount_amount", "final_price", "sale_channel", "sale_status", "payment_method",
           "event_type", "event_time", "produced_at"]  # fmt: skip


def sale(i: int) -> list[str]:
    return [f"SAL-{i:08d}", "2025-03-07", f"CUS-{i % 5000:06d}", "1HGCM82633A004352",
            f"DLR-{i % 40:04d}", "R 412 500,00", "12500.00", "400000.00", "DEALER",
            "COMPLETED", "FINANCE", "sale.recorded", "2025-03-07T10:15:00.000Z",
            "2025-03-07T10:15:02.500Z"]  # fmt: skip


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADERS)
    w.writerows(rows)
    return out.getvalue().encode()


def as_json(rows: list[list[str]]) -> bytes:
    return json.dumps([dict(zip(HEADERS, r, strict=True)) for r in rows]).encode()


def as_jsonl(rows: list[list[str]]) -> bytes:
    return b"".join(json.dumps(dict(zip(HEADERS, r, strict=True))).encode() + b"\n" for r in rows)


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parse_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode(), newline=""))) - 1


def parse_json(data: bytes) -> int:
    return len(json.loads(data))


def parse_jsonl(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if json.loads(line))


def parse_xlsx(data: bytes) -> int:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    n = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
    book.close()
    return n


FORMATS: dict[str, tuple[Callable[[list[list[str]]], bytes], Callable[[bytes], int]]] = {
    "csv": (as_csv, parse_csv),
    "json": (as_json, parse_json),
    "jsonl": (as_jsonl, parse_jsonl),
    "xlsx": (as_xlsx, parse_xlsx),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--formats", default=",".join(FORMATS))
    args = ap.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = load_settings().model_copy(update={"topic_prefix": prefix})
    create_topics(settings.kafka_client_config(), topic_specs(partitions=3, prefix=prefix))
    s3 = orion_s3.client(settings)
    bucket = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    rows = [sale(i) for i in range(args.rows)]
    ingester = Ingester(settings, IngestConfig(bucket=bucket))
    print(f"{args.rows:,} sales rows per format; topics under {prefix}, bucket {bucket}")
    head = ("format", "bytes", "bare parse rows/s", "ingest rows/s", "ratio")
    print("{:6} {:>12} {:>18} {:>14} {:>7}".format(*head))
    try:
        for name in args.formats.split(","):
            write, parse = FORMATS[name]
            data = write(rows)
            t = time.perf_counter()
            assert parse(data) == args.rows
            bare = args.rows / (time.perf_counter() - t)
            s3.put_object(Bucket=bucket, Key=f"landing/erp/sales/bench.{name}", Body=data)
            t = time.perf_counter()
            result = ingester.run_pass()
            took = time.perf_counter() - t
            assert result.rows == args.rows, result
            ingest = args.rows / took
            ratio = ingest / bare
            print(f"{name:6} {len(data):>12,} {bare:>18,.0f} {ingest:>14,.0f} {ratio:>7.1%}")
    finally:
        ingester.close()


if __name__ == "__main__":
    main()
