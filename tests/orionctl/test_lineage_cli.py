"""`orion lineage` refuses a wrong call before it connects to anything (its own entry point)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give TABLE KEY... or --event-id ID"),
        (["fact_sales"], "natural key"),
    ],
)
def test_a_wrong_call_is_a_usage_error(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orionctl", "lineage", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
