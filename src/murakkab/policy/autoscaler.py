"""Reactive autoscaler: scale a pool out when its instances run near their concurrency cap, in when
they idle. Thresholds are fractions of the operating point's `max_num_seqs` (tool pools: their
`concurrency`), so they follow the profile rather than a hand-set request rate.

Rule, checked every `interval_s` per pool, on load L = calls in flight + queued over ready,
non-draining instances, capacity C = ready instances × slots per instance:
- L > high × C at every check for `window_s` and nothing provisioning: allocate enough instances to
  bring L to target × slots per instance (at least one, at most doubling the pool: a queue built up
  during a burst overstates the steady load); they accept work after `provisioning_delay_s`. While
  instances are provisioning the pool is not judged again (cool-down), so one burst is not answered
  twice.
- L < low × C at every check for `window_s` and nothing provisioning: drain one instance (never
  below `min_instances`).

Defaults are estimates (no public source for a serving fleet's thresholds): high 0.9, target 0.7,
low 0.3, 10 s checks over a 30 s window, 120 s provisioning (model load on a warm node).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from murakkab.errors import MurakkabError
from murakkab.policy.view import ClusterView


@dataclass(frozen=True)
class AutoscalerConfig:
    high: float = 0.9
    target: float = 0.7
    low: float = 0.3
    interval_s: float = 10.0
    window_s: float = 30.0
    provisioning_delay_s: float = 120.0
    min_instances: int = 1

    def __post_init__(self):
        if not 0 < self.low < self.target < self.high:
            raise MurakkabError(f"autoscaler thresholds must satisfy 0 < low < target < high, got low={self.low}, "
                                f"target={self.target}, high={self.high} (fix: e.g. 0.3 < 0.7 < 0.9)")
        if self.interval_s <= 0 or self.window_s < self.interval_s:
            raise MurakkabError(f"autoscaler needs interval_s > 0 and window_s >= interval_s, got "
                                f"{self.interval_s}, {self.window_s}")
        if self.provisioning_delay_s < 0 or self.min_instances < 1:
            raise MurakkabError("autoscaler needs provisioning_delay_s >= 0 and min_instances >= 1")


@dataclass
class ReactiveAutoscaler:
    """Call `tick(view)` every `config.interval_s`; it acts through the view."""
    config: AutoscalerConfig = field(default_factory=AutoscalerConfig)
    _high_since: dict[str, float] = field(default_factory=dict)
    _low_since: dict[str, float] = field(default_factory=dict)

    def tick(self, view: ClusterView) -> None:
        now = view.now()
        cfg = self.config
        for pool in view.pool_ids():
            insts = view.instances(pool)
            live = [i for i in insts if not i.draining]
            if not live:
                continue  # retired pool: left to drain
            ready = [i for i in live if i.ready]
            provisioning = len(live) - len(ready)
            slots = view.slots_per_instance(pool)
            load = sum(i.load for i in ready)
            cap = max(len(ready), 1) * slots
            if provisioning:
                self._high_since.pop(pool, None)
                self._low_since.pop(pool, None)
            elif load > cfg.high * cap:
                self._low_since.pop(pool, None)
                since = self._high_since.setdefault(pool, now)
                if now - since >= cfg.window_s - 1e-9:
                    want = min(math.ceil(load / (cfg.target * slots)), 2 * len(live))
                    view.add_instances(pool, max(want - len(live), 1), now + cfg.provisioning_delay_s)
                    self._high_since.pop(pool, None)
            elif load < cfg.low * cap:
                self._high_since.pop(pool, None)
                since = self._low_since.setdefault(pool, now)
                if now - since >= cfg.window_s - 1e-9 and len(live) > cfg.min_instances:
                    view.remove_instances(pool, 1)
                    self._low_since.pop(pool, None)
            else:
                self._high_since.pop(pool, None)
                self._low_since.pop(pool, None)
