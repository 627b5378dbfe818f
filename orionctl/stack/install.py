"""First-use installs into the download cache, safe against interrupted runs.

Each install is built in a temporary sibling directory and renamed into place
only when complete, with a ``.complete`` marker inside. A directory without
the marker is a corrupt or half-finished cache: it is deleted and rebuilt, so
a killed download never poisons later runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from orion.exceptions import StackError

COMPLETE_MARKER = ".complete"
INSTALL_TIMEOUT_S = 900


def require_tool(component: str, tool: str, fix: str) -> str:
    """Absolute path of ``tool`` on PATH, or a StackError saying how to get it."""
    path = shutil.which(tool)
    if path is None:
        raise StackError(component, f"needs `{tool}`, which is not on PATH", fix=fix)
    return path


def require_java(component: str, minimum: int = 17) -> str:
    """Path of a Java runtime of at least ``minimum``; StackError otherwise."""
    java = require_tool(
        component, "java", fix="install Java 17+ (apt-get install -y openjdk-17-jre-headless)"
    )
    out = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    ).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < minimum:
        raise StackError(
            component,
            f"needs Java {minimum}+, found: {out.splitlines()[0] if out else 'unknown'}",
            fix=f"install Java {minimum}+ and put it first on PATH",
        )
    return java


def run_step(
    component: str, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, fix: str
) -> None:
    """Run one install command; a failure becomes a StackError with its last output lines."""
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise StackError(
            component, f"`{argv[0]}` did not finish in {INSTALL_TIMEOUT_S}s", fix=fix
        ) from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise StackError(component, f"`{' '.join(argv[:3])} ...` failed:\n{tail}", fix=fix)


def cached_install(target: Path, build: Callable[[Path], None], *, component: str) -> Path:
    """Return ``target``, building it with ``build(tmpdir)`` first if it is not complete."""
    if (target / COMPLETE_MARKER).is_file():
        return target
    if target.exists():
        shutil.rmtree(target)  # half-finished or corrupt: rebuild from scratch
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        (tmp / COMPLETE_MARKER).write_text("ok\n")
        try:
            os.replace(tmp, target)
        except OSError:
            # Another `orion stack up` sharing the cache finished the same install
            # first (seen in CI: "Directory not empty"): use theirs, drop ours.
            if not (target / COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not (target / COMPLETE_MARKER).is_file():
        raise StackError(
            component,
            f"install into {target} did not complete",
            fix=f"delete {target} and run `orion stack up` again",
        )
    return target
