"""The shared core of the Orion Motors finance event pipeline.

Settings, the entity catalog, Avro serde and the registry client, metrics,
logging, exceptions and dead-letter reasons. The stage packages
(``producers``, ``stream_processors``, ``sinks``) import it and never each
other; it imports no stage and nothing of ``orionctl`` (the CLI, demo, local
stack and operator tools that sit above the stages).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
