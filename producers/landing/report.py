"""What happened to one landing file: the JSON report written beside it.

Written for every decided file, processed or rejected, so an operator (or
an auditor) can tell from the archive alone which rows of which file became
which events, and why a file was refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from producers.landing.rows import RowError

__all__ = ["FileReport"]


@dataclass
class FileReport:
    key: str
    size_bytes: int
    entity: str | None = None
    sha256: str | None = None
    verdict: str = "rejected"
    reason: str | None = None
    """Code of why the file was rejected (None when processed)."""
    detail: str | None = None
    data_rows: int = 0
    published: int = 0
    row_error_count: int = 0
    row_errors: list[RowError] = field(default_factory=list)
    unknown_columns: tuple[str, ...] = ()
    repeated_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    reader: dict[str, str] = field(default_factory=dict)
    decided_at: datetime | None = None
    moved_to: str | None = None

    def add_error(self, error: RowError, keep: int) -> None:
        self.row_error_count += 1
        if len(self.row_errors) < keep:
            self.row_errors.append(error)

    def reject(self, reason: str, detail: str) -> None:
        self.verdict, self.reason, self.detail = "rejected", reason, detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.key,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "entity": self.entity,
            "verdict": self.verdict,
            "reason": self.reason,
            "detail": self.detail,
            "rows": {
                "data": self.data_rows,
                "published": self.published,
                "errors": self.row_error_count,
            },
            "row_errors": [e.to_dict() for e in self.row_errors],
            "row_errors_listed": len(self.row_errors),
            "unknown_columns": list(self.unknown_columns),
            "repeated_columns": list(self.repeated_columns),
            "missing_columns": list(self.missing_columns),
            "reader": self.reader,
            "decided_at": (self.decided_at or datetime.now(UTC)).isoformat(),
            "moved_to": self.moved_to,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False).encode() + b"\n"
