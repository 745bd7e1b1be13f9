"""The layers the folders promise: the two bodies (sim/, runtime/ + server/) never import each other, and
what lies below both (instance/, policy/) imports neither. Read from the AST of every module, imports
inside functions and under TYPE_CHECKING included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "murakkab"

# package -> packages it must not import (at any depth)
FORBIDDEN = {
    "sim": ("runtime", "server"),
    "runtime": ("sim",),
    "server": ("sim",),
    "instance": ("sim", "runtime", "server", "optimizer"),
    "policy": ("sim", "runtime", "server", "instance"),
    # the profilers read catalog/, profiles/, spec/; the workflow profiler runs the runtime, nothing else
    "profiling": ("sim", "server", "optimizer", "instance", "policy"),
}


def imports_of(source: str, module: str) -> set[str]:
    """Absolute names of the murakkab modules `module` (dotted, e.g. murakkab.runtime.meter) imports."""
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:   # relative: resolve against the importing module's package
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return {n for n in found if n == "murakkab" or n.startswith("murakkab.")}


def violations(source: str, module: str) -> list[str]:
    parts = module.split(".")
    banned = FORBIDDEN.get(parts[1], ()) if len(parts) > 1 else ()
    return sorted(f"{module} imports {name}" for name in imports_of(source, module)
                  if any(name == f"murakkab.{b}" or name.startswith(f"murakkab.{b}.") for b in banned))


def all_modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
            parts.append("__init__")   # keeps relative imports resolving against the package itself
        out.append((".".join(parts), path))
    return out


def test_the_checker_sees_absolute_relative_and_nested_imports():
    src = ("import murakkab.sim\n"
           "from ..sim.curves import X\n"
           "def f():\n    from murakkab.runtime import meter\n")
    assert violations(src, "murakkab.runtime.cluster") == ["murakkab.runtime.cluster imports murakkab.sim",
                                                           "murakkab.runtime.cluster imports murakkab.sim.curves",
                                                           "murakkab.runtime.cluster imports murakkab.sim.curves.X"]
    assert violations(src, "murakkab.sim.engine") == ["murakkab.sim.engine imports murakkab.runtime",
                                                      "murakkab.sim.engine imports murakkab.runtime.meter"]
    assert violations("from murakkab.simulation import x\n", "murakkab.runtime.a") == []   # a prefix is not a package


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_hold(package):
    modules = [(m, p) for m, p in all_modules() if m.split(".")[1] == package]
    assert modules, f"no modules found under src/murakkab/{package}"
    bad = [v for m, p in modules for v in violations(p.read_text(encoding="utf-8"), m)]
    assert bad == []
