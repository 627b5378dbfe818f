"""Cached installs: a half-finished or failed install never poisons the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.exceptions import StackError
from orionctl.stack.install import COMPLETE_MARKER, cached_install


def test_complete_install_is_reused_without_building(tmp_path: Path) -> None:
    calls: list[Path] = []

    def build(tmp: Path) -> None:
        calls.append(tmp)
        (tmp / "bin").write_text("x")

    target = tmp_path / "tool-1.0"
    cached_install(target, build, component="tool")
    cached_install(target, build, component="tool")
    assert len(calls) == 1
    assert (target / "bin").read_text() == "x" and (target / COMPLETE_MARKER).is_file()


def test_corrupt_cache_without_marker_is_rebuilt(tmp_path: Path) -> None:
    target = tmp_path / "tool-1.0"
    target.mkdir()
    (target / "half-downloaded.jar").write_text("truncated")

    def build(tmp: Path) -> None:
        (tmp / "ok").write_text("y")

    cached_install(target, build, component="tool")
    assert sorted(p.name for p in target.iterdir()) == [COMPLETE_MARKER, "ok"]


def test_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    def build(tmp: Path) -> None:
        (tmp / "partial").write_text("z")
        raise StackError("tool", "download failed", fix="retry")

    with pytest.raises(StackError, match="download failed"):
        cached_install(tmp_path / "tool-1.0", build, component="tool")
    assert list(tmp_path.iterdir()) == []
