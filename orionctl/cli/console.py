"""Terminal output shared by the CLI commands (rich writes plain text when piped)."""

from __future__ import annotations

import sys

from rich.console import Console

# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's
# 80 columns, so endpoints and paths in tables are never cut.
_PIPED_WIDTH = 160

out = Console(width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPED_WIDTH)
