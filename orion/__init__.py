"""Shared package of the Orion Motors finance event pipeline.

Settings, Kafka client factory, Avro serde, metrics, logging, the local
stack and the ``orion`` CLI live here. The stage packages (``producers``,
``stream_processors``, ``sinks``) import this package and never each other.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
