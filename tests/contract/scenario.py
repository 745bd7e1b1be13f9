"""One plan and one list of arrivals that both bodies run (the contract suite's small world).

The hand plan of tests/runtime/worlds.py (model pool "m": 4 slots, TTFT 0.1 s, TPOT 0.01 s, P(b) =
100 + 75 b W; four tool pools of 2 slots, 0.5 s per call, 50 W idle, 200 W busy; PUE 1.2) with two
model instances, and reasoning on a latency tier of 1.6 s. Arrivals, by hand:
- reasoning at 0.0, 0.04, 0.13 s: 3 parallel 100-token calls each. The first nine picks of the
  least-loaded rule go m1, m2, m1 | m2, m1, m2 | m1, m2, m1, so the third request's last call queues at
  m1 (4 slots held) until 1.1 s and finishes at 2.2 s: latency 2.07 s, a miss; the first two take
  1.1 s, met. (No arrival coincides with a prefill or decode end, so timer jitter cannot reorder
  events between the bodies.)
- video_qa at 3.0 and 3.2 s (accuracy tier, met): scenes, frames, transcript, detections on the tool
  pools (the two requests' tool calls overlap by 0.3 s on each tool pool) then the answer on a model
  instance.
"""

from __future__ import annotations

from murakkab.plan.schema import Plan, TierSpec
from tests.runtime import worlds as w

REASONING_SLO_S = 1.6
ARRIVALS = [(0.0, "reasoning", "latency:good"), (0.04, "reasoning", "latency:good"),
            (0.13, "reasoning", "latency:good"), (3.0, "video_qa", "accuracy:good"),
            (3.2, "video_qa", "accuracy:good")]
HORIZON_S = 6.0
INPUTS = {"reasoning": {"problem": "2+2"}, "video_qa": {"video": "v.mp4", "question": "what happens?"}}


def contract_plan() -> Plan:
    plan = w.hand_plan(model_instances=2)
    reasoning = plan.routes[0]
    tier = TierSpec(workflow="reasoning", name="good", metric="latency", threshold=REASONING_SLO_S)
    return plan.model_copy(update={"routes": [reasoning.model_copy(update={"tier": tier}), plan.routes[1]]})
