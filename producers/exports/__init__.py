"""Export files for the landing zone: what systems that only export files would send.

The simulator's events (:func:`producers.simulation.simulate`) become CSV,
JSON, JSON Lines and XLSX files under ``landing/<domain>/<entity>/`` of a
directory or an S3 prefix, as :mod:`orion.landing` specifies, with the
ground-truth ledger of the file run (ids as the ingester derives them).

Modules, one job each: :mod:`~producers.exports.plan` (which entity in which
format, cutting and naming files), :mod:`~producers.exports.columns` (the
columns, from the raw schemas), :mod:`~producers.exports.style` (how messy a
file is), ``csv_format``/``json_format``/``xlsx_format`` (rows to bytes),
:mod:`~producers.exports.storage` (directory or S3),
:mod:`~producers.exports.ledger` (the id rewrite) and
:mod:`~producers.exports.writer` (the loop). Entry point: :func:`run_export`.
"""

from producers.exports.writer import run_export

__all__ = ["run_export"]
