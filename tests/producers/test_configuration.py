"""ProducerSettings: the environment, given options on top, every bad value refused by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orion.exceptions import ConfigurationError
from producers.configuration import DEFAULT_RATE, ProducerSettings, load_producer_settings
from producers.topics import SOURCES


@pytest.fixture(autouse=True)
def _no_producer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the defaults, whatever the shell running them has set."""
    for name in list(os.environ):
        if name.startswith("ORION_PRODUCER_"):
            monkeypatch.delenv(name)


def test_the_defaults_run_every_source_until_stopped_at_the_default_rate() -> None:
    settings = load_producer_settings()
    assert settings.sources == SOURCES
    assert (settings.events, settings.duration_s, settings.ledger) == (None, None, None)
    assert (settings.seed, settings.defect_rate) == (42, 0.10)
    assert settings.pace == DEFAULT_RATE
    sim = settings.simulation_config()
    assert (sim.sources, sim.seed, sim.defect_rate, sim.total_events) == (SOURCES, 42, 0.10, None)
    options = settings.produce_options()
    assert (options.events, options.duration_s, options.rate) == (None, None, DEFAULT_RATE)


def test_the_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "SOURCES": " ERP, crm ",
        "EVENTS": "500",
        "SEED": "7",
        "DEFECT_RATE": "0.25",
        "MAX_RATE": "true",
        "LEDGER": str(tmp_path / "ledger.jsonl"),
    }
    for name, value in env.items():
        monkeypatch.setenv("ORION_PRODUCER_" + name, value)
    settings = load_producer_settings()
    assert settings.sources == {"erp", "crm"}
    assert settings.events == 500
    assert settings.seed == 7
    assert settings.defect_rate == 0.25
    assert settings.pace is None  # as fast as possible
    assert settings.ledger == tmp_path / "ledger.jsonl"
    sim = settings.simulation_config()
    assert (sim.sources, sim.seed, sim.defect_rate, sim.total_events) == (
        frozenset({"erp", "crm"}), 7, 0.25, 500,
    )  # fmt: skip
    options = settings.produce_options()
    assert (options.events, options.rate, options.ledger) == (500, None, settings.ledger)


def test_given_options_win_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_PRODUCER_SOURCES", "iot")
    monkeypatch.setenv("ORION_PRODUCER_RATE", "50")
    monkeypatch.setenv("ORION_PRODUCER_SEED", "9")
    monkeypatch.setenv("ORION_PRODUCER_DURATION", "2h")
    settings = load_producer_settings(sources="all", rate=250.0, seed=None, duration_s="90s")
    assert settings.sources == SOURCES  # given: wins
    assert settings.pace == 250.0
    assert settings.seed == 9  # None: not given, the environment's stands
    assert settings.duration_s == 90.0
    assert settings.produce_options().duration_s == 90.0


@pytest.mark.parametrize(
    ("text", "seconds"), [("5", 5.0), ("2.5", 2.5), ("90s", 90.0), ("2h", 7200.0), ("100ms", 0.1)]
)
def test_a_duration_is_a_duration_or_plain_seconds(text: str, seconds: float) -> None:
    assert load_producer_settings(duration_s=text).duration_s == pytest.approx(seconds)


def test_sources_given_as_a_set_are_checked_too() -> None:
    assert ProducerSettings(sources=frozenset({"erp"})).sources == {"erp"}
    with pytest.raises(ConfigurationError, match=r"unknown source\(s\): sap"):
        ProducerSettings(sources=frozenset({"erp", "sap"}))


@pytest.mark.parametrize(
    ("options", "message", "names"),
    [
        ({"sources": "erp,sap"}, "unknown source(s): sap", "--sources"),
        ({"sources": " , "}, "unknown source(s): (none given)", "ORION_PRODUCER_SOURCES"),
        ({"events": 10, "duration_s": "5"}, "--events and --duration exclude each other",
         "ORION_PRODUCER_DURATION"),
        ({"events": 0}, "--events must be > 0", "ORION_PRODUCER_EVENTS"),
        ({"events": -3}, "--events must be > 0", "ORION_PRODUCER_EVENTS"),
        ({"duration_s": "0"}, "--duration must be > 0", "ORION_PRODUCER_DURATION"),
        ({"duration_s": float("inf")}, "--duration must be > 0", "ORION_PRODUCER_DURATION"),
        ({"duration_s": float("nan")}, "--duration must be > 0", "ORION_PRODUCER_DURATION"),
        ({"duration_s": "soon"}, "--duration / ORION_PRODUCER_DURATION: not a duration", "e.g."),
        ({"duration_s": "-5s"}, "--duration / ORION_PRODUCER_DURATION: not a duration", "e.g."),
        ({"rate": 5.0, "max_rate": True}, "--rate and --max-rate exclude each other",
         "ORION_PRODUCER_MAX_RATE"),
        ({"rate": 0.0}, "--rate must be > 0", "ORION_PRODUCER_RATE"),
        ({"rate": -5.0}, "--rate must be > 0", "ORION_PRODUCER_RATE"),
        ({"rate": float("inf")}, "--rate must be > 0", "ORION_PRODUCER_RATE"),
        ({"rate": float("nan")}, "--rate must be > 0", "ORION_PRODUCER_RATE"),
        ({"defect_rate": 1.5}, "--defect-rate must be between 0 and 1",
         "ORION_PRODUCER_DEFECT_RATE"),
        ({"defect_rate": -0.1}, "--defect-rate must be between 0 and 1",
         "ORION_PRODUCER_DEFECT_RATE"),
        ({"defect_rate": float("nan")}, "--defect-rate must be between 0 and 1",
         "ORION_PRODUCER_DEFECT_RATE"),
        ({"workers": 0}, "--workers must be between 1 and 64, got 0", "ORION_PRODUCER_WORKERS"),
        ({"workers": -2}, "--workers must be between 1 and 64", "ORION_PRODUCER_WORKERS"),
        ({"workers": 65}, "--workers must be between 1 and 64", "ORION_PRODUCER_WORKERS"),
    ],
)  # fmt: skip
def test_a_bad_option_is_refused_naming_it(
    options: dict[str, Any], message: str, names: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_producer_settings(**options)
    assert caught.value.message.startswith(message)
    assert caught.value.fix is not None and names in caught.value.fix


def test_a_ledger_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--ledger") as caught:
        load_producer_settings(ledger=tmp_path)
    assert caught.value.fix is not None and "ORION_PRODUCER_LEDGER" in caught.value.fix


def test_boundary_values_are_accepted() -> None:
    settings = load_producer_settings(events=1, rate=0.001, defect_rate=0.0)
    assert (settings.events, settings.pace, settings.defect_rate) == (1, 0.001, 0.0)
    assert load_producer_settings(defect_rate=1.0, max_rate=True).pace is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORION_PRODUCER_EVENTS", "many"),
        ("ORION_PRODUCER_RATE", "fast"),
        ("ORION_PRODUCER_SEED", "1.5"),
        ("ORION_PRODUCER_DEFECT_RATE", "ten percent"),
        ("ORION_PRODUCER_MAX_RATE", "maybe"),
        ("ORION_PRODUCER_WORKERS", "two"),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable) as caught:
        load_producer_settings()
    assert caught.value.fix is not None and "ORION_PRODUCER_" in caught.value.fix


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ORION_PRODUCER_SOURCES": "erp,sap"}, "unknown source(s): sap"),
        ({"ORION_PRODUCER_DURATION": "a while"}, "--duration / ORION_PRODUCER_DURATION"),
        ({"ORION_PRODUCER_DURATION": "0"}, "--duration must be > 0"),
        ({"ORION_PRODUCER_EVENTS": "0"}, "--events must be > 0"),
        ({"ORION_PRODUCER_RATE": "0"}, "--rate must be > 0"),
        ({"ORION_PRODUCER_DEFECT_RATE": "2"}, "--defect-rate must be between 0 and 1"),
    ],
)
def test_a_bad_environment_value_is_checked_like_an_option(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_producer_settings()
    assert caught.value.message.startswith(message)


def test_a_conflict_between_the_environment_and_an_option_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORION_PRODUCER_RATE", "500")
    with pytest.raises(ConfigurationError, match="exclude each other") as caught:
        load_producer_settings(max_rate=True)
    assert caught.value.fix is not None and "ORION_PRODUCER_RATE" in caught.value.fix
    monkeypatch.delenv("ORION_PRODUCER_RATE")
    monkeypatch.setenv("ORION_PRODUCER_EVENTS", "100")
    with pytest.raises(ConfigurationError, match="--events and --duration exclude each other"):
        load_producer_settings(duration_s="60")


class _Stop(Exception):
    """Raised by the stand-in loader: the command gets no further than its settings."""


def test_orion_produce_passes_only_the_given_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import producers.configuration
    from orionctl.cli.main import app

    seen: list[dict[str, Any]] = []

    def capture(**options: Any) -> ProducerSettings:
        seen.append(options)
        raise _Stop

    monkeypatch.setattr(producers.configuration, "load_producer_settings", capture)
    runner = CliRunner()
    result = runner.invoke(app, ["produce"])
    assert isinstance(result.exception, _Stop)
    assert seen.pop() == dict.fromkeys(
        (
            "sources", "events", "duration_s", "rate", "max_rate", "seed", "defect_rate",
            "ledger", "to_files", "workers",
        )
    )  # fmt: skip
    args = ["produce", "--sources", "erp", "--duration", "5", "--max-rate", "--seed", "3"]
    args += ["--defect-rate", "0.2", "--ledger", "l.jsonl", "--workers", "2"]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, _Stop)
    assert seen.pop() == {
        "sources": "erp", "events": None, "duration_s": "5", "rate": None, "max_rate": True,
        "seed": 3, "defect_rate": 0.2, "ledger": Path("l.jsonl"), "to_files": None,
        "workers": 2,
    }  # fmt: skip


def test_orion_produce_refuses_a_bad_environment_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from orionctl.cli.main import app

    monkeypatch.setenv("ORION_PRODUCER_DEFECT_RATE", "2")
    result = CliRunner().invoke(app, ["produce", "--events", "10"])
    assert isinstance(result.exception, ConfigurationError)
    assert "--defect-rate must be between 0 and 1" in result.exception.message


def test_to_files_takes_a_directory_or_an_s3_prefix(tmp_path: Path) -> None:
    local = load_producer_settings(to_files=str(tmp_path / "out"), events=10)
    assert local.export_options().events == 10
    s3 = load_producer_settings(to_files="s3://landing-bucket/runs/1", duration_s="5s")
    assert s3.export_options().duration_s == 5.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"to_files": "s3://", "events": 10}, "names no bucket"),
        ({"to_files": "", "events": 10}, "is not a directory"),
        ({"to_files": "FILE", "events": 10}, "is not a directory"),
        ({"to_files": "out", "events": 10, "rate": 5.0}, "--to-files and --rate exclude"),
        ({"to_files": "out"}, "--to-files needs --events or --duration"),
        ({"to_files": "out", "events": 10, "workers": 2}, "--to-files and --workers exclude"),
    ],
)
def test_to_files_refuses_what_it_cannot_do(
    options: dict[str, Any], message: str, tmp_path: Path
) -> None:
    if options["to_files"] == "FILE":
        (tmp_path / "f").write_text("")
        options = {**options, "to_files": str(tmp_path / "f")}
    with pytest.raises(ConfigurationError, match=message) as e:
        load_producer_settings(**options)
    assert e.value.fix
