"""Which build of the simulator's event core runs: compiled, or the pure-Python source.

`setup.py` compiles `engine.py` and `instances.py` with Cython in pure-Python mode (types in the
`.pxd` files beside them) into extension modules that Python imports in place of the `.py` files.
Each build carries `source_hash()` of the two `.py` files it was made from, as the text
`murakkab-sim-source:<hash>;` in the built file. `guard()` runs when `murakkab.sim` is imported: when
a compiled module is present but the `.py` files have changed since it was built (a stale build
would silently run old code), or only one of the two was built, it warns and makes both import from
the `.py` files; `MURAKKAB_SIM_PURE=1` does the same without a warning (tests of the pure modules,
debugging). The two modules go together because the compiled engine uses the compiled instance types.

This module is also loaded by `setup.py` at build time: it imports nothing from murakkab.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

HOT = ("instances", "engine")        # compiled together; instances first (engine imports its types)
MARK = b"murakkab-sim-source:"
PURE_ENV = "MURAKKAB_SIM_PURE"


def source_hash(directory: str | os.PathLike) -> str:
    """SHA-256 over the `.py` sources of the compiled modules (names, lengths and bytes)."""
    h = hashlib.sha256()
    for name in HOT:
        data = (Path(directory) / f"{name}.py").read_bytes()
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def built_hash(path: str | os.PathLike) -> str | None:
    """The source hash baked into a compiled module's file, or None when it carries none."""
    data = Path(path).read_bytes()
    i = data.find(MARK)
    if i < 0:
        return None
    j = data.find(b";", i)
    return data[i + len(MARK):j].decode("ascii", "replace") if j > 0 else None


def compiled_files(directory: str | os.PathLike) -> dict[str, Path]:
    """The compiled module file of each hot module present in `directory` (what import would pick)."""
    found = {}
    for name in HOT:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            p = Path(directory) / f"{name}{suffix}"
            if p.is_file():
                found[name] = p
                break
    return found


def stale_reason(directory: str | os.PathLike) -> str | None:
    """Why the compiled modules in `directory` must not run, or None (fresh, or none built)."""
    files = compiled_files(directory)
    if not files:
        return None
    if len(files) < len(HOT):
        missing = [n for n in HOT if n not in files]
        return f"only {', '.join(p.name for p in files.values())} is compiled ({', '.join(missing)} is not)"
    want = source_hash(directory)
    for name, p in files.items():
        got = built_hash(p)
        if got != want:
            return (f"{p.name} was built from other sources than the current {' and '.join(f'{n}.py' for n in HOT)}"
                    f" (built from {(got or 'unknown')[:12]}..., now {want[:12]}...)")
    return None


class PureSourceFinder:
    """Meta-path finder: the hot modules of `package` load from their `.py` files."""

    def __init__(self, package: str, directory: Path):
        self.names = {f"{package}.{n}": directory / f"{n}.py" for n in HOT}

    def find_spec(self, fullname, path=None, target=None):
        src = self.names.get(fullname)
        return importlib.util.spec_from_file_location(fullname, src) if src is not None else None


def guard(package: str, directory: str | os.PathLike) -> str | None:
    """Called by `murakkab.sim.__init__`: use the pure-Python hot modules when the compiled ones are
    stale or disabled. Returns the reason they are used, or None (compiled and fresh, or none built)."""
    directory = Path(directory)
    if os.environ.get(PURE_ENV) == "1":
        reason = f"{PURE_ENV}=1"
    else:
        reason = stale_reason(directory)
        if reason is not None:
            warnings.warn(f"murakkab.sim: {reason}; running the pure-Python simulator core instead "
                          "(fix: rebuild it with `pip install -e .`)", RuntimeWarning, stacklevel=3)
    if reason is not None and compiled_files(directory) and not any(
            isinstance(f, PureSourceFinder) and f.names == PureSourceFinder(package, directory).names for f in sys.meta_path):
        sys.meta_path.insert(0, PureSourceFinder(package, directory))
    return reason


def is_compiled(module) -> bool:
    """True when `module` was loaded from a compiled extension file."""
    return str(getattr(module, "__file__", "")).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
