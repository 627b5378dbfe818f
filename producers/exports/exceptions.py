"""The file exporter's exceptions.

    ProducerError                  (producers.exceptions)
    └── ExportError                an export run cannot go on
        └── ExportTargetError      the target directory or S3 prefix is unusable

A target error is terminal for the run's settings (a file where a directory
was meant, a prefix that already holds this exporter's files): the command
stops before writing anything and says what to change. A failed write (disk
full, S3 down) is raised as ExportError from the storage error, after the
files already written and their ledger lines stay complete.
"""

from __future__ import annotations

from producers.exceptions import ProducerError

__all__ = ["ExportError", "ExportTargetError"]


class ExportError(ProducerError):
    """An export run failed; files written before it are complete and in the ledger."""


class ExportTargetError(ExportError):
    """``--to-files`` names a target that cannot be written to as asked."""
