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


def test_an_install_finished_meanwhile_by_another_process_is_used(tmp_path: Path) -> None:
    """Two `orion stack up` sharing the cache: the second to finish keeps the first's."""
    target = tmp_path / "tool"

    def build(into: Path) -> None:
        (into / "ours").write_text("x")
        # Meanwhile another process completes the same install.
        target.mkdir()
        (target / "theirs").write_text("y")
        (target / COMPLETE_MARKER).write_text("ok\n")

    assert cached_install(target, build, component="tool") == target
    assert (target / "theirs").is_file() and not (target / "ours").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tool"]  # our temporary copy is gone
