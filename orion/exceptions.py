"""The shared package's exception tree.

    OrionError
    ├── ConfigurationError      bad settings: stop at start-up, say what to fix
    └── StackError              a local-stack component failed (names it and the fix)
        └── StackTimeoutError   a component did not become healthy in time

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
