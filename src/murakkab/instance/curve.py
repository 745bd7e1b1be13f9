"""TPOT(b) and P(b) of one model instance, tabulated for b = 0..max_num_seqs.

Both bodies need two numbers per in-flight count b, so a curve is a pair of tables built
once per pool. `curve_from_points` builds them from a model profile's operating points via the
profile store's monotone interpolation; `plan_point_curve` builds them from the Pool's own
operating point when no profile curve is available; tests build curves by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Pool

@dataclass(frozen=True)
class InstanceCurve:
    """tpot_s[b] = seconds per output token of each sequence with b decoding; power_w[b] = GPU power
    of the whole instance with b sequences occupying slots (power_w[0] = idle). Index 0 of tpot_s is
    unused. `basis` says where the numbers came from."""
    tpot_s: tuple[float, ...]
    power_w: tuple[float, ...]
    basis: str

    def __post_init__(self):
        if len(self.tpot_s) != len(self.power_w) or len(self.tpot_s) < 2:
            raise MurakkabError("an instance curve needs tpot and power tables of equal length >= 2 "
                                "(entries for b = 0..max_num_seqs)")
        if any(t <= 0 for t in self.tpot_s[1:]):
            raise MurakkabError(f"TPOT must be > 0 s for every b >= 1 ({self.basis})")
        if any(p < 0 for p in self.power_w):
            raise MurakkabError(f"power must be >= 0 W ({self.basis})")

    @property
    def max_num_seqs(self) -> int:
        return len(self.tpot_s) - 1

    def tpot(self, b: int) -> float:
        return self.tpot_s[b]

    def power(self, b: int) -> float:
        return self.power_w[b]

def constant_curve(max_num_seqs: int, tpot_s: float, busy_w: float, idle_w: float,
                   basis: str = "hand-built") -> InstanceCurve:
    """Same TPOT at every b; power idle at b = 0 and `busy_w` otherwise."""
    return InstanceCurve((tpot_s,) * (max_num_seqs + 1), (idle_w,) + (busy_w,) * max_num_seqs, basis)

def plan_point_curve(pool: Pool) -> InstanceCurve:
    """From the Pool's own operating point: TPOT constant at tpot_p50_s (conservative below the
    operating point, where real TPOT is lower); power linear from idle (b = 0) to busy (b = cap)."""
    if pool.kind != "model" or not pool.max_num_seqs or not pool.tpot_p50_s:
        raise MurakkabError(f"pool '{pool.id}' has no model operating point (max_num_seqs, tpot_p50_s) "
                            "(fix: a model pool needs both in the plan)")
    n = pool.max_num_seqs
    power = tuple(pool.power_idle_w + (pool.power_busy_w - pool.power_idle_w) * b / n for b in range(n + 1))
    return InstanceCurve((pool.tpot_p50_s,) * (n + 1), power,
                         f"plan operating point of {pool.profile} (constant TPOT; power linear idle->busy: estimate)")

def curve_from_points(points, max_num_seqs: int, idle_w: float, busy_w_fallback: float,
                      label: str) -> InstanceCurve:
    """Tabulate a profile's operating points with the profile store's interpolation at b = 1..cap.
    Power at b = 0 is the idle power; where the profile has no power, the plan's busy power is used
    at every b >= 1 (and the basis says so)."""
    from murakkab.profiles.interpolate import tpot_power_table
    bs = range(1, max_num_seqs + 1)
    tp, pw = tpot_power_table(tuple(points), bs)   # one vectorised evaluation: pools reach 2,048 slots
    tpot, power, note = [0.0] + tp, [idle_w], ""
    if pw is None:
        note = "; power unknown in profile, plan busy power used"
        power += [busy_w_fallback] * max_num_seqs
    else:
        power += pw
    tpot[0] = tpot[1]
    return InstanceCurve(tuple(tpot), tuple(power), f"profile {label} (interpolated){note}")
