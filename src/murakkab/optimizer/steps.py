"""Step options of a workflow configuration: for every task, the pools it may run on, with its
latency and the pool time it takes per request. This is where the workflow layer (tokens per call,
calls per step) meets the model layer (TPOT, throughput, TTFT at an operating point).

Latency of an LLM step on a pool = sequential calls x (TTFT + output tokens x TPOT at the pool's
operating point), where the tokens are the per-call quantile that keeps the slowest of the
parallel calls under the target quantile. Pool time per request = all calls x tokens / instance
throughput. Tool steps take their profile's latency for the step's work units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from murakkab.catalog import Catalog
from murakkab.catalog.schema import Executor
from murakkab.errors import MurakkabError
from murakkab.optimizer.candidates import ModelPool, ToolPool, model_pools, prefill_seconds, tool_pools
from murakkab.plan.ids import StepName
from murakkab.profiles.schema import TokenStats, WorkflowConfigProfile
from murakkab.profiles.store import ProfileStore
from murakkab.profiles.tokens import LogNormalTokens, max_of_parallel_quantile
from murakkab.profiles.workflow import SCENES_PER_VIDEO
from murakkab.spec import LogicalWorkflow

# Reference request sizes for tool work units (estimates, matching the tool profiles' reference inputs).
VIDEO_SECONDS = 1020.0        # ~17 min: mean VideoMME video length (estimate, as in the tool profiles)
TESTS_PER_CANDIDATE = 5       # unit tests a tester writes per candidate program (estimate)

PERCENTILE_FIELDS = {"p50": "output_p50", "p90": "output_p90", "p99": "output_p99"}


@dataclass(frozen=True)
class StepChoice:
    """One pool a step may run on, with what it costs there."""
    pool: ModelPool | ToolPool
    latency_slo_s: float      # at the SLO planning quantile
    latency_p50_s: float
    latency_p90_s: float
    busy_s: float             # pool instance-seconds per request at the capacity percentile
    busy_s_avg: float         # pool instance-seconds per request on mean tokens
    ttft_s: float | None = None


@dataclass(frozen=True)
class StepModel:
    task: str
    capability: str
    executor: Executor
    model: str | None
    skipped: bool
    calls_sequential: int
    calls_parallel: int
    tokens: TokenStats | None
    choices: tuple[StepChoice, ...]


@dataclass(frozen=True)
class ConfigModel:
    """One workflow configuration with its steps' options."""
    id: str
    workflow: str
    profile: WorkflowConfigProfile
    steps: dict[str, StepModel]                  # task (or pseudo-task) -> step
    paths: tuple[tuple[str, ...], ...]           # with pseudo-tasks inserted
    notes: tuple[str, ...] = field(default=())


def config_id(profile: WorkflowConfigProfile) -> str:
    knobs = ",".join(f"{k}={v}" for k, v in sorted(profile.knobs.items()))
    models = ",".join(f"{t}={m}" for t, m in sorted(profile.models.items()))
    return f"{profile.workflow}[{knobs};{models}]"


def work_units(unit: str, knobs: dict) -> float:
    """How many units of a tool's work one request needs, from the configuration's knobs."""
    if unit in ("second of video", "second of audio"):
        return VIDEO_SECONDS
    if unit == "frame":
        return float(knobs.get("frames_per_scene", 1)) * SCENES_PER_VIDEO
    if unit == "test":
        return float(knobs.get("debaters", 1)) * TESTS_PER_CANDIDATE
    if unit == "":
        return 0.0
    raise MurakkabError(f"tool profile work unit '{unit}' has no rule for request size; add one in optimizer/steps.py")


def _executor_for(workflow: LogicalWorkflow, task: str, catalog: Catalog) -> Executor:
    node = workflow.tasks[task]
    if len(node.candidates) != 1:
        # Every built-in capability has one executor; choosing among several would need their profiles.
        names = [c.executor for c in node.candidates]
        raise MurakkabError(f"task '{task}' of '{workflow.name}' has {len(names)} candidate executors {names}; "
                            "pin one with the task's preferences")
    return catalog.executors[node.candidates[0].executor]


def _allowed_hardware(workflow: LogicalWorkflow, task: str) -> set[str]:
    return set(workflow.tasks[task].candidates[0].hardware)


def _llm_choices(pools: list[ModelPool], tokens: TokenStats, seq: int, par: int, active_params_b: float,
                 latency_quantile: float, capacity_percentile: str) -> tuple[StepChoice, ...]:
    dist = LogNormalTokens.from_stats(tokens)
    per_call = {q: dist.quantile(max_of_parallel_quantile(q, par)) for q in (0.5, 0.9, latency_quantile)}
    cap_tokens = getattr(tokens, PERCENTILE_FIELDS[capacity_percentile])
    choices = []
    for pool in pools:
        pt = pool.point
        ttft = pt.ttft_s if pt.ttft_s is not None else prefill_seconds(
            tokens.input_tokens, active_params_b, pool.hardware, pool.units)

        def latency(q: float) -> float:
            return seq * (ttft + per_call[q] * pt.tpot_median_s)

        calls = seq * par
        choices.append(StepChoice(pool=pool, latency_slo_s=latency(latency_quantile), latency_p50_s=latency(0.5),
                                  latency_p90_s=latency(0.9), busy_s=calls * cap_tokens / pt.throughput_tok_s,
                                  busy_s_avg=calls * dist.mean / pt.throughput_tok_s, ttft_s=ttft))
    return tuple(choices)


def _tool_choices(pools: list[ToolPool], knobs: dict) -> tuple[StepChoice, ...]:
    choices = []
    for pool in pools:
        prof = pool.profile
        latency = prof.latency_s + prof.per_unit_latency_s * work_units(prof.work_unit, knobs)
        busy = latency / prof.concurrency
        choices.append(StepChoice(pool=pool, latency_slo_s=latency, latency_p50_s=latency, latency_p90_s=latency,
                                  busy_s=busy, busy_s_avg=busy))
    return tuple(choices)


def build_config(workflow: LogicalWorkflow, profile: WorkflowConfigProfile, store: ProfileStore, catalog: Catalog, *,
                 latency_quantile: float = 0.99, capacity_percentile: str = "p90",
                 hardware_allowed: set[str] | None = None) -> ConfigModel:
    """The step options of one configuration of a workflow."""
    steps: dict[str, StepModel] = {}
    inserted: dict[str, str] = {}   # task -> its pseudo-task
    notes: list[str] = []
    for task in workflow.topological_order():
        ex = _executor_for(workflow, task, catalog)
        allowed = _allowed_hardware(workflow, task)
        if hardware_allowed is not None:
            allowed &= hardware_allowed
        seq, par = ex.calls.count(profile.knobs) if ex.calls else (1, 1)
        if ex.kind == "tool":
            skipped = any(profile.knobs.get(k) == "off" for k in ex.knobs)
            choices = () if skipped else _tool_choices(
                tool_pools(ex.name, list(store.for_tool(ex.name)), catalog, allowed), profile.knobs)
            steps[task] = StepModel(task, ex.capability, ex, None, skipped, 1, 1, None, choices)
            continue
        model = profile.models.get(task)
        tokens = profile.tokens.get(task)
        if model is None or tokens is None:
            raise MurakkabError(f"workflow profile {config_id(profile)} gives no model or tokens for task '{task}'")
        lookup = store.for_model(model)
        profiles = list(lookup.profiles)
        pools = model_pools(model, lookup.basis, profiles, catalog, ex.capability,
                            LogNormalTokens.from_stats(tokens).mean, allowed)
        choices = _llm_choices(pools, tokens, seq, par, catalog.models[model].active_params_b,
                               latency_quantile, capacity_percentile)
        steps[task] = StepModel(task, ex.capability, ex, model, False, seq, par, tokens, choices)
        if ex.tool:
            run = str(StepName(task, tool_part=True))     # e.g. tests.run
            tool_allowed = None if hardware_allowed is None else set(hardware_allowed) | {
                h for h, hw in catalog.hardware.items() if hw.kind == "cpu"}
            run_choices = _tool_choices(tool_pools(ex.tool, list(store.for_tool(ex.tool)), catalog, tool_allowed),
                                        profile.knobs)
            steps[run] = StepModel(run, ex.capability, ex, None, False, 1, 1, None, run_choices)
            inserted[task] = run
    paths = []
    for path in workflow.paths():
        expanded: list[str] = []
        for t in path:
            expanded.append(t)
            if t in inserted:
                expanded.append(inserted[t])
        paths.append(tuple(expanded))
    for s in steps.values():
        if not s.skipped and not s.choices:
            notes.append(f"step '{s.task}' ({s.model or s.executor.name}) has no pool with known power on allowed "
                         "hardware")
    return ConfigModel(id=config_id(profile), workflow=workflow.name, profile=profile, steps=steps,
                       paths=tuple(paths), notes=tuple(notes))


def usable(config: ConfigModel) -> bool:
    """Every step that runs has at least one pool."""
    return all(s.skipped or s.choices for s in config.steps.values())
