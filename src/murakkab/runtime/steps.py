"""Run one step of a route: its model calls (with the composition's pattern) or its tool call.

- llm: `calls_sequential` rounds of `calls_parallel` calls (normally 1 x 1); output = the text.
- self_consistency: `calls_parallel` chains at once, then a majority vote over their answers; output =
  {answer (normalised), votes, samples, text (a winning chain's reply, unchanged)}.
- llm_debate: `calls_sequential` rounds of `calls_parallel` debaters; from round 2 on every debater
  sees all answers of the previous round; output = the last round's answers (the candidates).
- llm_tester: one call writing tests (its `.run` tool step executes them in the sandbox).
- tools: scene detection / frame extraction (OpenCV on the video when the pool runs locally), code
  execution, speech-to-text (an OpenAI-compatible transcription endpoint), or the simulated
  backend with the profiled service time.
Each call goes to a pool chosen by the plan's shares and to an instance by the router.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from murakkab.errors import MurakkabError
from murakkab.plan.ids import StepName
from murakkab.plan.schema import Route, StepPlan
from murakkab.runtime import compose
from murakkab.policy.router import PlanRouter
from murakkab.runtime.calls import CallOrigin, CallRequest
from murakkab.runtime.cluster import RuntimeCluster
from murakkab.runtime.results import CallOutcome, StepResult, step_from_calls

_CODE = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)

DESCRIPTIONS = {
    "vlm_answer": "Answer the question about the video from the frames, transcript and detections.",
    "llm_debate": "You are a coder agent. Write a Python program that solves the problem.",
    "llm_tester": "Write Python unit tests (plain asserts) for the problem's candidate programs.",
    "llm_ranker": "Pick the best candidate program that passes the tests. Reply with the program.",
    "self_consistency": "Solve the problem step by step and end with 'Answer: <answer>'.",
    "llm_chat": "You are a helpful assistant.",
}


def code_of(text: str | None) -> str:
    """The first fenced code block of a reply, else the reply itself."""
    text = text or ""
    m = _CODE.search(text)
    return m.group(1) if m else text


class StepRunner:
    """Runs the steps of one request. `router`: the pool choice of the plan the request started under
    (default: the running plan's), kept for all its steps."""

    def __init__(self, cluster: RuntimeCluster, *, router: PlanRouter | None = None, max_tokens: int | None = None):
        self.cluster, self.max_tokens = cluster, max_tokens
        self.router = router or cluster.current_router()
        self._variant: dict[str, str] | None = None

    async def run(self, request_id: str, route: Route, step: StepPlan, inputs: dict[str, Any],
                  knobs: dict[str, Any], on_token=None, variant: dict[str, str] | None = None,
                  max_tokens: int | None = None, temperature: float | None = None) -> StepResult:
        """Run one step. `max_tokens` (the smaller of it and the server's cap applies) and `temperature`
        are set on each of the step's model calls."""
        res = StepResult(task=step.task, executor=step.executor, kind=step.kind, model=step.model,
                         skipped=step.skipped)
        if step.skipped:
            return res
        key = (route, step)
        self._variant = variant
        # per call, not on self: a request's steps run concurrently on this runner
        opts = {"max_tokens": min((m for m in (self.max_tokens, max_tokens) if m), default=None),
                "temperature": temperature}
        if step.kind == "tool":
            if step.executor == "whisper_stt" and self._remote(key, step) and "audio" not in inputs:
                return await self._transcribe_scenes(request_id, key, step, inputs, res)
            out = await self._tool(request_id, key, step, inputs, knobs)
            res.output = out.data if out.data is not None else out.text
            return step_from_calls(res, [out])
        calls: list[CallOutcome] = []
        desc = DESCRIPTIONS.get(step.executor, f"Carry out the task '{step.task}'.")
        previous: list[str] = []
        for rnd in range(max(step.calls_sequential, 1)):
            note = compose.debate_note(rnd, previous) if step.executor == "llm_debate" else None
            msgs = compose.messages_for(desc, inputs, note)
            outs = await asyncio.gather(*(
                self._model_call(f"{request_id}/{step.task}/{rnd}.{j}", key, step, msgs, on_token, **opts)
                for j in range(max(step.calls_parallel, 1))))
            calls.extend(outs)
            previous = [o.text or "" for o in outs]
        res = step_from_calls(res, calls)
        if step.executor == "self_consistency":
            answers = [compose.extract_answer(t) for t in previous]
            winner, votes = compose.majority_vote(answers)
            # the vote compares normalised answers; `text` is a winning chain's reply as the model wrote it
            res.output = {"answer": winner, "votes": votes, "samples": len(previous),
                          "text": previous[answers.index(winner)]}
        elif step.executor == "llm_debate":
            res.output = previous
        else:
            res.output = previous[0] if len(previous) == 1 else previous
        return res

    def _pool(self, key) -> str:
        """The pool for one call of the step `key` = (route, step), by the request's plan's pool choice."""
        return self.router.pool(key[0], key[1], self._variant)

    def _send(self, pool: str, key, req: CallRequest):
        route, step = key
        return self.cluster.call(pool, req, CallOrigin(route.workflow, route.tier.key, step.task))

    async def _model_call(self, call_id, key, step: StepPlan, messages, on_token, *, max_tokens: int | None,
                          temperature: float | None) -> CallOutcome:
        pool = self._pool(key)
        req = CallRequest(call_id=call_id, messages=messages, max_tokens=max_tokens, temperature=temperature,
                          input_tokens=step.input_tokens, out_p50=step.output_tokens_p50,
                          out_p90=step.output_tokens_p90, on_token=on_token)
        return await self._send(pool, key, req)

    def _remote(self, key, step: StepPlan) -> bool:
        pool = self._variant.get(step.task) if self._variant else None
        if pool is None:
            pool = step.pools[0].pool if len(step.pools) == 1 else None
        return pool is not None and self.cluster.pools[pool].mode == "remote"

    async def _transcribe_scenes(self, request_id, key, step: StepPlan, inputs, res: StepResult) -> StepResult:
        """One transcription call per scene (each routed, retried and failed over on its own) on the
        scene's audio cut from the video; output [{scene, start_s, end_s, text}] in scene order."""
        from murakkab.runtime.audio import scene_clips
        clips = await asyncio.to_thread(scene_clips, inputs.get("scenes"))
        outs = await asyncio.gather(*(
            self._send(self._pool(key), key, CallRequest(call_id=f"{request_id}/{step.task}/{sc['index']}", payload=clip))
            for sc, clip in clips))
        res.output = [{"scene": sc["index"], "start_s": sc["start_s"], "end_s": sc["end_s"], "text": o.text}
                      for (sc, _), o in zip(clips, outs)]
        return step_from_calls(res, list(outs))

    async def _tool(self, request_id, key, step: StepPlan, inputs, knobs) -> CallOutcome:
        pool_id = self._pool(key)
        ps = self.cluster.pools[pool_id]
        share = next((s for s in step.pools if s.pool == pool_id), step.pools[0])
        req = CallRequest(call_id=f"{request_id}/{step.task}",
                          service_s=share.latency_p50_s / max(step.calls_sequential, 1))
        if ps.mode != "simulated":
            req.payload = tool_payload(step, inputs, knobs)
        return await self._send(pool_id, key, req)


def tool_payload(step: StepPlan, inputs: dict[str, Any], knobs: dict[str, Any]) -> Any:
    """What a real tool receives, from the step's inputs (the outputs of its producers)."""
    ex = step.executor
    if ex == "opencv_scene_detector":
        if not isinstance(inputs.get("video"), str):
            raise MurakkabError("scene detection needs the input 'video' as a file path")
        return {"video": inputs["video"]}
    if ex == "opencv_frame_extractor":
        return {"scenes": inputs.get("scenes"), "frames_per_scene": knobs.get("frames_per_scene", 1)}
    if StepName.parse(step.task).tool_part or ex == "python_interpreter":
        cands = inputs.get("candidates") or []
        return {"candidates": [code_of(c) for c in (cands if isinstance(cands, list) else [cands])],
                "tests": code_of(inputs.get("tests") if isinstance(inputs.get("tests"), str) else "")}
    if ex == "whisper_stt":
        audio = inputs.get("audio")
        if not (isinstance(audio, (list, tuple)) and len(audio) == 2):
            raise MurakkabError("speech-to-text needs audio as (filename, bytes), or the scene detector's "
                                "output to cut it from")
        return tuple(audio)
    return inputs
