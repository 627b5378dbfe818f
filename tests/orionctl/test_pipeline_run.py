"""PipelineRun.stop ends what the run launched, not only its services."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orion.settings import OrionSettings
from orionctl.pipeline_run import PipelineRun
from tests.conftest import unique


@pytest.mark.integration
def test_stop_ends_a_launched_command_that_is_still_running(
    settings: OrionSettings, tmp_path: Path
) -> None:
    """A bench that fails half way stops its run; its producer must not go on sending."""
    run = PipelineRun(settings, prefix=unique("t") + ".", run_dir=tmp_path, database="orion")
    # Any command that runs until it is told to stop stands in for a long producer run.
    cmd = run.launch(["lag", "--serve"], principal=None, log_name="lag")
    time.sleep(2)
    assert cmd.poll() is None, (tmp_path / "lag.log").read_text()
    assert run.stop() == {}  # no services: nothing in the services' exit codes
    assert cmd.poll() is not None
