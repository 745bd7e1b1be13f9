from __future__ import annotations

import pytest

from murakkab.errors import MurakkabError
from murakkab.policy.autoscaler import AutoscalerConfig, ReactiveAutoscaler
from murakkab.policy.view import InstanceInfo


class FakeView:
    """A hand-driven cluster: one pool with 8 slots per instance."""

    def __init__(self, loads):
        self.t = 0.0
        self.loads = list(loads)
        self.added: list[tuple[float, int, float]] = []
        self.removed: list[tuple[float, int]] = []
        self.provisioning = 0

    def now(self):
        return self.t

    def pool_ids(self):
        return ["p"]

    def slots_per_instance(self, pool):
        return 8

    def instances(self, pool):
        ready = [InstanceInfo(f"p#{k}", "p", True, False, ld) for k, ld in enumerate(self.loads)]
        return ready + [InstanceInfo(f"p#new{k}", "p", False, False, 0) for k in range(self.provisioning)]

    def add_instances(self, pool, n, ready_at):
        self.added.append((self.t, n, ready_at))
        self.provisioning += n

    def remove_instances(self, pool, n, at=None):
        self.removed.append((self.t, n))
        self.loads = self.loads[:-n]


def test_scale_out_after_the_window_with_the_provisioning_delay():
    cfg = AutoscalerConfig(interval_s=10, window_s=30, provisioning_delay_s=120, high=0.9, target=0.7)
    view, scaler = FakeView([8, 8]), ReactiveAutoscaler(cfg)     # 16 of 16 slots busy > 0.9
    for t in (0, 10, 20):
        view.t = t
        scaler.tick(view)
    assert view.added == []                                       # high for only 20 s
    view.t = 30
    scaler.tick(view)
    # want ceil(16 / (0.7 × 8)) = 3 instances, have 2: add 1, ready 120 s later
    assert view.added == [(30, 1, 150)]
    view.t = 40
    scaler.tick(view)
    assert view.added == [(30, 1, 150)]                            # window restarts; one is provisioning


def test_a_dip_resets_the_window():
    view, scaler = FakeView([8, 8]), ReactiveAutoscaler(AutoscalerConfig())
    for t, loads in ((0, [8, 8]), (10, [8, 8]), (20, [4, 4]), (30, [8, 8]), (40, [8, 8])):
        view.t, view.loads = t, loads
        scaler.tick(view)
    assert view.added == []


def test_scale_in_when_idle_never_below_min():
    view, scaler = FakeView([0, 1]), ReactiveAutoscaler(AutoscalerConfig())
    for t in (0, 10, 20, 30):
        view.t = t
        scaler.tick(view)
    assert view.removed == [(30, 1)]
    for t in (40, 50, 60, 70, 80):
        view.t = t
        scaler.tick(view)
    assert view.removed == [(30, 1)]                              # one instance left: min_instances = 1


def test_bad_thresholds_are_rejected():
    with pytest.raises(MurakkabError, match="low < target < high"):
        AutoscalerConfig(low=0.8, target=0.7, high=0.9)
