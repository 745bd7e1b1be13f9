"""The simulated backend (the embedded default): instances that behave like the profile says.

A model call waits for a slot (max_num_seqs), prefills for the pool's TTFT, then decodes a
log-normal draw of output tokens (fitted to the plan's p50/p90) at TPOT(d), d = calls decoding
(the shared instance model, `murakkab.instance`), re-read every eighth of the tokens so the rate
follows the load. A tool call occupies one of the
pool's `concurrency` slots for its profiled service time. Every wait is in model seconds times
`time_scale` (1 = real time; 0.001 = a thousand times faster). Energy and cost come from the
instance meter (`meter.py`), so they are those of real time, labelled modelled.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random

from murakkab.profiles.tokens import LogNormalTokens
from murakkab.runtime.calls import CallRequest
from murakkab.runtime.meter import InstanceMeter
from murakkab.runtime.results import CallOutcome
from murakkab.runtime.slots import Slots

_CHUNKS = 8
SIMULATED_TEXT = "[simulated output]"


def _pieces(text: str, n: int) -> list[str]:
    """`text` cut into n consecutive parts of near-equal length (empty parts when n > len(text))."""
    n = max(n, 1)
    bounds = [round(i * len(text) / n) for i in range(n + 1)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


class SimulatedInstance:
    def __init__(self, iid: str, pool: str, *, meter: InstanceMeter, time_scale: float, ready_at: float, seed: int):
        self.id, self.pool, self.meter = iid, pool, meter
        self.model = meter.model
        self.kind = self.model.kind
        self.scale, self.ready_at = time_scale, ready_at
        self.draining = False
        self.down_until = 0.0
        self.rng = random.Random(seed)
        self._slots = Slots(self.model.slots)
        self._ids = itertools.count()

    @property
    def load(self) -> int:
        return self.meter.in_flight + self._slots.waiting

    async def call(self, req: CallRequest) -> CallOutcome:
        slots = self._slots
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await slots.acquire()
        cid = f"{req.call_id}#{next(self._ids)}"
        self.meter.enter(cid, req.input_tokens)
        try:
            # sleep to absolute deadlines so timer overshoot does not accumulate over the chunks
            due = loop.time()
            if self.kind == "tool":
                await asyncio.sleep(req.service_s * self.scale)
                n_out, text = 0, None
            else:
                if self.model.ttft_s > 0:
                    due += self.model.ttft_s * self.scale
                    await asyncio.sleep(max(due - loop.time(), 0.0))
                    self.meter.decode(cid)
                n_out = (LogNormalTokens.from_percentiles(req.out_p50, max(req.out_p90, req.out_p50)).draw(self.rng)
                         if req.out_p50 > 0 else 1)
                if req.max_tokens:
                    n_out = min(n_out, req.max_tokens)
                chunk = max(1, math.ceil(n_out / _CHUNKS))
                text = SIMULATED_TEXT      # content is not simulated; tokens_out says how much
                pieces = iter(_pieces(text, math.ceil(n_out / chunk)))
                left = n_out
                while left > 0:
                    k = min(chunk, left)
                    due += k * self.model.tpot_s(self.meter.decoding) * self.scale
                    await asyncio.sleep(max(due - loop.time(), 0.0))
                    left -= k
                    piece = next(pieces, "")
                    if req.on_token is not None and piece:
                        req.on_token(piece)     # streamed as each decode chunk completes
        finally:
            energy = self.meter.leave(cid)
            slots.release()
        return CallOutcome(text=text, tokens_in=int(round(req.input_tokens)), tokens_out=n_out,
                           latency_s=loop.time() - t0, energy_wh=energy.facility_wh, energy_basis=energy.basis,
                           cost_usd=energy.cost_usd, pool=self.pool, instance=self.id, simulated=True)
