"""Energy and cost of each call on one instance, through the shared accounting.

The meter keeps the instance's power timeline as `policy.accounting.Interval`s: a new interval
starts whenever the number of calls in flight changes. Power is the instance curve's P(b) at the
b calls in flight (P(0) = idle); every call in flight decodes at the same rate 1/TPOT(b) under
continuous batching, so each is credited dt / TPOT(b) decode tokens in the interval. A call's
energy is its share of the intervals it lived through (`attribute`), and its cost is its
same-weight share of the instance's price over that time. Times are model seconds (wall seconds /
time scale), so a sped-up simulation still reports the energy of real time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from murakkab.policy.accounting import AccountingParams, EnergyBasis, Interval, Tokens, attribute
from murakkab.sim.curves import InstanceCurve


@dataclass(frozen=True)
class CallEnergy:
    facility_wh: float
    cost_usd: float
    basis: EnergyBasis


class InstanceMeter:
    """Not thread-safe; used from one asyncio loop."""

    def __init__(self, curve: InstanceCurve, params: AccountingParams, price_usd_per_s: float,
                 clock: Callable[[], float], basis: EnergyBasis = "modelled"):
        self.curve, self.params, self.price_s, self.clock, self.basis = curve, params, price_usd_per_s, clock, basis
        self._t = clock()
        self._intervals: list[Interval] = []
        self._offset = 0                    # index of _intervals[0] in the instance's whole history
        self._active: dict[str, int] = {}   # call id -> history index of its first interval
        self.total_wh = 0.0                 # facility Wh of the whole instance so far (busy + idle)
        self.idle_wh = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._active)

    def _close(self) -> None:
        now = self.clock()
        dt = now - self._t
        if dt <= 0:
            return
        b = min(len(self._active), self.curve.max_num_seqs)
        power = self.curve.power(b)
        toks = {}
        if b:
            rate = dt / self.curve.tpot(b)
            toks = {cid: Tokens(decode=rate) for cid in self._active}
        self._intervals.append(Interval(self._t, now, power, toks, self.basis))
        wh = (power + self.params.node_share_w) * dt / 3600.0 * self.params.pue
        self.total_wh += wh
        if not b:
            self.idle_wh += wh
        self._t = now

    def enter(self, call_id: str) -> None:
        self._close()
        self._active[call_id] = self._offset + len(self._intervals)

    def leave(self, call_id: str) -> CallEnergy:
        """Close the call and return its share; drops history no call in flight still needs."""
        self._close()
        start = self._active.pop(call_id) - self._offset
        mine = self._intervals[start:]
        att = attribute(mine, self.params)
        share = att.requests.get(call_id)
        cost = 0.0
        for iv in mine:
            if call_id in iv.tokens:
                w = sum(t.decode for t in iv.tokens.values())
                cost += self.price_s * (iv.t1 - iv.t0) * iv.tokens[call_id].decode / w
        keep = min(self._active.values(), default=self._offset + len(self._intervals)) - self._offset
        if keep > 0:
            del self._intervals[:keep]
            self._offset += keep
        if share is None:
            return CallEnergy(0.0, cost, self.basis)
        return CallEnergy(share.facility_wh, cost, share.basis)
