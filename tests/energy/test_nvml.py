"""NVML reading is optional: without pynvml/GPU it returns None; with a counter it differences readings."""

import sys
import types

import pytest

from murakkab.energy import nvml


def test_absent_pynvml_returns_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)   # import fails as if not installed
    assert nvml.read_energy_mj([0]) is None
    assert nvml.energy_between_wh(None, {0: 5}) is None


def test_no_gpu_returns_none(monkeypatch):
    fake = types.SimpleNamespace(nvmlInit=lambda: (_ for _ in ()).throw(RuntimeError("no driver")))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml.read_energy_mj([0]) is None


def test_counter_difference_in_wh(monkeypatch):
    counters = {0: 1_000_000, 1: 2_000_000}
    fake = types.SimpleNamespace(
        nvmlInit=lambda: None, nvmlShutdown=lambda: None,
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetTotalEnergyConsumption=lambda h: counters[h])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    before = nvml.read_energy_mj([0, 1])
    counters[0] += 3_600_000   # 3600 J = 1 Wh
    counters[1] += 1_800_000   # 0.5 Wh
    after = nvml.read_energy_mj([0, 1])
    assert nvml.energy_between_wh(before, after) == pytest.approx(1.5)
