"""The writer's input under its old name, for callers from before the one sink runner.

The runner's batch is :class:`sinks.base.Batch` (raw Kafka records of one
partition); what :meth:`~sinks.warehouse.writer.WarehouseWriter.write` takes
is a :class:`~sinks.warehouse.load.Load`. ``Batch`` here is that same class,
kept so existing callers (the writer's tests) construct loads unchanged.
"""

from sinks.warehouse.load import Item, Rejected
from sinks.warehouse.load import Load as Batch

__all__ = ["Batch", "Item", "Rejected"]
