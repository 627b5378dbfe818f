"""Every metric the services export passes `promtool check metrics` and is named orion_*."""

from __future__ import annotations

import importlib
import shutil
import subprocess

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

MODULES = [
    "producers.metrics",
    "producers.landing.metrics",
    "stream_processors.metrics",
    "sinks.base.metrics",
    "sinks.dq.metrics",
    "sinks.s3.metrics",
    "sinks.silver.metrics",
    "sinks.warehouse.metrics",
]


def _exposition() -> bytes:
    from prometheus_client import REGISTRY

    for name in MODULES:
        importlib.import_module(name)
    return generate_latest(REGISTRY)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool comes with `make deps`")
def test_exported_metrics_pass_promtool() -> None:
    result = subprocess.run(
        ["promtool", "check", "metrics"],
        input=_exposition(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_product_metrics_are_namespaced_and_documented() -> None:
    families = list(text_string_to_metric_families(_exposition().decode()))
    ours = [f for f in families if f.name.startswith("orion_")]
    assert len(ours) >= 30
    for family in ours:
        assert family.documentation, family.name
