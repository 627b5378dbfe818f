"""The shared package's exception tree.

    OrionError
    ├── ConfigurationError      bad settings: stop at start-up, say what to fix
    ├── StackError              a local-stack component failed (names it and the fix)
    │   └── StackTimeoutError   a component did not become healthy in time
    ├── SchemaError             a schema file is invalid or not compatible with the registry
    ├── ServiceUnavailableError a broker or the registry cannot be reached (TransientError)
    └── SerdeError              bytes that cannot become a record (TerminalError)
        ├── NotWireFormatError  not the Confluent wire format at all (poison)
        ├── UnknownSchemaError  the schema id is not in the registry
        └── CorruptRecordError  the Avro body does not decode with its schema

TransientError and TerminalError are mixins that say whether a retry can
help: a stream retries the first with backoff and dead-letters the second.

Errors carry a ``fix`` line so the CLI can print one actionable message and
exit non-zero without a traceback.
"""

from __future__ import annotations


class OrionError(Exception):
    """Root of every error the product raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class ConfigurationError(OrionError):
    """Settings are missing or invalid; raised before any work starts."""


class StackError(OrionError):
    """A component of the local stack could not be installed, started or reached."""

    def __init__(self, component: str, message: str, *, fix: str | None = None) -> None:
        super().__init__(f"{component}: {message}", fix=fix)
        self.component = component


class StackTimeoutError(StackError):
    """A component was started but did not answer its health check in time."""


class TransientError(Exception):
    """Mixin: trying again later may succeed (a service is down or overloaded)."""


class TerminalError(Exception):
    """Mixin: trying again cannot succeed; the input itself is bad."""


class SchemaError(OrionError):
    """An .avsc file is invalid, or a change is not BACKWARD compatible."""


class ServiceUnavailableError(OrionError, TransientError):
    """A backing service (broker, registry) did not answer."""


class SerdeError(OrionError, TerminalError):
    """Bytes that cannot be turned into a record."""


class NotWireFormatError(SerdeError):
    """The bytes do not start with the Confluent magic byte and a schema id."""


class UnknownSchemaError(SerdeError):
    """The schema id in the bytes is not known to the registry."""


class CorruptRecordError(SerdeError):
    """The Avro body does not decode with the schema its id names."""
