"""Knobs of the file ingester, with the defaults a long-running service uses.

Typed settings (pydantic-settings): each field falls back to
``ORION_INGEST_<FIELD>`` (e.g. ``ORION_INGEST_INTERVAL_S``); ``orion ingest
files`` passes only the options given on its command line, which win. The
bucket is the stack's (``ORION_S3_BUCKET``) unless ``ORION_INGEST_BUCKET``
names another.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from orion.settings import OrionBaseSettings

__all__ = ["IngestConfig"]


class IngestConfig(OrionBaseSettings):
    """How often to look, how big a file may be, and how long to wait for Kafka."""

    model_config = SettingsConfigDict(env_prefix="ORION_INGEST_", frozen=True, extra="ignore")

    bucket: str | None = None
    """Bucket of the landing zone; default the stack's bucket."""
    interval_s: float = Field(default=10.0, gt=0, le=3600)
    """With --watch: seconds between looks at the landing zone when it was empty."""
    max_file_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    """A larger file is rejected unread (split the export)."""
    max_expanded_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    """XLSX: what its zip may expand to (a zip bomb stops here)."""
    sheet: str | None = None
    """XLSX: the sheet to read, by name; default the first."""
    ack_timeout_s: float = Field(default=120.0, gt=0)
    """How long to wait for Kafka to acknowledge a file's rows before trying the file again."""
    max_row_errors_reported: int = Field(default=1000, ge=0)
    """Row errors listed in a report; more are counted, not listed."""
