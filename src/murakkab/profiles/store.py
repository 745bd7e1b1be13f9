"""The profile store: every packaged model, tool and workflow profile, with lookups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from murakkab.errors import ProfileError
from murakkab.names import did_you_mean
from murakkab.profiles.schema import ModelProfile, ToolProfile, WorkflowConfigProfile


@dataclass(frozen=True)
class ModelLookup:
    """The profiles serving a catalogue model, and whether they measure it or a proxy."""
    model: str                               # catalogue model id
    profiled_as: str                         # measured model id the profiles are keyed by
    basis: Literal["measured", "proxy"]
    profiles: tuple[ModelProfile, ...]


@dataclass(frozen=True)
class ProfileStore:
    model_profiles: tuple[ModelProfile, ...]
    tool_profiles: tuple[ToolProfile, ...]
    workflow_profiles: tuple[WorkflowConfigProfile, ...]
    catalog: object  # murakkab.catalog.Catalog (kept untyped to keep this import light)
    # user-catalogue profiles that replace packaged ones with the same key (labels, for plans' notes)
    replaced: tuple[str, ...] = ()

    def for_model(self, model_id: str) -> ModelLookup:
        """Profiles of a catalogue model, resolved through its `profiled_as` id."""
        if model_id not in self.catalog.models:
            raise ProfileError(f"unknown model '{model_id}'; {did_you_mean(model_id, self.catalog.models)}")
        m = self.catalog.models[model_id]
        return ModelLookup(model=model_id, profiled_as=m.profiled_as, basis=m.profile_basis,
                           profiles=tuple(p for p in self.model_profiles if p.key.model == m.profiled_as))

    def for_workflow(self, name: str) -> tuple[WorkflowConfigProfile, ...]:
        known = sorted({p.workflow for p in self.workflow_profiles})
        if name not in known:
            raise ProfileError(f"no workflow profiles for '{name}'; {did_you_mean(name, known)}")
        return tuple(p for p in self.workflow_profiles if p.workflow == name)

    def for_tool(self, tool: str) -> tuple[ToolProfile, ...]:
        known = sorted({t.tool for t in self.tool_profiles})
        if tool not in known:
            raise ProfileError(f"no tool profiles for '{tool}'; {did_you_mean(tool, known)}")
        return tuple(t for t in self.tool_profiles if t.tool == tool)


def check_unique_keys(profiles: list[ModelProfile]) -> None:
    """Two loaders must never produce the same ProfileKey."""
    seen: dict = {}
    for p in profiles:
        if p.key in seen:
            raise ProfileError(f"profile {p.key.label()} appears twice: {seen[p.key].points[0].source.cite()} "
                               f"and {p.points[0].source.cite()}")
        seen[p.key] = p


def load_profiles() -> ProfileStore:
    """Every packaged profile, with the selected user catalogue's profiles layered over them
    (catalog/user.py; a user profile replaces a packaged one with the same key). Cached per user directory."""
    from murakkab.catalog.user import active_user_dir
    return _layered(active_user_dir())


@cache
def _layered(user_dir: str | None) -> ProfileStore:
    packaged = _packaged()
    if user_dir is None:
        return packaged
    from pathlib import Path

    from murakkab.catalog import load_catalog
    from murakkab.catalog.user import MODEL_PROFILES_FILE, WORKFLOW_PROFILES_FILE
    from murakkab.profiles.user import read_model_profiles, read_workflow_profiles, workflow_key
    catalog = load_catalog()
    d = Path(user_dir)
    user_models = read_model_profiles(d / MODEL_PROFILES_FILE, catalog) if (d / MODEL_PROFILES_FILE).is_file() else []
    user_flows = read_workflow_profiles(d / WORKFLOW_PROFILES_FILE, catalog) \
        if (d / WORKFLOW_PROFILES_FILE).is_file() else []
    user_keys = {p.key for p in user_models}
    flow_keys = {workflow_key(p) for p in user_flows}
    replaced = [f"model profile {p.key.label()}" for p in packaged.model_profiles if p.key in user_keys]
    replaced += [f"workflow profile {p.workflow} knobs={p.knobs} models={p.models}"
                 for p in packaged.workflow_profiles if workflow_key(p) in flow_keys]
    return ProfileStore(
        model_profiles=tuple(p for p in packaged.model_profiles if p.key not in user_keys) + tuple(user_models),
        tool_profiles=packaged.tool_profiles,
        workflow_profiles=tuple(p for p in packaged.workflow_profiles if workflow_key(p) not in flow_keys)
        + tuple(user_flows),
        catalog=catalog, replaced=tuple(replaced))


@cache
def _packaged() -> ProfileStore:
    """Every packaged profile (cached: packaged data is immutable)."""
    from murakkab.catalog.load import _packaged as packaged_catalog
    from murakkab.profiles.mlenergy import load_mlenergy
    from murakkab.profiles.splitwise import load_splitwise
    from murakkab.profiles.tools import load_tool_profiles
    from murakkab.profiles.workflow import load_workflow_profiles
    catalog = packaged_catalog()
    # ML.ENERGY repeats three configurations: averaged explicitly (see mlenergy module docstring)
    from murakkab.profiles.derive import derive_a100_profiles
    measured = load_mlenergy(repeats="mean")
    # A100 counterparts of H100 profiles (basis "derived"; see profiles/derive.py)
    models = measured + load_splitwise() + derive_a100_profiles(measured)
    check_unique_keys(models)
    return ProfileStore(model_profiles=tuple(models), tool_profiles=tuple(load_tool_profiles(catalog=catalog)),
                        workflow_profiles=load_workflow_profiles(), catalog=catalog)
