"""The file ingester: export files in the S3 landing zone become raw events.

Systems that only export files (the supplier portal, the dealer network,
the bank) drop CSV, JSON, JSON Lines or XLSX files under
``landing/<domain>/<entity>/`` (see :mod:`orion.landing` for the contract);
``orion ingest files`` reads each one, publishes every row as a raw event on
the entity's raw topic (same envelope and Avro schema as streamed events)
and then moves the file to ``processed/`` or ``rejected/`` with a report.

Modules: :mod:`.headers` (column headers to raw fields), :mod:`.readers`
(bytes of one format to rows), :mod:`.rows` (a row to a raw record),
:mod:`.report` (what happened to one file), :mod:`.zone` (the landing
zone's S3 operations), :mod:`.publish` (rows to Kafka, acknowledged),
:mod:`.ingester` (one file, one pass, the watch loop), :mod:`.configuration`
and :mod:`.metrics`.
"""
