"""Simulated instances: a model server with continuous batching, and a tool server with slots.

This is the event core's inlined copy of the shared instance model (`murakkab.instance.model`), kept
in typed, compiled form for speed; `tests/sim/test_instance_model.py` checks it against the shared model
on recorded intervals. Model instance: up to `max_num_seqs` calls occupy slots; the rest wait FIFO. An
admitted call first prefills for TTFT, then decodes. With d calls decoding, each advances at
1/TPOT(d) tokens/s, so all decoding calls share one decoded-token clock V (processor sharing in
virtual time): a call admitted to decoding at clock V0 with n tokens finishes when V = V0 + n.
Finish marks sit in a heap, so each event costs O(log n). Power is P(b), b = occupied slots. Tool
instance: `slots` calls at once, power idle + (busy − idle) × occupied / slots.

Energy and cost attribution follow `murakkab.policy.accounting`: every interval's energy is split among
the calls by weighted tokens (prefill_weight × prefill tokens + decode tokens; a tool call's weight is
its service time, alike for all in service); an interval with no call is idle energy. Rather than
storing intervals, the instance keeps running integrals of "energy per unit weight" (and
"instance-seconds per unit weight", for node power and cost), so a call's charge is a difference of two
readings: O(1) per event. With `record_intervals`, each instance keeps its occupancy per interval,
(t0, t1, power, {prefilling call: input tokens}, (decoding or in-service calls)), for that check.
"""

from __future__ import annotations

import heapq
from collections import deque

from murakkab.policy.accounting import DEFAULT_PREFILL_WEIGHT


class Call:
    """One model or tool call in flight. Energy fields are filled at completion."""
    __slots__ = ("req", "step", "inp", "out", "service_s", "t_submit", "a_e", "a_t", "gpu_j", "inst_s", "inst")

    def __init__(self, req, step, inp: float, out: int, service_s: float, t_submit: float):
        self.req, self.step, self.inp, self.out, self.service_s = req, step, inp, out, service_s
        self.t_submit = t_submit
        self.gpu_j = 0.0
        self.inst_s = 0.0


def decode_divisors(tpot: tuple[float, ...]) -> tuple[float, ...]:
    """TPOT(d) × (d / TPOT(d)) for d = 0..len - 1 (index 0 unused): see ModelInstance.advance."""
    return (0.0,) + tuple(tp * (d / tp) for d, tp in enumerate(tpot) if d)


class EnergyBins:
    """GPU joules of one instance per fixed-width time bin (its power timeline)."""
    __slots__ = ("width", "j", "cur", "start", "end")

    def __init__(self, width: float):
        self.width = width
        self.j: list[float] = []
        self.cur, self.start, self.end = 0, 0.0, -1.0   # the last bin written (callers' fast path)

    def add(self, t0: float, t1: float, power: float) -> None:
        w = self.width
        i = int(t0 // w)
        j = self.j
        while True:
            end = (i + 1) * w
            if len(j) <= i:
                j.extend([0.0] * (i + 1 - len(j)))
            if t1 <= end:
                j[i] += power * (t1 - t0)
                self.cur, self.start, self.end = i, i * w, end
                return
            j[i] += power * (end - t0)
            t0 = end
            i += 1


class Instance:
    """State shared by model and tool instances."""
    __slots__ = ("id", "pool", "slots", "ready_at", "draining", "released", "alloc_t", "release_t",
                 "t_last", "busy", "queue", "energy_j", "idle_j", "idle_s", "bins", "version",
                 "intervals", "load", "dirty")

    def __init__(self, iid: str, pool, slots: int, alloc_t: float, ready_at: float, bin_s: float,
                 record_intervals: bool):
        self.id, self.pool, self.slots = iid, pool, slots
        self.alloc_t, self.ready_at, self.release_t = alloc_t, ready_at, None
        self.draining = self.released = False
        self.t_last = alloc_t
        self.busy = 0                      # occupied slots
        self.load = 0                      # occupied + queued (what the router balances)
        self.queue: deque = deque()
        self.energy_j = self.idle_j = self.idle_s = 0.0
        self.bins = EnergyBins(bin_s)
        self.version = 0                   # seq of the live decode-done event (engine); stale ones differ
        self.dirty = False                 # decode-done event awaiting the engine's flush
        self.intervals = [] if record_intervals else None   # (t0, t1, power, {call: Tokens}) for checks

    def _charge(self, t0: float, now: float, dt: float, power: float) -> float:
        """Book the energy of [t0, now) (dt = now − t0) at `power` W: the instance's total, its time bins
        and, with no slot occupied, its idle energy and time. Returns the joules."""
        e = power * dt
        self.energy_j += e
        bins = self.bins
        if bins.start <= t0 and now <= bins.end:
            bins.j[bins.cur] += e
        else:
            bins.add(t0, now, power)
        if self.busy == 0:
            self.idle_j += e
            self.idle_s += dt
        return e

    def advance(self, now: float) -> None:
        """Account [t_last, now) at the current occupancy (each kind of instance defines it)."""
        raise NotImplementedError


class ModelInstance(Instance):
    __slots__ = ("ttft", "tpot", "power", "pw", "V", "marks", "n_dec", "pre_w", "pre", "Ad_e", "Ad_t",
                 "Ap_e", "Ap_t", "seq", "wdec")

    def __init__(self, iid, pool, curve, ttft_s: float, alloc_t, ready_at, bin_s, record_intervals=False,
                 prefill_weight: float = DEFAULT_PREFILL_WEIGHT):
        super().__init__(iid, pool, curve.max_num_seqs, alloc_t, ready_at, bin_s, record_intervals)
        self.ttft = ttft_s
        self.tpot = tuple(curve.tpot_s)    # tuples: the compiled core indexes them directly
        self.power = tuple(curve.power_w)
        # wdec[d] = TPOT(d) × (d / TPOT(d)): the decode-only divisor of the energy-per-weight integrals,
        # tabulated with the same operations `advance` would do per interval (identical floats)
        self.wdec = tuple(getattr(pool, "wdec", None) or decode_divisors(self.tpot))
        self.pw = prefill_weight
        self.V = 0.0
        self.marks: list = []              # (finish mark, seq, call)
        self.n_dec = 0
        self.pre_w = 0.0                   # sum of input tokens of prefilling calls
        self.pre: set = set() if record_intervals else None
        self.Ad_e = self.Ad_t = self.Ap_e = self.Ap_t = 0.0
        self.seq = 0

    def advance(self, now: float) -> None:
        """Account [t_last, now) at the current occupancy."""
        t0 = self.t_last
        dt = now - t0
        if dt <= 0:
            return
        self.t_last = now
        busy = self.busy
        p = self.power[busy]
        e = self._charge(t0, now, dt, p)
        if busy == 0:
            if self.intervals is not None:
                self.intervals.append((t0, now, p, {}, ()))
            return
        nd = self.n_dec
        if nd and not self.pre_w and self.intervals is None:
            # only decoding (the common case): the general path below with rp = 0, same arithmetic
            w = self.wdec[nd]
            self.V += dt / self.tpot[nd]
            self.Ad_e += e / w
            self.Ad_t += dt / w
            return
        rd = nd / self.tpot[nd] if nd else 0.0          # decode weight rate (tokens/s, all decoders)
        pw = self.pw if self.pw > 0 or rd > 0 else 1.0  # prefill-only with weight 0: split by prefill tokens
        rp = pw * self.pre_w / self.ttft if self.pre_w else 0.0
        r = rd + rp
        if self.intervals is not None:
            self._record(t0, now, p)
        if r <= 0:   # occupied but nothing measurable (zero-token prefill): charge as idle
            self.idle_j += e
            return
        if nd:
            self.V += dt / self.tpot[nd]
            self.Ad_e += e / (self.tpot[nd] * r)
            self.Ad_t += dt / (self.tpot[nd] * r)
        if rp:
            k = pw / (self.ttft * r)
            self.Ap_e += e * k
            self.Ap_t += dt * k

    def _record(self, t0: float, now: float, p: float) -> None:
        """Keep the interval's occupancy (recorded runs only)."""
        self.intervals.append((t0, now, p, {c: c.inp for c in self.pre}, tuple(m[2] for m in self.marks)))


class ToolInstance(Instance):
    """`slots` calls at once, each for its fixed service time; power idle + (busy − idle) × used/slots;
    energy split equally among the calls in service (they all progress alike)."""
    __slots__ = ("p_idle", "p_busy", "A_e", "A_t", "svc")

    def __init__(self, iid, pool, slots: int, idle_w: float, busy_w: float, alloc_t, ready_at, bin_s,
                 record_intervals=False):
        super().__init__(iid, pool, slots, alloc_t, ready_at, bin_s, record_intervals)
        self.p_idle, self.p_busy = idle_w, busy_w
        self.A_e = self.A_t = 0.0
        self.svc: set | None = set() if record_intervals else None   # calls in service (recorded runs)

    def advance(self, now: float) -> None:
        t0 = self.t_last
        dt = now - t0
        if dt <= 0:
            return
        self.t_last = now
        b = self.busy
        p = self.p_idle + (self.p_busy - self.p_idle) * b / self.slots
        e = self._charge(t0, now, dt, p)
        if b:
            self.A_e += e / b
            self.A_t += dt / b
        if self.intervals is not None:
            self.intervals.append((t0, now, p, {}, tuple(self.svc)))


__all__ = ["Call", "ModelInstance", "ToolInstance", "EnergyBins", "heapq"]
