"""Simulated source systems of Orion Motors: ERP, CRM, Finance, Supplier, IoT.

Stage package; imports the shared `orion` package, never another stage.
:func:`simulate` yields Avro-ready raw events with their ground-truth ledger
records, deterministically from a seed; the producer loop (``runner``) sends
them to Kafka, or the file exporter (``exports``) writes them as landing-zone
export files. No I/O happens outside those two and the ledger writer.
"""

from producers.config import SimulationConfig
from producers.events import SimEvent
from producers.exceptions import SimulationConfigError
from producers.ledger import LedgerRecord, LedgerWriter, read_ledger
from producers.simulation import simulate

__all__ = [
    "LedgerRecord",
    "LedgerWriter",
    "SimEvent",
    "SimulationConfig",
    "SimulationConfigError",
    "read_ledger",
    "simulate",
]
