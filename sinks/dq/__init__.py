"""The dq sink: data-quality outcomes from the raw, clean and dead-letter topics.

``orion sink dq`` consumes every ``raw.*`` (events in), ``clean.*``
(accepted; repaired per rule from the ``orion.repairs`` header) and ``dlq.*``
topic (rejected per reason; each dead letter kept in ``dq.dead_letters``) on
the one sink runner, and writes hourly counts into ``dq.outcomes`` with its
offsets in the same PostgreSQL transaction. The scorecard is SQL in
``warehouse_sql/0007_dq.sql``; :mod:`.scorecard` reads it for ``orion dq``.

Modules: ``outcomes`` (what a record counts), ``deadletters`` (a dead letter
as a row), ``writer`` (one transaction), ``consumer`` (the sink on the
runner), ``scorecard`` (the read side), ``configuration``, ``metrics``.
"""

from sinks.dq.consumer import run_dq_sink

__all__ = ["run_dq_sink"]
