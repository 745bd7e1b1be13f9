"""Small hand-built plans for simulator tests."""

from __future__ import annotations

import pytest

from murakkab.plan.schema import Plan, PlanTotals, Pool, PoolShare, Route, StepPlan, TierSpec


def model_pool(pid="m", *, tpot=0.02, ttft=0.0, max_num_seqs=8, instances=1, busy_w=700.0, idle_w=100.0,
               node_w=0.0, price_h=3.6, hardware="H100-80GB", units=1) -> Pool:
    return Pool(id=pid, kind="model", model="toy", profile=f"toy@{units}x{hardware}", profile_basis="estimate",
                hardware=hardware, units_per_instance=units, max_num_seqs=max_num_seqs, tpot_p50_s=tpot,
                tpot_p90_s=tpot, ttft_s=ttft, throughput_tok_s=max_num_seqs / tpot, power_busy_w=busy_w,
                power_idle_w=idle_w, node_overhead_w=node_w, price_usd_per_hour=price_h, instances=instances,
                busy_s_per_s_peak=0.0, busy_s_per_s_avg=0.0, utilisation_avg=0.0, users=[])


def tool_pool(pid="t", *, concurrency=4, instances=1, busy_w=300.0, idle_w=100.0, node_w=0.0, price_h=1.0,
              hardware="CPU-64C") -> Pool:
    return Pool(id=pid, kind="tool", tool="toy_tool", profile=f"toy_tool@{hardware}", profile_basis="estimate",
                hardware=hardware, units_per_instance=1, concurrency=concurrency, power_busy_w=busy_w,
                power_idle_w=idle_w, node_overhead_w=node_w, price_usd_per_hour=price_h, instances=instances,
                busy_s_per_s_peak=0.0, busy_s_per_s_avg=0.0, utilisation_avg=0.0, users=[])


def llm_step(task, pools, *, out_p50=100.0, out_p90=None, inp=0.0, seq=1, par=1, skipped=False) -> StepPlan:
    return StepPlan(task=task, capability="answer", executor="toy_llm", kind="llm", model="toy", skipped=skipped,
                    calls_sequential=seq, calls_parallel=par, input_tokens=inp, output_tokens_p50=out_p50,
                    output_tokens_p90=out_p50 if out_p90 is None else out_p90,
                    output_tokens_p99=out_p50 if out_p90 is None else out_p90,
                    pools=[] if skipped else [PoolShare(pool=p, share=s, latency_p50_s=1.0, latency_p90_s=1.0,
                                                        busy_s_per_request=1.0) for p, s in pools])


def tool_step(task, pool, latency_s, *, seq=1, par=1) -> StepPlan:
    return StepPlan(task=task, capability="extract", executor="toy_tool", kind="tool", calls_sequential=seq,
                    calls_parallel=par, pools=[PoolShare(pool=pool, share=1.0, latency_p50_s=latency_s,
                                                         latency_p90_s=latency_s, busy_s_per_request=latency_s)])


def route(steps, edges=(), *, workflow="wf", metric="latency", tier="good", threshold=10.0, rate=1.0,
          accuracy=80.0) -> Route:
    return Route(workflow=workflow, tier=TierSpec(workflow=workflow, name=tier, metric=metric, threshold=threshold),
                 knobs={}, steps=list(steps), edges=list(edges), accuracy_percent=accuracy, accuracy_basis="measured",
                 latency_p50_s=1.0, latency_p90_s=1.0, rate_peak_rps=rate, rate_avg_rps=rate,
                 energy_wh_per_request=0.0, cost_usd_per_request=0.0)


def plan(routes, pools, *, pue=1.0) -> Plan:
    return Plan(plan_id="hand", created_unix=0.0, policy="joint", objective="energy", epoch_s=3600.0, pue=pue,
                token_percentile_capacity="p90", routes=list(routes), pools=list(pools),
                totals=PlanTotals(gpus_by_type={}, energy_kwh_per_epoch=0.0, energy_wh_per_request=0.0,
                                  cost_usd_per_epoch=0.0, cost_usd_per_request=0.0, accuracy_percent_avg=0.0),
                solve=[])


class Builders:
    model_pool = staticmethod(model_pool)
    tool_pool = staticmethod(tool_pool)
    llm_step = staticmethod(llm_step)
    tool_step = staticmethod(tool_step)
    route = staticmethod(route)
    plan = staticmethod(plan)


@pytest.fixture
def b() -> Builders:
    return Builders()
