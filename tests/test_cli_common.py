"""Sub-command modules reach the shared error printer without importing the app that imports them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import typer

import murakkab
from murakkab.cli_common import fail
from murakkab.errors import MurakkabError

SRC = Path(murakkab.__file__).parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_module_imports_the_app_module_back():
    # every import, module-level or inside a function: a lazy import is still a cycle
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if p.name != "__main__.py" and p != SRC / "cli.py" and "murakkab.cli" in _imports(p)]
    assert offenders == []


def test_fail_prints_one_line_and_exits_2(capsys):
    with pytest.raises(typer.Exit) as exc:
        fail(MurakkabError("bad [thing] (fix: x)"))
    assert exc.value.exit_code == 2
    assert "error: bad [thing] (fix: x)" in capsys.readouterr().err       # markup in the message kept as text


def test_no_module_imports_the_click_package():
    # click is not a dependency of murakkab: newer typer releases carry their own copy and do not
    # install it, so an import of it breaks `make demo` on a fresh machine (the test extras hide it:
    # uvicorn brings click)
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "murakkab"
    offenders = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(src)}: {n}" for n in names if n.split(".")[0] == "click"]
    assert offenders == []
