"""Routing contract: the same plan and the same arrivals, with the same re-plan landing mid-run, through
the simulator and through the runtime on its simulated backend (real asyncio timing at a small time
scale) give the same pool and instance picks, the same rebalance, the same drain victims and the same
re-routes of stranded calls; and those decisions are the ones worked out by hand below.

World (model seconds; hand-built so every decision is 0.2 s or more from any event it depends on, i.e.
80 ms of wall time at SCALE 0.4, well above timer jitter):
- plan A: video_qa = scenes (t-scenes) -> frames (t-frames), transcript (t-stt) -> detections (t-det)
  -> answer (m); reasoning = solve (m, 3 parallel calls). Tools take 1.0 s; t-stt has 1 slot, the
  other tools 8; m has 2 instances of 4 slots, each model call TTFT 0.1 + 300 tokens x 0.01 = 3.1 s.
- plan B (a re-plan at 1.2 s with 1.0 s provisioning, so it switches at 2.2 s): t-stt gets a second
  instance, t-det is retired (detections move to t-det2), m keeps one instance.
- arrivals: video_qa at 0.0, 0.4, 0.8 (requests 1, 3, 4) and reasoning at 0.2 (request 2).
By hand: reasoning's 3 calls go to m1, m2, m1 (least loaded, ties to the first). Transcripts: r1 runs
1-2 s on t-stt1; r3 (1.4) and r4 (1.8) queue; r3 starts at 2.0. At 2.2 t-stt2 is ready and the queue
is dealt again: r4 -> t-stt2 (t-stt1 keeps r3). At 2.2 t-det drains (its only instance) and m drains
the least loaded of m1 (2 calls) and m2 (1 call): m2. Detections of r3 (2.4) and r4 (2.8) find t-det
retired and move to t-det2, the new plan's pool for the task. Every answer runs on m1.
"""

import asyncio
import re

from murakkab.policy.placement import Drain, Rebalance, Strand
from murakkab.policy.reoptimizer import EpochReoptimizer, forecast_of
from murakkab.runtime.service import Runtime, RuntimeConfig
from murakkab.instance import plan_point_curve
from murakkab.sim.engine import SimConfig, Simulator
from tests.runtime import worlds as w

SCALE = 0.4
TOOL_S = 1.0
REPLAN_AT, PROVISIONING = 1.2, 1.0
ARRIVALS = [(0.0, "video_qa", "accuracy:good"), (0.2, "reasoning", "accuracy:good"),
            (0.4, "video_qa", "accuracy:good"), (0.8, "video_qa", "accuracy:good")]
INPUTS = {"video_qa": {"video": "v.mp4", "question": "q"}, "reasoning": {"problem": "2+2"}}


def _tool_pool(pid, tool, slots, instances=1):
    return w.tool_pool(pid, tool, instances).model_copy(update={"concurrency": slots})


def _tool_step(task, executor, pool):
    step = w.tool_step(task, executor, pool)
    return step.model_copy(update={"pools": [step.pools[0].model_copy(update={"latency_p50_s": TOOL_S,
                                                                              "latency_p90_s": TOOL_S})]})


def _plan(plan_id, det_pool, stt_instances, m_instances, det_instances):
    video = w._route("video_qa", [
        _tool_step("scenes", "opencv_scene_detector", "t-scenes"),
        _tool_step("frames", "opencv_frame_extractor", "t-frames"),
        _tool_step("transcript", "whisper_stt", "t-stt"),
        _tool_step("detections", "omdet_detector", det_pool),
        w.llm_step("answer", "vlm_answer", out=300.0),
    ], [("scenes", "frames"), ("scenes", "transcript"), ("frames", "detections"), ("frames", "answer"),
        ("transcript", "answer"), ("detections", "answer")])
    reasoning = w._route("reasoning", [w.llm_step("solve", "self_consistency", parallel=3, out=300.0,
                                                  kind="composition")], [])
    pools = [w.model_pool("m", m_instances), _tool_pool("t-scenes", "opencv_scene_detector", 8),
             _tool_pool("t-frames", "opencv_frame_extractor", 8), _tool_pool("t-stt", "whisper_stt", 1, stt_instances),
             _tool_pool(det_pool, "omdet_detector", 8, det_instances)]
    return w.hand_plan().model_copy(update={"plan_id": plan_id, "routes": [video, reasoning], "pools": pools})


PLAN_A = _plan("A", "t-det", 1, 2, 1)
PLAN_B = _plan("B", "t-det2", 2, 1, 1)


def _inst(iid: str) -> str:
    """'m#2' (simulator) and 'm/2' (runtime) -> 'm2': the pool and the instance's number in it."""
    pool, n = re.fullmatch(r"(.+)[#/](\d+)", iid).groups()
    return f"{pool}{n}"


def _summary(decisions, calls, call_of):
    """Body-neutral view: drains, rebalances (request, task, instance) and strands (request, task, ...),
    and the instances each (request, task) ran on. `call_of(handle)` -> (request number, task)."""
    drains = [(d.decision.pool, tuple(_inst(v) for v in d.decision.victims))
              for d in decisions if isinstance(d.decision, Drain)]
    rebalances = [(d.decision.pool, [(*call_of(p.key), _inst(p.instance)) for p in d.decision.placements])
                  for d in decisions if isinstance(d.decision, Rebalance)]
    strands = sorted((*call_of(d.call), d.decision.pool, d.decision.action, d.decision.to)
                     for d in decisions if isinstance(d.decision, Strand))
    ran: dict[tuple[int, str], set[str]] = {}
    for req, task, iid in calls:
        ran.setdefault((req, task), set()).add(_inst(iid))
    return drains, rebalances, strands, ran


def _simulated():
    reopt = EpochReoptimizer(lambda f: PLAN_B, forecast_of(PLAN_A), epoch_s=REPLAN_AT,
                             provisioning_delay_s=PROVISIONING)
    sim = Simulator(PLAN_A, ARRIVALS, horizon_s=2.0, config=SimConfig(record_decisions=True),
                    resolver=plan_point_curve, reoptimizer=reopt)
    res = sim.run()
    assert res.unfinished == 0
    return _summary(sim.decisions, sim.calls, lambda call: (call.req.id, call.step.task))


def _live(tmp_path):
    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=PLAN_A, time_scale=SCALE))
        await rt.start()
        try:
            cl = rt.cluster
            cl.decisions = []
            rt.reoptimizer = EpochReoptimizer(lambda f: PLAN_B, forecast_of(PLAN_A), epoch_s=REPLAN_AT,
                                              provisioning_delay_s=PROVISIONING)
            t0 = cl.now()
            rt.reoptimizer.begin(t0)
            number: dict[str, int] = {}
            events = [(t, "arrive", (wf, tier)) for t, wf, tier in ARRIVALS] + [(REPLAN_AT, "replan", None)]
            for at, kind, arg in sorted(events):
                await asyncio.sleep(max(t0 + at - cl.now(), 0.0) * SCALE)
                if kind == "arrive":
                    number[rt.submit("acme", arg[0], arg[1], INPUTS[arg[0]])] = len(number) + 1
                else:
                    entry = await rt.replan_now()
                    assert entry.get("plan_id") == "B", entry
            results = {rid: await rt.wait(rid) for rid in number}
            return cl.decisions, results, number
        finally:
            await rt.stop()

    decisions, results, number = asyncio.run(go())
    for res in results.values():
        assert res.status == "completed", res.error
    calls = [(number[rid], s.task, iid) for rid, res in results.items() for s in res.steps for iid in s.instances]

    def call_of(handle):
        call_id = handle if isinstance(handle, str) else handle.call_id
        rid, task = call_id.split("/")[:2]
        return number[rid], task
    return _summary(decisions, calls, call_of)


HAND = (
    [("m", ("m2",)), ("t-det", ("t-det1",))],          # in the plan's pool order
    [("t-stt", [(4, "transcript", "t-stt2")])],
    [(3, "detections", "t-det", "reroute", "t-det2"), (4, "detections", "t-det", "reroute", "t-det2")],
)


def test_the_simulator_makes_the_hand_worked_decisions():
    drains, rebalances, strands, ran = _simulated()
    assert (drains, rebalances, strands) == HAND
    assert ran[(2, "solve")] == {"m1", "m2"}
    assert ran[(4, "transcript")] == {"t-stt2"} and ran[(3, "transcript")] == {"t-stt1"}
    assert all(ran[(r, "answer")] == {"m1"} for r in (1, 3, 4))
    assert ran[(1, "detections")] == {"t-det1"} and ran[(3, "detections")] == ran[(4, "detections")] == {"t-det21"}


def test_the_runtime_makes_the_same_decisions_as_the_simulator(tmp_path):
    sim = _simulated()
    live = _live(tmp_path)
    assert live[:3] == HAND
    assert live == sim
