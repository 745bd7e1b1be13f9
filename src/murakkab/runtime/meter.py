"""Energy and cost of each call on one instance: the shared instance model and accounting rule.

The meter keeps the instance's timeline as `policy.accounting.Interval`s, built by the instance model
(`murakkab.instance`): a new interval starts whenever a call enters, moves from prefill to decode, or
leaves. A model call counts as prefilling (its input tokens over TTFT, at the prefill weight) until its
body reports its first token (`decode`), then decodes at 1/TPOT(d), d = calls decoding; a tool call is
in service from `enter` to `leave`. A call's energy and cost are its shares of the intervals it lived
through (`attribute`: weighted tokens, node share, PUE, price). Times are the clock's seconds (model
seconds for the simulated backend: wall seconds / time scale), so a sped-up run reports the energy of
real time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from murakkab.instance.model import InstanceModel
from murakkab.policy.accounting import AccountingParams, EnergyBasis, Interval, attribute


@dataclass(frozen=True)
class CallEnergy:
    facility_wh: float
    cost_usd: float
    basis: EnergyBasis


class InstanceMeter:
    """Not thread-safe; used from one asyncio loop."""

    def __init__(self, model: InstanceModel, charges: AccountingParams, clock: Callable[[], float],
                 basis: EnergyBasis = "modelled"):
        self.model, self.charges, self.clock, self.basis = model, charges, clock, basis
        self._t = clock()
        self._intervals: list[Interval] = []
        self._offset = 0                      # index of _intervals[0] in the instance's whole history
        self._start: dict[str, int] = {}      # call id -> history index of its first interval
        self._prefilling: dict[str, float] = {}   # call id -> input tokens
        self._running: dict[str, None] = {}   # decoding (model) or in service (tool), in arrival order
        self.total_wh = 0.0                   # facility Wh of the whole instance so far (busy + idle)
        self.idle_wh = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._start)

    @property
    def decoding(self) -> int:
        return len(self._running)

    def power_w(self) -> float:
        """Accelerator power now, at the calls in flight."""
        return self.model.power_w(self.in_flight)

    def _close(self) -> None:
        now = self.clock()
        if now <= self._t:
            return
        iv = self.model.interval(self._t, now, self._prefilling, self._running, self.basis)
        self._intervals.append(iv)
        wh = (iv.power_w + self.charges.node_share_w) * (now - self._t) / 3600.0 * self.charges.pue
        self.total_wh += wh
        if not self._start:
            self.idle_wh += wh
        self._t = now

    def enter(self, call_id: str, input_tokens: float = 0.0) -> None:
        """A call takes a slot: a model call starts prefilling (decoding at once when TTFT is 0), a tool
        call starts its service."""
        if call_id in self._start:
            raise ValueError(f"call '{call_id}' is already on this instance")
        self._close()
        self._start[call_id] = self._offset + len(self._intervals)
        if self.model.kind == "model" and self.model.ttft_s > 0:
            self._prefilling[call_id] = float(input_tokens)
        else:
            self._running[call_id] = None

    def decode(self, call_id: str) -> None:
        """The call's prefill is over (its first token is out): from now on it decodes."""
        if call_id not in self._prefilling:
            return
        self._close()
        del self._prefilling[call_id]
        self._running[call_id] = None

    def leave(self, call_id: str) -> CallEnergy:
        """Close the call and return its share; drops history no call in flight still needs."""
        self._close()
        start = self._start.pop(call_id) - self._offset
        self._prefilling.pop(call_id, None)
        self._running.pop(call_id, None)
        share = attribute(self._intervals[start:], self.charges).requests.get(call_id)
        keep = min(self._start.values(), default=self._offset + len(self._intervals)) - self._offset
        if keep > 0:
            del self._intervals[:keep]
            self._offset += keep
        if share is None:
            return CallEnergy(0.0, 0.0, self.basis)
        return CallEnergy(share.facility_wh, share.cost_usd, share.basis)
