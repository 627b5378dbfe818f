"""The stream processors' exception tree.

    OrionError (orion.exceptions)
    └── ProcessorError
        ├── RuleViolation     a record breaks a rule (TerminalError): dead-letter it
        └── EngineFatalError  Kafka says this worker cannot go on (fenced, fatal
                              producer error): exit non-zero, a supervisor restarts it

A rule violation is terminal (retrying cannot help), so the stream
dead-letters the record with its reason and moves on. Transient trouble
(broker or registry down) is :class:`orion.exceptions.ServiceUnavailableError`
and is retried with backoff, never dead-lettered.
"""

from __future__ import annotations

from orion.exceptions import OrionError, TerminalError
from orion.reasons import Reason

__all__ = ["EngineFatalError", "ProcessorError", "RuleViolation"]


class ProcessorError(OrionError):
    """Root of the errors this stage raises."""


class RuleViolation(ProcessorError, TerminalError):
    """A record breaks a rule; ``reason`` is the stable code, ``rule`` names the check."""

    def __init__(self, reason: Reason, rule: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.rule = rule


class EngineFatalError(ProcessorError):
    """The transactional producer or the consumer failed fatally; nothing was committed.

    Every such error ends the worker with status 1, and says so: the fix names
    what the supervisor must do, so an operator reading any fatal exit sees it.
    """

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, fix=fix or SUPERVISOR_FIX)


SUPERVISOR_FIX = "the worker exits for its supervisor to restart it (same --instance-id)"
