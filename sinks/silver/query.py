"""Ad-hoc SQL over silver: DuckDB with every entity as a view (``erp_sales``, ``iot_telemetry``).

DuckDB reads S3 through its ``httpfs`` extension, which it downloads from
DuckDB's own extension server on first use; where that server is out of
reach (this product's CI and air-gapped sites) it cannot load. So the S3 side is
pyarrow's own S3 client (``pyarrow.fs.S3FileSystem``, configured from the
same settings as boto3: endpoint, keys, region, path-style addressing, plain
HTTP on an ``http://`` endpoint), and each entity's folder is a
``pyarrow.dataset`` with the hive ``dt=`` partition registered in DuckDB.
DuckDB scans a dataset lazily, pushing columns and filters down (a
``WHERE dt = ...`` reads one folder), so nothing is downloaded up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow import fs

from orion.catalog import entities
from orion.exceptions import OrionError, ServiceUnavailableError
from orion.settings import OrionSettings
from sinks.silver.arrow_schema import arrow_schema

__all__ = ["QueryError", "QueryResult", "connect", "query", "view_name"]

DT = pa.field("dt", pa.date32())


class QueryError(OrionError):
    """DuckDB refused the SQL (syntax, unknown column or view)."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def view_name(stem: str) -> str:
    """The view of an entity: ``erp.sales`` -> ``erp_sales``."""
    return stem.replace(".", "_")


def filesystem(settings: OrionSettings) -> fs.S3FileSystem:
    """pyarrow's S3 client for the settings' store (path-style, HTTP when the URL says so)."""
    url = urlsplit(settings.s3_endpoint)
    return fs.S3FileSystem(
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
        endpoint_override=url.netloc,
        scheme="http" if url.scheme == "http" else "https",
        force_virtual_addressing=False,
        connect_timeout=3,
        request_timeout=30,
    )


def entity_dataset(s3: fs.S3FileSystem, bucket: str, prefix: str, stem: str) -> ds.Dataset:
    """One entity's silver objects as a dataset; an entity with none yet is an empty one."""
    schema = arrow_schema(stem).append(DT)
    root = f"{bucket}/{prefix.strip('/')}/{stem}"
    if s3.get_file_info(root).type != fs.FileType.Directory:
        return ds.dataset(schema.empty_table())
    return ds.dataset(
        root,
        filesystem=s3,
        format="parquet",
        schema=schema,
        partitioning=ds.partitioning(pa.schema([DT]), flavor="hive"),
    )


def connect(settings: OrionSettings, prefix: str = "silver") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per entity over the silver prefix of the bucket."""
    s3 = filesystem(settings)
    con = duckdb.connect()
    try:
        for e in entities():
            dataset = entity_dataset(s3, settings.s3_bucket, prefix, e.stem)
            con.register(view_name(e.stem), dataset)
    except OSError as e:
        con.close()
        raise ServiceUnavailableError(
            f"S3 at {settings.s3_endpoint} (bucket {settings.s3_bucket}) cannot be read: {e}",
            fix="check `orion stack status`, ORION_S3_ENDPOINT and ORION_S3_BUCKET",
        ) from e
    except BaseException:
        con.close()
        raise
    return con


def query(settings: OrionSettings, sql: str, prefix: str = "silver") -> QueryResult:
    """Run ``sql`` over the silver views; QueryError with DuckDB's message when it fails."""
    con = connect(settings, prefix)
    try:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as e:
            raise QueryError(
                f"query failed: {e}",
                fix="views are " + ", ".join(view_name(x.stem) for x in entities()),
            ) from e
        columns = [d[0] for d in cursor.description or []]
        return QueryResult(columns, cursor.fetchall())
    finally:
        con.close()
