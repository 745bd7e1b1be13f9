"""A workflow as the optimizer sees it: its configurations (from workflow profiles, narrowed by the
spec's preferences) with every step's pool options."""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.catalog import Catalog, load_catalog
from murakkab.errors import MurakkabError
from murakkab.optimizer.steps import ConfigModel, build_config, usable
from murakkab.profiles.schema import WorkflowConfigProfile
from murakkab.profiles.store import ProfileStore, load_profiles
from murakkab.spec import LogicalWorkflow, load_builtin
from murakkab.spec.load import builtin_names


@dataclass(frozen=True)
class WorkflowModel:
    workflow: LogicalWorkflow
    configs: tuple[ConfigModel, ...]
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.workflow.name


def _admits(workflow: LogicalWorkflow, profile: WorkflowConfigProfile) -> bool:
    """Does a profiled configuration respect the spec's preferences (fixed knobs, models)?"""
    for task_name, node in workflow.tasks.items():
        cand = node.candidates[0]
        for knob, domain in cand.knobs.items():
            if knob in profile.knobs and profile.knobs[knob] not in domain:
                return False
        model = profile.models.get(task_name)
        if model is not None and cand.models and model not in cand.models:
            return False
        if model is not None and node.prefer.models and model not in node.prefer.models:
            return False
    return True


def resolve_workflow(workflow: LogicalWorkflow | str) -> LogicalWorkflow:
    if isinstance(workflow, LogicalWorkflow):
        return workflow
    if workflow not in builtin_names():
        from murakkab.names import did_you_mean
        raise MurakkabError(f"unknown workflow '{workflow}'; {did_you_mean(workflow, builtin_names())}")
    return load_builtin(workflow)


def workflow_model(workflow: LogicalWorkflow | str, *, store: ProfileStore | None = None,
                   catalog: Catalog | None = None, latency_quantile: float = 0.99,
                   capacity_percentile: str = "p90", hardware_allowed: set[str] | None = None,
                   profiles: str | None = None) -> WorkflowModel:
    """Every usable configuration of a workflow with its step options. `profiles` names the workflow
    whose workflow profiles to use (default: the workflow's own name), for a workflow with the same
    tasks, capabilities and edges as a profiled one (e.g. a tenant's copy of video_qa)."""
    wf = resolve_workflow(workflow)
    store = store or load_profiles()
    catalog = catalog or load_catalog()
    configs, notes = [], []
    for profile in store.for_workflow(profiles or wf.name):
        if not _admits(wf, profile):
            continue
        cfg = build_config(wf, profile, store, catalog, latency_quantile=latency_quantile,
                           capacity_percentile=capacity_percentile, hardware_allowed=hardware_allowed)
        if usable(cfg):
            configs.append(cfg)
        else:
            notes.extend(f"{cfg.id}: {n}" for n in cfg.notes)
    if not configs:
        raise MurakkabError(f"workflow '{wf.name}' has no configuration that its preferences and the profiles allow"
                            + (f" ({'; '.join(notes[:3])})" if notes else ""))
    return WorkflowModel(workflow=wf, configs=tuple(configs), notes=tuple(notes))
