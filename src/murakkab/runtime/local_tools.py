"""Tool instances that run on this machine: OpenCV video tools and the code sandbox. Each call
runs in a worker thread and holds one of the pool's `concurrency` slots; energy is modelled from
the pool's tool profile through the instance meter."""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import Callable
from typing import Any

from murakkab.errors import MurakkabError
from murakkab.runtime import sandbox, video
from murakkab.runtime.calls import BackendError, BadInput, CallRequest
from murakkab.runtime.meter import InstanceMeter
from murakkab.runtime.results import CallOutcome
from murakkab.runtime.slots import Slots


def scene_tool(payload: dict) -> Any:
    scenes = video.detect_scenes(payload["video"])
    return {"video": payload["video"], "scenes": video.scenes_to_data(scenes)}


def frames_tool(payload: dict) -> Any:
    sc = payload["scenes"]
    out_dir = payload.get("out_dir") or tempfile.mkdtemp(prefix="murakkab-frames-")
    frames = video.extract_frames(sc["video"], video.scenes_from_data(sc["scenes"]),
                                  int(payload.get("frames_per_scene", 1)), out_dir)
    return {"video": sc["video"], "frames": frames}


def code_tool(payload: dict) -> Any:
    """payload: {candidates: [code], tests: code}; runs each candidate followed by the tests."""
    results = []
    for i, cand in enumerate(payload.get("candidates") or []):
        r = sandbox.run_python(f"{cand}\n\n{payload.get('tests', '')}\n")
        results.append({"candidate": i, "passed": r.passed, "reason": r.reason, "stderr": r.stderr[-500:]})
    return {"results": results}


LOCAL_TOOLS: dict[str, Callable[[dict], Any]] = {
    "opencv_scene_detector": scene_tool,
    "opencv_frame_extractor": frames_tool,
    "python_interpreter": code_tool,
}


class LocalToolInstance:
    def __init__(self, iid: str, pool: str, fn: Callable[[dict], Any], meter: InstanceMeter, slots: int,
                 ready_at: float = 0.0):
        self.id, self.pool, self.fn, self.meter, self.n_slots = iid, pool, fn, meter, slots
        self.ready_at, self.draining, self.down_until = ready_at, False, 0.0
        self._slots = Slots(slots)
        self._ids = itertools.count()

    @property
    def load(self) -> int:
        return self.meter.in_flight + self._slots.waiting

    async def call(self, req: CallRequest) -> CallOutcome:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await self._slots.acquire()
        cid = f"{req.call_id}#{next(self._ids)}"
        self.meter.enter(cid)
        try:
            data = await asyncio.to_thread(self.fn, req.payload)
        except BadInput:
            raise                  # the client's input: no retry, no other instance can do better
        except MurakkabError as exc:
            raise BackendError(str(exc), retryable=False) from None
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self.pool}: {type(exc).__name__}: {exc}", retryable=False) from None
        finally:
            energy = self.meter.leave(cid)
            self._slots.release()
        return CallOutcome(data=data, latency_s=loop.time() - t0, energy_wh=energy.facility_wh,
                           energy_basis=energy.basis, cost_usd=energy.cost_usd, pool=self.pool, instance=self.id)


def exists(path: Any) -> bool:
    return isinstance(path, str) and os.path.isfile(path)
