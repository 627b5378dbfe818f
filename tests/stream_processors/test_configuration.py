"""ProcessorConfig validation and worker identity."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orion.exceptions import ConfigurationError
from stream_processors.configuration import ProcessorConfig, load_processor_config


@pytest.mark.parametrize(
    ("setting", "name"),
    [
        ({"app_id": "bad id"}, "app id"),
        ({"app_id": ""}, "app id"),
        ({"app_id": "a" * 121}, "app id"),
        ({"instance_id": "worker/1"}, "instance id"),
        ({"instance_id": ""}, "instance id"),
        ({"dedup_window_s": 0}, "dedup window"),
        ({"dedup_window_s": float("nan")}, "dedup window"),
        ({"batch_max_records": 0}, "batch size"),
        ({"batch_max_records": 100_001}, "batch size"),
        ({"batch_interval_s": 0.0005}, "batch interval"),
        ({"batch_interval_s": 11}, "batch interval"),
        ({"session_timeout_s": 5}, "session timeout"),
        ({"session_timeout_s": 301}, "session timeout"),
        ({"reference_grace_s": -1}, "reference grace"),
        ({"reference_grace_s": 86_401}, "reference grace"),
        ({"store_memory_mib": 3}, "store memory"),
        ({"store_memory_mib": 4097}, "store memory"),
    ],
)
def test_a_bad_value_names_its_setting(setting: dict[str, Any], name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ProcessorConfig(data_dir=tmp_path, **setting)
    assert caught.value.message.startswith(name)
    assert caught.value.fix is not None and "--" in caught.value.fix


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "processor"
    file.write_text("")
    with pytest.raises(ConfigurationError, match="data dir"):
        ProcessorConfig(data_dir=file)


def test_boundary_values_are_accepted(tmp_path: Path) -> None:
    config = ProcessorConfig(
        data_dir=tmp_path / "not-yet", batch_max_records=100_000, batch_interval_s=0.001,
        session_timeout_s=6, reference_grace_s=0, store_memory_mib=4096,
    )  # fmt: skip
    assert config.full_app_id("p.") == "p.orion-processor"


def test_default_instance_is_host_and_pid_unique_per_process(tmp_path: Path) -> None:
    config = ProcessorConfig(data_dir=tmp_path)
    assert re.fullmatch(rf"[A-Za-z0-9._-]+-{os.getpid()}", config.instance)
    assert ProcessorConfig(data_dir=tmp_path).instance == config.instance
    code = "from stream_processors.configuration import ProcessorConfig as C; print(C().instance)"
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other.rsplit("-", 1)[0] == config.instance.rsplit("-", 1)[0]
    assert other != config.instance
    assert config.transactional_id("p.") == f"p.orion-processor-{config.instance}"


def test_default_instance_cleans_the_host_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "my host/é")
    assert ProcessorConfig(data_dir=tmp_path).instance == f"my-host---{os.getpid()}"
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert ProcessorConfig(data_dir=tmp_path).instance == f"host-{os.getpid()}"


def test_a_given_instance_id_is_the_instance_and_in_the_transactional_id(tmp_path: Path) -> None:
    config = ProcessorConfig(app_id="fin.proc", instance_id="worker-1", data_dir=tmp_path)
    assert config.instance == "worker-1"
    assert config.transactional_id("p.") == "p.fin.proc-worker-1"


def test_the_environment_is_read_and_given_options_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORION_PROCESSOR_BATCH_SIZE", "777")
    monkeypatch.setenv("ORION_PROCESSOR_DEDUP_WINDOW", "2d")
    monkeypatch.setenv("ORION_PROCESSOR_SESSION_TIMEOUT", "20s")
    config = load_processor_config(
        data_dir=tmp_path, session_timeout_s="45s", batch_max_records=None
    )
    assert config.batch_max_records == 777  # None: not given, the environment's stands
    assert config.dedup_window_s == 2 * 86400
    assert config.session_timeout_s == 45  # given on the command line: wins
    assert config.exit_when_stuck_s == 300  # neither: the one default


def test_a_bad_environment_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_PROCESSOR_STORE_MEMORY", "lots")
    with pytest.raises(ConfigurationError, match="ORION_PROCESSOR_STORE_MEMORY"):
        load_processor_config()
    monkeypatch.setenv("ORION_PROCESSOR_STORE_MEMORY", "16")
    monkeypatch.setenv("ORION_PROCESSOR_REFERENCE_GRACE", "a while")
    with pytest.raises(
        ConfigurationError, match="--reference-grace / ORION_PROCESSOR_REFERENCE_GRACE"
    ):
        load_processor_config()
