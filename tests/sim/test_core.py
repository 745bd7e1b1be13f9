"""The compiled simulator core: same results as the pure-Python source, and never used when stale."""

from __future__ import annotations

import dataclasses
import importlib
import random
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest

import murakkab.sim
import murakkab.sim.engine as active_engine
from murakkab.sim import _core
from murakkab.sim.arrivals import poisson_times
from murakkab.instance import plan_point_curve

SIM_DIR = Path(_core.__file__).parent


@contextmanager
def pure_sim_modules():
    """Import engine and instances from their .py files for the duration; restore the active ones after."""
    names = [f"murakkab.sim.{n}" for n in _core.HOT]
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    finder = _core.PureSourceFinder("murakkab.sim", SIM_DIR)
    sys.meta_path.insert(0, finder)
    try:
        yield importlib.import_module("murakkab.sim.engine")
    finally:
        sys.meta_path.remove(finder)
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)
        pkg = sys.modules["murakkab.sim"]
        for n, mod in saved.items():
            setattr(pkg, n.rsplit(".", 1)[1], mod)


def _scenario(b, engine):
    # every event kind and path: a tool step, TTFT > 0 with queueing (2 instances x 4 slots, 3 parallel calls
    # x 2 rounds), TTFT 0 with queueing, log-normal token draws, the autoscaler adding and draining instances
    pools = [b.model_pool("m", ttft=0.2, max_num_seqs=4, instances=2, node_w=50.0),
             b.model_pool("z", tpot=0.03, max_num_seqs=2, price_h=2.0),
             b.tool_pool("t", concurrency=2, node_w=20.0)]
    r = b.route([b.tool_step("x", "t", 0.5), b.llm_step("a", [("m", 1.0)], out_p50=50, out_p90=120, inp=300.0,
                                                        seq=2, par=3),
                 b.llm_step("c", [("z", 1.0)], out_p50=30, out_p90=60)], [("x", "a"), ("a", "c")])
    p = b.plan([r], pools)
    arrivals = [(t, "wf", "latency:good") for t in poisson_times(3.0, 120.0, random.Random(5))]
    cfg = engine.SimConfig(seed=3, autoscale=True)
    res = engine.simulate(p, arrivals, horizon_s=150.0, config=cfg, resolver=plan_point_curve)
    return {"requests": [dataclasses.astuple(x) for x in res.requests],
            "instances": [dataclasses.astuple(x) for x in res.instances],
            "steps": sorted(res.steps.items()), "end": res.end_s, "unfinished": res.unfinished}


def test_compiled_core_gives_the_pure_python_results_bit_for_bit(b):
    if not _core.is_compiled(active_engine):
        pytest.skip(f"the compiled core is not in use ({murakkab.sim.PURE_REASON or 'not built'})")
    compiled = _scenario(b, active_engine)
    with pure_sim_modules() as pure_engine:
        assert pure_engine.__file__.endswith("engine.py")
        assert sys.modules["murakkab.sim.instances"].__file__.endswith("instances.py")
        pure = _scenario(b, pure_engine)
    assert len(compiled["requests"]) > 300 and len(compiled["instances"]) > 4   # the autoscaler added some
    assert compiled == pure                     # == on floats: identical values, not approximately equal
    assert [type(v) for v in compiled["requests"][0]] == [type(v) for v in pure["requests"][0]]


def _fake_build(tmp_path: Path, *, built_from: str | None, names=_core.HOT) -> Path:
    """A package directory with the two sources and 'compiled' files carrying a source mark."""
    pkg = tmp_path / "fakesim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for n in _core.HOT:
        (pkg / f"{n}.py").write_text(f"WHERE = 'source of {n}'\n")
    mark = built_from if built_from is not None else _core.source_hash(pkg)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for n in names:
        (pkg / f"{n}{suffix}").write_bytes(b"\x7fELF junk " + _core.MARK + mark.encode() + b"; more junk")
    return pkg


def test_a_build_of_the_current_sources_is_fresh(tmp_path):
    pkg = _fake_build(tmp_path, built_from=None)
    assert _core.built_hash(next(pkg.glob("engine.*.so"))) == _core.source_hash(pkg)
    assert _core.stale_reason(pkg) is None


def test_editing_a_source_after_the_build_makes_it_stale(tmp_path):
    pkg = _fake_build(tmp_path, built_from=None)
    (pkg / "instances.py").write_text("WHERE = 'edited'\n")
    reason = _core.stale_reason(pkg)
    assert reason is not None and "built from other sources" in reason


def test_half_a_build_is_not_used(tmp_path):
    reason = _core.stale_reason(_fake_build(tmp_path, built_from=None, names=("engine",)))
    assert reason is not None and "instances is not" in reason


def test_no_build_needs_no_fallback(tmp_path):
    assert _core.stale_reason(_fake_build(tmp_path, built_from=None, names=())) is None


def test_a_stale_build_warns_and_imports_the_sources(tmp_path, monkeypatch):
    pkg = _fake_build(tmp_path, built_from="0" * 64)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delenv(_core.PURE_ENV, raising=False)
    with pytest.warns(RuntimeWarning, match="pure-Python simulator core"):
        reason = _core.guard("fakesim", pkg)
    assert "built from 000000000000" in reason
    try:
        mod = importlib.import_module("fakesim.engine")
        assert mod.WHERE == "source of engine" and mod.__file__.endswith("engine.py")
    finally:
        for n in ("fakesim", "fakesim.engine"):
            sys.modules.pop(n, None)


def test_the_environment_switch_selects_the_sources_quietly(tmp_path, monkeypatch):
    pkg = _fake_build(tmp_path, built_from=None)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setenv(_core.PURE_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _core.guard("fakesim", pkg) == f"{_core.PURE_ENV}=1"
    assert any(isinstance(f, _core.PureSourceFinder) for f in sys.meta_path)
