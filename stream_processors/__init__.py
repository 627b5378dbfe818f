"""Stream processors: every ``raw.*`` topic to ``clean.*`` (strict Avro) or ``dlq.*``.

Run by ``orion process`` (:func:`stream_processors.runner.run`); several
workers share the partitions as one consumer group. The shape:

* :mod:`.rules` - one small module per entity on one engine: repair what
  ``producers/defects.py`` calls repairable, reject the rest with a
  :class:`orion.reasons.Reason`.
* :mod:`.pipeline` - decode (Confluent wire format), apply rules, encode.
* :mod:`.app` - the Faust agent: dedup, parking, DLQ, exactly-once sends.
* :mod:`.references` - the reference index and the progress it waits for.

Referential decision. A reference not known yet is not a defect: the
worker reads many topics and partitions at once, so a fact can overtake
its master. Such a fact is *parked* (table ``parked``, changelogged) and
decided on a periodic tick: it is rejected with UNKNOWN_REFERENCE only when
the consumer group has committed every partition of the referenced raw
topics past its barrier, and this worker's index of the referenced clean
topics has read up to their high-water marks seen after that. The barrier
is everything produced up to ``--reference-grace`` (default 5 s, Kafka
record timestamps) after the fact, found with offsets-for-times; where
nothing that late exists yet (a live stream), the high-water marks seen
after it was parked. So a master produced more than the grace after its
fact is not waited for, and a backlog does not hold facts until its end.
Sales are both facts and referents; a parked sale holds back the payments
and commissions of its partition (they are keyed by sale_id, so they live
in the same partition number and hence on the same worker). A fact also
waits while an earlier fact of the same key is parked, so per-key order
survives parking.

Deduplication. Table ``dedup`` keyed by partition, entity, message key
and a hash of everything except event_id and produced_at: an exact
re-send and a business duplicate both match; a replay of the same offset
(after a crash) does not. Keys expire a configurable window (default 7
days) of event time behind the newest event of their entity in the
partition. Lookups use an in-memory copy loaded with the partition.

Guarantee. ``exactly_once`` (default) uses Faust's per-partition
transactional producers: outputs, table changes and the offset commit of a
partition go in one transaction (see :mod:`.app` for the two guards this
needs). ``at_least_once`` awaits every output before its offset can be
committed.
"""

__all__: list[str] = []
