"""What every `murakkab` sub-command module shares: the one way a user error is printed. Sub-command
modules import this, never `murakkab.cli` (which imports them to build the app)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)


def fail(exc: Exception) -> NoReturn:
    """Print a user error as one clear line on stderr and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)
