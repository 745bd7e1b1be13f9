"""Builds the simulator's optional compiled core; all other metadata is in pyproject.toml.

`murakkab.sim.engine` and `murakkab.sim.instances` are compiled with Cython in pure-Python mode (the
.py files stay the only source; types live in the .pxd files beside them). The extensions are
optional: where Cython or a C compiler is missing or fails, the install still succeeds and the
pure-Python modules run. Each build carries the hash of the sources it was made from, so an edited
.py is never shadowed by an old build (see src/murakkab/sim/_core.py).
"""

import importlib.util
import sys
from pathlib import Path

from setuptools import Extension, setup

SIM = Path("src") / "murakkab" / "sim"


def _core():
    # load sim/_core.py by path: the package itself is not importable while it is being built
    spec = importlib.util.spec_from_file_location("_murakkab_sim_core", SIM / "_core.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def extensions() -> list:
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("murakkab: Cython is not installed; the simulator runs as pure Python", file=sys.stderr)
        return []
    core = _core()
    mark = core.source_hash(SIM)
    exts = [Extension(f"murakkab.sim.{name}", [str(SIM / f"{name}.py")],
                      define_macros=[("MURAKKAB_SIM_SOURCE", f'"{mark}"')],
                      # no fused multiply-add: every float operation rounds as Python's does
                      # -g0: no debug tables (the build is ~4x smaller, and murakkab.sim reads it at import)
                      extra_compile_args=["-ffp-contract=off", "-g0"],
                      optional=True)
            for name in core.HOT]
    try:
        built = cythonize(exts, build_dir="build/cython", include_path=["src"], quiet=True,
                          compiler_directives={"language_level": 3,
                                               # types come from the .pxd files only: a `float` annotation
                                               # must not turn a Python float into a C double
                                               "annotation_typing": False})
    except Exception as exc:  # noqa: BLE001 - a failed translation must not fail the install
        print(f"murakkab: translating the simulator core failed ({exc}); it runs as pure Python", file=sys.stderr)
        return []
    for ext in built:
        ext.optional = True   # cythonize's copies drop the flag: a failed C compile must not fail the install
    return built


setup(ext_modules=extensions())
