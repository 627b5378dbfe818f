"""The producers package's exceptions.

    OrionError                      (orion.exceptions)
    └── ProducerError               a producer-side failure
        └── SimulationConfigError   bad simulation settings; also a ValueError

Configuration errors are terminal: retrying with the same settings fails the
same way, so callers stop at start-up and print the message and its fix.
"""

from __future__ import annotations

from orion.exceptions import OrionError

__all__ = ["ProducerError", "SimulationConfigError"]


class ProducerError(OrionError):
    """Root of the errors raised by the producers package."""


class SimulationConfigError(ProducerError, ValueError):
    """A SimulationConfig is invalid (unknown source, rate outside [0, 1], ...).

    Raised by :func:`producers.simulation.simulate` before any event is made.
    """
