"""Profiles of a user catalogue (catalog/user.py): measured model and workflow profiles a user made.

`model_profiles.csv` holds one operating point per row (MODEL_COLUMNS); rows go through the same
checks as the packaged loaders (`validate.build_profiles`: finite positive values, no duplicate
operating point, monotonicity warnings) plus the catalogue's (hardware known). Every point cites
its file and row, with the row's provenance as the note.

`workflow_profiles.jsonl` holds one `WorkflowConfigProfile` (JSON) per line; each is checked against
the workflow and the catalogue (tasks, knobs in the executor's domain, models the executor serves).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pydantic import ValidationError

from murakkab.errors import ProfileError
from murakkab.names import did_you_mean
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source, WorkflowConfigProfile
from murakkab.profiles.validate import build_profiles, parse_number

MODEL_COLUMNS = ("model", "hardware", "gpus", "tp", "ep", "dp", "precision", "workload", "max_num_seqs",
                 "avg_batch", "tpot_median_s", "tpot_p90_s", "ttft_p50_s", "ttft_p90_s", "throughput_tok_s",
                 "power_w", "energy_per_token_j", "mean_output_tokens", "requests", "errors", "basis", "provenance")
_OPTIONAL = ("avg_batch", "ttft_p50_s", "ttft_p90_s", "power_w", "energy_per_token_j", "mean_output_tokens")


def _int(file: str, row: int, column: str, cell: str) -> int:
    try:
        return int(cell)
    except (TypeError, ValueError):
        raise ProfileError(f"{file} row {row}: column '{column}' is not a whole number ({cell!r})") from None


def read_model_profiles(path: Path, catalog) -> list[ModelProfile]:
    """The operating points of a user `model_profiles.csv`, grouped and checked."""
    file = str(path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in MODEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ProfileError(f"{file}: missing column(s) {', '.join(missing)} (fix: write it with "
                               "'murakkab profile model', or use its header)")
        rows = list(reader)
    records = []
    for i, r in enumerate(rows, start=1):
        if r["hardware"] not in catalog.hardware:
            raise ProfileError(f"{file} row {i}: unknown hardware '{r['hardware']}' "
                               f"({did_you_mean(r['hardware'], catalog.hardware)}) (fix: add a row for it to "
                               "the catalogue's hardware.csv)")
        if r["basis"] not in ("measured", "derived", "estimate"):
            raise ProfileError(f"{file} row {i}: basis is {r['basis']!r} (fix: measured, derived or estimate)")
        ints = {c: _int(file, i, c, r[c]) for c in ("gpus", "tp", "ep", "dp", "max_num_seqs")}
        for c, v in ints.items():
            if v <= 0:
                raise ProfileError(f"{file} row {i}: column '{c}' is {v}, must be > 0")
        nums = {c: (None if c in _OPTIONAL and not (r[c] or "").strip() else parse_number(file, i, c, r[c]))
                for c in ("avg_batch", "tpot_median_s", "tpot_p90_s", "ttft_p50_s", "ttft_p90_s", "throughput_tok_s",
                          "power_w", "energy_per_token_j", "mean_output_tokens")}
        if (nums["power_w"] is None) != (nums["energy_per_token_j"] is None):
            raise ProfileError(f"{file} row {i}: power_w and energy_per_token_j must be both known or both empty")
        if nums["tpot_p90_s"] < nums["tpot_median_s"]:
            raise ProfileError(f"{file} row {i}: tpot_p90_s {nums['tpot_p90_s']:g} is below tpot_median_s "
                               f"{nums['tpot_median_s']:g} (fix: the p90 is at least the median)")
        for c in ("avg_batch", "ttft_p50_s", "mean_output_tokens"):
            if nums[c] is not None and not nums[c] > 0:
                raise ProfileError(f"{file} row {i}: column '{c}' is {nums[c]:g}, must be > 0")
        key = ProfileKey(model=r["model"], hardware=r["hardware"], gpus=ints["gpus"], tp=ints["tp"], ep=ints["ep"],
                         dp=ints["dp"], precision=r["precision"], workload=r["workload"])
        try:
            point = OperatingPoint(
                max_num_seqs=ints["max_num_seqs"], avg_batch=nums["avg_batch"], tpot_median_s=nums["tpot_median_s"],
                tpot_p90_s=nums["tpot_p90_s"], throughput_tok_s=nums["throughput_tok_s"], power_w=nums["power_w"],
                energy_per_token_j=nums["energy_per_token_j"], ttft_s=nums["ttft_p50_s"],
                mean_output_tokens=nums["mean_output_tokens"],
                source=Source(file=file, row=i, basis=r["basis"], note=r["provenance"]))
        except ValidationError as exc:
            e = exc.errors()[0]
            raise ProfileError(f"{file} row {i}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from None
        records.append((key, point))
    return build_profiles(file, records)


def _check_workflow_row(where: str, p: WorkflowConfigProfile, catalog) -> None:
    from murakkab.spec import builtin_names, load_builtin
    if p.workflow not in builtin_names():
        raise ProfileError(f"{where}: unknown workflow '{p.workflow}' ({did_you_mean(p.workflow, builtin_names())})")
    wf = load_builtin(p.workflow)
    knob_domains: dict = {}
    for name, node in wf.tasks.items():
        ex = catalog.executors[node.candidates[0].executor]
        for k, dom in ex.knobs.items():
            knob_domains[k] = dom
        if ex.uses_models:
            model = p.models.get(name)
            if model is None or name not in p.tokens:
                raise ProfileError(f"{where}: task '{name}' runs a model: give its model in 'models' and its "
                                   "token counts in 'tokens'")
            if model not in catalog.models:
                raise ProfileError(f"{where}: unknown model '{model}' ({did_you_mean(model, catalog.models)}) "
                                   "(fix: add it to the catalogue's models.yaml)")
            if model not in ex.models:
                raise ProfileError(f"{where}: executor '{ex.name}' of task '{name}' does not serve model '{model}' "
                                   f"(fix: list '{ex.name}' under the model's 'executors' in models.yaml)")
    for task in set(p.models) | set(p.tokens):
        if task not in wf.tasks:
            raise ProfileError(f"{where}: workflow '{p.workflow}' has no task '{task}' ({did_you_mean(task, wf.tasks)})")
    for k, v in p.knobs.items():
        if k not in knob_domains:
            raise ProfileError(f"{where}: workflow '{p.workflow}' has no knob '{k}' ({did_you_mean(k, knob_domains)})")
        if v not in knob_domains[k]:
            raise ProfileError(f"{where}: knob {k}={v!r} is outside its domain {knob_domains[k]}")
    for k in knob_domains:
        if k not in p.knobs:
            raise ProfileError(f"{where}: knob '{k}' has no value (fix: give every knob of the configuration)")


def read_workflow_profiles(path: Path, catalog) -> list[WorkflowConfigProfile]:
    """The workflow configurations of a user `workflow_profiles.jsonl`, each checked; sources cite file:line."""
    file = str(path)
    out, seen = [], {}
    for i, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file} row {i}"
        try:
            p = WorkflowConfigProfile.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ProfileError(f"{where}: not a JSON object ({exc.msg}) (fix: one profile per line)") from None
        except ValidationError as exc:
            e = exc.errors()[0]
            raise ProfileError(f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from None
        _check_workflow_row(where, p, catalog)
        key = workflow_key(p)
        if key in seen:
            raise ProfileError(f"{where}: the same configuration is already given by row {seen[key]} (fix: keep one)")
        seen[key] = i
        cite = {"file": file, "row": i}
        out.append(p.model_copy(update={
            "accuracy_source": p.accuracy_source.model_copy(update=cite),
            "tokens": {t: s.model_copy(update={"source": s.source.model_copy(update=cite)})
                       for t, s in p.tokens.items()}}))
    return out


def workflow_key(p: WorkflowConfigProfile) -> tuple:
    """What identifies a workflow configuration: workflow, knobs and models."""
    return (p.workflow, tuple(sorted(p.knobs.items())), tuple(sorted(p.models.items())))
