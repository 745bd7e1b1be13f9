"""What every `murakkab` sub-command module shares: the one way a user error is printed. Sub-command
modules import this, never `murakkab.cli` (which imports them to build the app)."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from typer.core import TyperGroup
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)


def fail(exc: Exception) -> NoReturn:
    """Print a user error as one clear line on stderr and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _click_modules() -> list:
    """The click that typer runs on: newer typer releases carry their own copy (typer._click) and no
    longer install click; older ones use the click package. Both are taken where both exist (either
    may raise), and neither is required: the base install of murakkab has only what typer brings."""
    mods = []
    for name in ("typer._click", "click"):
        try:
            mods.append(__import__(name, fromlist=["exceptions"]))
        except ImportError:
            pass
    return mods


_CLICK_ERRORS = tuple({m.exceptions.ClickException for m in _click_modules()})
# typer.Abort is its click's Abort; the click package's own, where installed, may be another class
_CLICK_ABORTS = tuple({typer.Abort, *(a for m in _click_modules() if (a := getattr(m.exceptions, "Abort", None)))})


class OneLineErrors(TyperGroup):
    """The root command group: a usage error (an unknown option, a missing value, a file that does not
    exist) is one line on stderr with exit code 2, like every other error, instead of click's usage
    block and panel."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _CLICK_ERRORS as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":     # the help is already printed
                sys.exit(exc.exit_code)
            ctx = getattr(exc, "ctx", None)
            hint = f" (fix: see '{ctx.command_path if ctx is not None else 'murakkab'} --help')"
            err_console.print(f"[bold red]error:[/] {escape(exc.format_message())}{escape(hint)}", highlight=False,
                              soft_wrap=True)
            sys.exit(2)
        except _CLICK_ABORTS:
            err_console.print("aborted", highlight=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
