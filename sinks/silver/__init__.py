"""The silver sink: clean records as typed Parquet in S3, offset-named objects, exactly once.

``<prefix>/<entity>/dt=<event day>/<topic>+<partition>+<start offset>.parquet``;
:mod:`sinks.silver.query` reads them back with DuckDB.
"""

from sinks.silver.configuration import SilverSinkConfig
from sinks.silver.consumer import run_silver_sink

__all__ = ["SilverSinkConfig", "run_silver_sink"]
