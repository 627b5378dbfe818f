"""The processor engine: batches in Kafka transactions, state changelogs, recovery.

:class:`Engine` (in :mod:`.loop`) is the only code that knows Kafka
transactions; :mod:`.clients` holds the client settings and :mod:`.changelog`
the state topics. The per-record logic it drives is
:class:`stream_processors.processor.Processor`.
"""

from stream_processors.engine.loop import Engine, state_dir, stuck

__all__ = ["Engine", "state_dir", "stuck"]
