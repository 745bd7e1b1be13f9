"""`murakkab profile workflow`: run one configuration of a workflow over a dataset on real backends,
through the runtime, score the answers, and write a measured workflow profile row.

The run deploys a one-route plan for the configuration (every model step on a pool of its own, each
pool served by the backends file's endpoints) on the real `Runtime` with a throwaway journal, submits
every item as a request (at most `concurrency` at a time) and waits for each. The plan exists only
to route calls: its pools carry no profile, so the run's energy and cost are not accounted (and not
written). Accuracy = right / n with a 95 % Wilson interval; tokens per call of each model step are
the step's tokens of a request divided by its calls (exact for one call per step; the mean of a
request's calls otherwise), as p50/p90/p99 over requests. A failed request stops the run: nothing
is written.
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from murakkab.catalog.user import WORKFLOW_PROFILES_FILE
from murakkab.errors import MurakkabError
from murakkab.names import did_you_mean
from murakkab.profiles.schema import Source, TokenStats, WorkflowConfigProfile
from murakkab.profiling.datasets import Dataset, is_correct
from murakkab.profiling.stats import percentile

Z95 = 1.959963984540054


@dataclass(frozen=True)
class WorkflowRunResult:
    profile: WorkflowConfigProfile
    correct: int
    n: int
    ci_low: float                 # percent
    ci_high: float
    path: Path


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, in percent."""
    if n <= 0:
        raise ValueError("no trials")
    p = correct / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def parse_config(workflow, catalog, config: list[str]) -> tuple[dict, dict]:
    """(knobs, models per model task) from KNOB=VALUE items; `model=M` sets every model task,
    `TASK.model=M` one task. Every knob of the workflow's executors needs a value in its domain."""
    knobs, models, default_model = {}, {}, None
    domains, model_tasks = {}, {}
    for name, node in workflow.tasks.items():
        ex = catalog.executors[node.candidates[0].executor]
        domains.update(ex.knobs)
        if ex.uses_models:
            model_tasks[name] = ex
    for item in config:
        if "=" not in item:
            raise MurakkabError(f"--config '{item}' is not KNOB=VALUE (e.g. samples=3, model=my-model)")
        k, v = (x.strip() for x in item.split("=", 1))
        if k == "model":
            default_model = v
        elif k.endswith(".model"):
            task = k[: -len(".model")]
            if task not in model_tasks:
                raise MurakkabError(f"--config {item}: '{task}' is not a model task of '{workflow.name}' "
                                    f"({did_you_mean(task, model_tasks)})")
            models[task] = v
        elif k in domains:
            value = int(v) if v.lstrip("-").isdigit() else v
            if value not in domains[k]:
                raise MurakkabError(f"--config {item}: {k} must be one of {domains[k]}")
            knobs[k] = value
        else:
            raise MurakkabError(f"--config {item}: '{workflow.name}' has no knob '{k}' "
                                f"({did_you_mean(k, list(domains) + ['model'])})")
    missing = [k for k in domains if k not in knobs]
    if missing:
        raise MurakkabError(f"--config: give a value for every knob of '{workflow.name}': missing {missing} "
                            f"(domains: {', '.join(f'{k}={domains[k]}' for k in missing)})")
    for task, ex in model_tasks.items():
        m = models.setdefault(task, default_model)
        if m is None:
            raise MurakkabError(f"--config: no model for task '{task}' (fix: model=MODEL or {task}.model=MODEL)")
        if m not in catalog.models:
            raise MurakkabError(f"--config: unknown model '{m}' ({did_you_mean(m, catalog.models)}) (fix: add it to "
                                "the user catalogue's models.yaml)")
        if m not in ex.models:
            raise MurakkabError(f"--config: executor '{ex.name}' of task '{task}' does not serve '{m}' (fix: list "
                                f"'{ex.name}' under the model's executors in models.yaml)")
    return knobs, models


def profiling_plan(workflow, catalog, knobs: dict, models: dict, concurrency: int):
    """A one-route plan that runs the configuration: each model task on its model's pool."""
    from murakkab.plan.schema import Plan, PlanTotals, Pool, PoolShare, Route, StepPlan, TierSpec
    steps, pools = [], {}
    for task in workflow.topological_order():
        node = workflow.tasks[task]
        ex = catalog.executors[node.candidates[0].executor]
        if not ex.uses_models or ex.tool:
            raise MurakkabError(f"workflow '{workflow.name}' has a tool step ('{task}', {ex.name}); the workflow "
                                "profiler runs workflows whose every step is a model call, e.g. reasoning")
        seq, par = ex.calls.count(knobs) if ex.calls else (1, 1)
        pid = f"profiling:{models[task]}"
        pools.setdefault(pid, Pool(
            id=pid, kind="model", model=models[task], profile="profiling-run (no energy or cost accounted)",
            profile_basis="estimate", hardware="unknown", units_per_instance=1, max_num_seqs=concurrency,
            tpot_p50_s=1e-3, tpot_p90_s=1e-3, concurrency=concurrency, power_busy_w=0.0, power_idle_w=0.0,
            node_overhead_w=0.0, price_usd_per_hour=0.0, instances=1, busy_s_per_s_peak=0.0, busy_s_per_s_avg=0.0,
            utilisation_avg=0.0, users=[]))
        steps.append(StepPlan(task=task, capability=node.capability, executor=ex.name, kind=ex.kind, model=models[task],
                              calls_sequential=seq, calls_parallel=par, input_tokens=0.0, output_tokens_p50=1.0,
                              output_tokens_p90=1.0, output_tokens_p99=1.0,
                              pools=[PoolShare(pool=pid, share=1.0, latency_p50_s=0.0, latency_p90_s=0.0,
                                               busy_s_per_request=0.0)]))
    edges = [(a, b) for b in workflow.tasks for a in workflow.predecessors(b)]
    tier = TierSpec(workflow=workflow.name, name="profiling", metric="accuracy", threshold=0.0)
    route = Route(workflow=workflow.name, tier=tier, knobs=knobs, steps=steps, edges=edges, accuracy_percent=0.0,
                  accuracy_basis="estimate", latency_p50_s=0.0, latency_p90_s=0.0, rate_peak_rps=0.0, rate_avg_rps=0.0,
                  energy_wh_per_request=0.0, cost_usd_per_request=0.0)
    return Plan(plan_id=f"profiling-{int(time.time())}", created_unix=time.time(), policy="static", objective="accuracy",
                epoch_s=3600.0, pue=1.0, token_percentile_capacity="p90", routes=[route], pools=list(pools.values()),
                totals=PlanTotals(gpus_by_type={}, energy_kwh_per_epoch=0.0, energy_wh_per_request=0.0,
                                  cost_usd_per_epoch=0.0, cost_usd_per_request=0.0, accuracy_percent_avg=0.0),
                solve=[], notes=["profiling run: routes calls only; no energy or cost is accounted"])


CHARS_PER_TOKEN = 4.0   # estimate: English text under common BPE tokenisers


def prompt_chars(workflow, task: str, question: str) -> int:
    """Characters of the messages the runtime sends for a task whose input is the question."""
    from murakkab.runtime import compose
    from murakkab.runtime.steps import DESCRIPTIONS
    ex = workflow.tasks[task].candidates[0].executor
    ports = list(workflow.tasks[task].bindings)
    msgs = compose.messages_for(DESCRIPTIONS.get(ex, f"Carry out the task '{task}'."), {ports[0]: question})
    return sum(len(m["content"]) for m in msgs)


def _reply_text(output) -> str:
    if isinstance(output, dict) and "answer" in output:
        return str(output["answer"])
    if isinstance(output, list):
        return str(output[-1]) if output else ""
    return "" if output is None else str(output)


async def _run_all(plan, backends, workflow, dataset: Dataset, concurrency: int, max_tokens: int | None,
                   on_done=None) -> list:
    from murakkab.runtime.service import Runtime, RuntimeConfig
    input_name = next(iter(workflow.inputs))
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(RuntimeConfig(db_path=str(Path(tmp) / "profiling.db"), plan=plan, backends=backends,
                                   max_tokens=max_tokens))
        await rt.start()
        try:
            gate = asyncio.Semaphore(concurrency)
            results = [None] * len(dataset.items)

            async def one(i: int) -> None:
                async with gate:
                    rid = rt.submit("profiler", workflow.name, "accuracy:profiling",
                                    {input_name: dataset.items[i].question}, options={"temperature": 0.0})
                    results[i] = await rt.wait(rid)
                    if on_done:
                        on_done(i)
            await asyncio.gather(*(one(i) for i in range(len(dataset.items))))
        finally:
            await rt.stop()
    return results


def profile_workflow(workflow_name: str, dataset: Dataset, backends_path: Path, config: list[str], out: Path, *,
                     concurrency: int = 4, max_tokens: int | None = None, command: str = "",
                     on_done=None) -> WorkflowRunResult:
    from murakkab.catalog.load import build_catalog
    from murakkab.runtime.backends import load_backends
    from murakkab.spec import builtin_names, load_builtin
    if workflow_name not in builtin_names():
        raise MurakkabError(f"unknown workflow '{workflow_name}' ({did_you_mean(workflow_name, builtin_names())})")
    if concurrency < 1:
        raise MurakkabError(f"--concurrency must be at least 1 (got {concurrency})")
    from murakkab.catalog.user import active_user_dir, select_user_dir
    if out.is_dir():
        # the catalogue being written is the one the run reads (its models, for the backends file too)
        if active_user_dir() not in (None, str(out.resolve())):
            raise MurakkabError(f"--catalog {active_user_dir()} differs from --out {out}: the workflow profiler reads "
                                "and writes one user catalogue (fix: drop --catalog, or pass the same directory)")
        select_user_dir(out)
    catalog = build_catalog(str(out) if out.is_dir() else None)
    workflow = load_builtin(workflow_name)
    if len(workflow.inputs) != 1 or next(iter(workflow.inputs.values())) != "text":
        raise MurakkabError(f"workflow '{workflow_name}' does not take one text input; the workflow profiler feeds "
                            "each dataset question as the workflow's text input")
    for task, node in workflow.tasks.items():
        ex = catalog.executors[node.candidates[0].executor]
        if not ex.uses_models or ex.tool:
            raise MurakkabError(f"workflow '{workflow_name}' has a tool step ('{task}', {ex.name}); the workflow "
                                "profiler runs workflows whose every step is a model call, e.g. reasoning")
    knobs, models = parse_config(workflow, catalog, config)
    backends = load_backends(backends_path)
    for m in set(models.values()):
        if m not in backends.models:
            raise MurakkabError(f"{backends_path}: no endpoint for model '{m}'; the workflow profiler runs on real "
                                f"backends only (fix: add 'models: {{{m}: [{{base_url: ...}}]}}')")
    plan = profiling_plan(workflow, catalog, knobs, models, concurrency)
    results = asyncio.run(_run_all(plan, backends, workflow, dataset, concurrency, max_tokens, on_done))
    failed = [r for r in results if r is None or r.status != "completed"]
    if failed:
        first = failed[0]
        raise MurakkabError(f"{len(failed)} of {len(results)} requests failed, e.g. "
                            f"{first.error if first is not None else 'no result'}; nothing written (fix: check the "
                            "backends and their logs, then run again)")
    correct = sum(is_correct(item, _reply_text(r.output)) for item, r in zip(dataset.items, results))
    n = len(results)
    lo, hi = wilson_interval(correct, n)
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    tokens = {}
    for task in models:
        ins, outs = [], []
        for r in results:
            step = next(s for s in r.steps if s.task == task)
            calls = max(step.calls, 1)
            ins.append(step.tokens_in / calls)
            outs.append(step.tokens_out / calls)
        if min(outs) <= 0:
            raise MurakkabError(f"task '{task}': some calls produced no output tokens; nothing written (fix: check "
                                "the model server)")
        note = (f"measured by murakkab profile workflow {date} on {dataset.name}, n={n}; tokens per call = step tokens "
                f"/ calls per request (output from the stream's usage, else its chunks)")
        if max(ins) == 0:
            # the server streamed no usage (llama-cpp-python): prompt tokens were not reported
            ins = [prompt_chars(workflow, task, item.question) / CHARS_PER_TOKEN for item in dataset.items]
            note += (f"; input tokens NOT reported by the server: estimate = prompt characters / {CHARS_PER_TOKEN:g} "
                     "(the usual English rate)")
        note += (f"; input p50/p90/p99 {percentile(ins, 50):.1f}/{percentile(ins, 90):.1f}/{percentile(ins, 99):.1f}; "
                 "input_tokens is the mean")
        tokens[task] = TokenStats(input_tokens=sum(ins) / n, output_p50=percentile(outs, 50),
                                  output_p90=percentile(outs, 90), output_p99=percentile(outs, 99),
                                  source=Source(file=WORKFLOW_PROFILES_FILE, basis="measured", note=note))
    acc_note = (f"{correct}/{n} right on {dataset.source}, 95% Wilson CI {lo:.1f}-{hi:.1f}%; {date}; backends "
                f"{backends_path}; command: {command}")
    profile = WorkflowConfigProfile(workflow=workflow_name, knobs=knobs, models=models,
                                    accuracy_percent=100.0 * correct / n, benchmark=dataset.name,
                                    accuracy_source=Source(file=WORKFLOW_PROFILES_FILE, basis="measured", note=acc_note),
                                    tokens=tokens)
    path = write_workflow_row(out, profile)
    return WorkflowRunResult(profile=profile, correct=correct, n=n, ci_low=lo, ci_high=hi, path=path)


def write_workflow_row(out: Path, profile: WorkflowConfigProfile) -> Path:
    """Add (or replace, same configuration) the row in out/workflow_profiles.jsonl, checked before it is written."""
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_workflow_profiles, workflow_key
    out.mkdir(parents=True, exist_ok=True)
    path = out / WORKFLOW_PROFILES_FILE
    lines = []
    if path.is_file():
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                try:
                    other = WorkflowConfigProfile.model_validate(json.loads(line))
                except ValueError:
                    lines.append(line)      # kept as it is: the check below names it
                    continue
                if workflow_key(other) != workflow_key(profile):
                    lines.append(line)
    lines.append(profile.model_dump_json())
    tmp = out / (WORKFLOW_PROFILES_FILE + ".check")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        read_workflow_profiles(tmp, build_catalog(str(out)))
    except MurakkabError:
        tmp.unlink()
        raise
    tmp.replace(path)
    return path
