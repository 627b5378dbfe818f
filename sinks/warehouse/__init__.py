"""The warehouse loader: clean topics into the PostgreSQL star schema, exactly once.

Modules, one job each: ``tables`` (what goes where, from the .avsc files),
``migrations`` (warehouse_sql/ applied once each), ``staging`` (COPY into
temporary tables), ``merge`` (the set-based SQL), ``writer`` (one batch, one
transaction, offsets included), ``load`` (the runner's raw batches decoded
for the writer), ``consumer`` (the sink over the one sink runner), ``backup``,
``checksum`` and ``report`` (operators' tools).
"""

from sinks.warehouse.consumer import run_warehouse_sink

__all__ = ["run_warehouse_sink"]
