"""The warehouse loader: clean topics into the PostgreSQL star schema, exactly once.

Modules, one job each: ``tables`` (what goes where, from the .avsc files),
``migrations`` (warehouse_sql/ applied once each), ``staging`` (COPY into
temporary tables), ``merge`` (the set-based SQL), ``writer`` (one batch, one
transaction, offsets included), ``load`` (the runner's raw batches decoded
for the writer), ``consumer`` (the sink over the one sink runner), ``backup``,
``checksum`` and ``report`` (operators' tools).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sinks.warehouse.consumer import run_warehouse_sink

__all__ = ["run_warehouse_sink"]


def __getattr__(name: str) -> Any:
    # The sink (and through it the registry client, ~0.5 s of imports) only when it is
    # asked for: operators' tools import sinks.warehouse.<module> at every CLI start.
    if name == "run_warehouse_sink":
        from sinks.warehouse.consumer import run_warehouse_sink

        return run_warehouse_sink
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
