"""Settings of one ``orion produce`` run, checked before anything starts.

A typed settings object (pydantic-settings, like :class:`orion.settings.OrionSettings`
and the processor's :class:`stream_processors.configuration.ProcessorConfig`):
every field reads ``ORION_PRODUCER_<NAME>`` from the environment, and
``orion produce`` passes only the options given on its command line, which
win over the environment; the defaults live here and nowhere else. The
duration takes the one grammar of :mod:`orion.durations` (``90s``, ``2h``, or
plain seconds). A bad value or combination raises ConfigurationError naming
the option, its variable and how to fix it, so the command prints one message
and exits 1.

:meth:`ProducerSettings.simulation_config`,
:meth:`ProducerSettings.produce_options` and
:meth:`ProducerSettings.export_options` turn the settings into what the
simulation, the producing loop and the file exporter (``--to-files``) take.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from orion.durations import seconds_setting
from orion.exceptions import ConfigurationError
from orion.settings import OrionBaseSettings, load_stage_settings
from producers.config import SimulationConfig
from producers.exports.storage import parse_target
from producers.exports.writer import ExportOptions
from producers.runner import ProduceOptions
from producers.topics import SOURCES

__all__ = ["DEFAULT_RATE", "MAX_WORKERS", "ProducerSettings", "load_producer_settings"]

ENV_PREFIX = "ORION_PRODUCER_"
DEFAULT_RATE = 1000.0
"""Events per second when neither a rate nor as-fast-as-possible is asked for."""
MAX_WORKERS = 64
"""Most producer worker processes (``--workers``): one chunk's worker ids fit in a byte."""


def _env(name: str) -> str:
    return ENV_PREFIX + name


def parse_sources(value: str) -> frozenset[str]:
    """``erp,crm`` (any case, spaces allowed) or ``all``; ConfigurationError otherwise."""
    names = {s.strip().lower() for s in value.split(",") if s.strip()}
    if names == {"all"}:
        return SOURCES
    unknown = sorted(names - SOURCES)
    if unknown or not names:
        raise ConfigurationError(
            f"unknown source(s): {', '.join(unknown) or '(none given)'}",
            fix=f"pass --sources (or set {_env('SOURCES')}) as a comma-separated list of"
            f" {', '.join(sorted(SOURCES))}, or all",
        )
    return frozenset(names)


class ProducerSettings(OrionBaseSettings):
    """What to simulate, how much of it to send and how fast.

    Each field's environment variable is its ``validation_alias`` (pydantic-settings
    does not prefix an alias); code and tests pass fields by name. With neither
    ``events`` nor ``duration_s`` the run goes on until stopped.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    sources: Annotated[frozenset[str], NoDecode] = Field(
        default=SOURCES, validation_alias=_env("SOURCES")
    )
    """Which source systems to simulate: a comma-separated list or ``all``."""
    events: int | None = Field(default=None, validation_alias=_env("EVENTS"))
    """Stop after this many events (the business clock then spans the whole year)."""
    duration_s: float | None = Field(default=None, validation_alias=_env("DURATION"))
    """Or stop after this long (a duration: ``90s``, ``2h``, plain seconds)."""
    rate: float | None = Field(default=None, validation_alias=_env("RATE"))
    """Events per second; None: :data:`DEFAULT_RATE`, or as fast as possible with ``max_rate``."""
    max_rate: bool = Field(default=False, validation_alias=_env("MAX_RATE"))
    """Send as fast as possible."""
    seed: int = Field(default=42, validation_alias=_env("SEED"))
    """Same seed (and settings), same events and ledger, byte for byte."""
    defect_rate: float = Field(default=0.10, validation_alias=_env("DEFECT_RATE"))
    """Share of events with a defect, 0 to 1."""
    ledger: Path | None = Field(default=None, validation_alias=_env("LEDGER"))
    """Write the ground-truth ledger (JSON lines) here."""
    to_files: str | None = Field(default=None, validation_alias=_env("TO_FILES"))
    """Write landing-zone export files to this directory or ``s3://bucket/prefix``, not Kafka."""
    workers: int = Field(default=1, validation_alias=_env("WORKERS"))
    """Producer processes encoding and sending (1: all in this process); same events and ledger."""

    @field_validator("sources", mode="before")
    @classmethod
    def _sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_sources(value)
        if isinstance(value, (set, frozenset, list, tuple)):
            return parse_sources(",".join(str(v) for v in value))
        return value

    @field_validator("duration_s", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return seconds_setting(value, "--duration", _env("DURATION"))

    @model_validator(mode="after")
    def _check(self) -> ProducerSettings:
        if self.events is not None and self.duration_s is not None:
            raise ConfigurationError(
                "--events and --duration exclude each other",
                fix=f"give one (check {_env('EVENTS')} and {_env('DURATION')} in the environment)",
            )
        if self.events is not None and self.events < 1:
            raise ConfigurationError(
                f"--events must be > 0, got {self.events}",
                fix=f"pass e.g. --events 1000 (or set {_env('EVENTS')}); leave it out to run"
                " until stopped",
            )
        if self.duration_s is not None and not 0 < self.duration_s < math.inf:
            raise ConfigurationError(
                f"--duration must be > 0 and finite, got {self.duration_s:g}",
                fix=f"pass e.g. --duration 90s (or set {_env('DURATION')}); leave it out to"
                " run until stopped",
            )
        if self.rate is not None and self.max_rate:
            raise ConfigurationError(
                "--rate and --max-rate exclude each other",
                fix=f"give one (check {_env('RATE')} and {_env('MAX_RATE')} in the environment)",
            )
        if self.rate is not None and not 0 < self.rate < math.inf:
            raise ConfigurationError(
                f"--rate must be > 0 and finite (events per second), got {self.rate:g}",
                fix=f"pass e.g. --rate 1000 (or set {_env('RATE')}), or --max-rate",
            )
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigurationError(
                f"--workers must be between 1 and {MAX_WORKERS}, got {self.workers}",
                fix=f"pass e.g. --workers 2 (or set {_env('WORKERS')}): about one per spare core",
            )
        if not 0.0 <= self.defect_rate <= 1.0:
            raise ConfigurationError(
                f"--defect-rate must be between 0 and 1, got {self.defect_rate:g}",
                fix=f"pass e.g. --defect-rate 0.1 (or set {_env('DEFECT_RATE')})",
            )
        if self.to_files is not None:
            self._check_files()
        if self.ledger is not None and self.ledger.is_dir():
            raise ConfigurationError(
                f"--ledger {self.ledger} is a directory",
                fix=f"pass --ledger (or set {_env('LEDGER')}) to a file path",
            )
        return self

    def _check_files(self) -> None:
        option = f"--to-files (or {_env('TO_FILES')})"
        try:
            target = parse_target(self.to_files or "")
        except ValueError as e:
            raise ConfigurationError(
                f"--to-files: {e}", fix=f"pass {option} as a directory or s3://bucket/prefix"
            ) from e
        if isinstance(target, Path) and (not self.to_files or target.is_file()):
            raise ConfigurationError(
                f"--to-files {self.to_files!r} is not a directory",
                fix=f"pass {option} as a directory (created if missing) or s3://bucket/prefix",
            )
        if self.workers != 1:
            raise ConfigurationError(
                "--to-files and --workers exclude each other: export files are written by one"
                " process",
                fix=f"leave out --workers (check {_env('WORKERS')} in the environment)",
            )
        if self.rate is not None:
            raise ConfigurationError(
                "--to-files and --rate exclude each other: files are written as fast as possible",
                fix=f"leave out --rate (check {_env('RATE')} in the environment)",
            )
        if self.events is None and self.duration_s is None:
            raise ConfigurationError(
                "--to-files needs --events or --duration: an export run must end",
                fix=f"pass e.g. --events 20000 (or set {_env('EVENTS')})",
            )

    @property
    def pace(self) -> float | None:
        """Events per second to send at; None: as fast as possible."""
        if self.max_rate:
            return None
        return DEFAULT_RATE if self.rate is None else self.rate

    def simulation_config(self) -> SimulationConfig:
        """What to simulate: sources, seed, defect share and (given) the event count."""
        return SimulationConfig(
            sources=self.sources,
            seed=self.seed,
            defect_rate=self.defect_rate,
            total_events=self.events,
        )

    def produce_options(self) -> ProduceOptions:
        """How much to send, how fast and where the ledger goes."""
        return ProduceOptions(
            events=self.events,
            duration_s=self.duration_s,
            rate=self.pace,
            ledger=self.ledger,
            workers=self.workers,
        )

    def export_options(self) -> ExportOptions:
        """How much to export and where the file run's ledger goes."""
        return ExportOptions(events=self.events, duration_s=self.duration_s, ledger=self.ledger)


def load_producer_settings(**options: Any) -> ProducerSettings:
    """The environment's settings with ``options`` (by field name) on top; None means unset.

    A value of the wrong type (``ORION_PRODUCER_EVENTS=x``) becomes a
    ConfigurationError naming the variable.
    """
    return load_stage_settings(ProducerSettings, **options)
