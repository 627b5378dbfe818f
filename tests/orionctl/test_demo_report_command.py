"""The command the demo prints for reporting on what it loaded, as a shell would read it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from orionctl.demo import DEMO_DATABASE, report_command


def test_the_table_command_names_the_demo_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORION_STACK_DIR", raising=False)
    words = shlex.split(report_command("demo20260101000000."))
    assert words[-3:] == ["report", "--database", DEMO_DATABASE]
    assert not any("=" in w for w in words)  # the default stack dir, no environment


def test_the_html_command_carries_the_stack_dir_and_the_run_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack = tmp_path / "my stack"
    monkeypatch.setenv("ORION_STACK_DIR", str(stack))
    out = tmp_path / "run 1" / "report.html"
    words = shlex.split(report_command("demo20260101000000.", out))
    assert words[:2] == [f"ORION_STACK_DIR={stack}", "ORION_TOPIC_PREFIX=demo20260101000000."]
    assert words[-7:] == [
        "report", "--database", DEMO_DATABASE, "--format", "html", "--output", str(out),
    ]  # fmt: skip
