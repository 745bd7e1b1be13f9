"""The workflow registry: built-ins and tenants' uploads, with versions.

An upload is named by its spec's `name`, which must match `NAME_PATTERN`; in plans it is
`tenant/name`, so two tenants' workflows never share a route. Every upload of a name stores a new
version (1, 2, ...; numbers are never reused). A plan pins the version of each upload it routes
(`pinned`): requests keep running that version, whatever is uploaded after it, until a plan made
after the new upload is deployed. A delete hides every version from listing, fetching, planning and
invoking; it is refused while the deployed plan routes the workflow.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from murakkab.errors import MurakkabError
from murakkab.plan.ids import TenantWorkflow
from murakkab.runtime.errors import Conflict, NoProfile, NotFound
from murakkab.runtime.journal import Journal

if TYPE_CHECKING:
    from murakkab.optimizer.api import ReusedWorkflow
    from murakkab.plan.schema import Plan
    from murakkab.spec.logical import LogicalWorkflow

#: Names of uploaded workflows: a letter, then letters, digits, '_' or '-', 64 characters at most.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise MurakkabError(f"workflow name {name!r} is not allowed: a name starts with a letter and has only letters, "
                            "digits, '_' or '-', 64 characters at most (fix: rename it in the spec's 'name')")


class WorkflowRegistry:
    def __init__(self, journal: Journal, max_dag_tasks: int):
        self.journal, self.max_dag_tasks = journal, max_dag_tasks
        self._loaded: dict[tuple[str, str, int], LogicalWorkflow] = {}
        self.pinned: dict[str, int] = {}      # the deployed plan's upload versions, by plan name

    @staticmethod
    def builtins() -> list[str]:
        from murakkab.spec import builtin_names
        return builtin_names()

    def plan_name(self, tenant: str, name: str) -> str:
        """The workflow's name in plans: a built-in's own name; an upload's `tenant/name`."""
        return name if name in self.builtins() else str(_key(tenant, name))

    def serving_version(self, tenant: str, name: str) -> int | None:
        """The version of an upload that requests run now: the deployed plan's, else the newest.
        None for a built-in. Raises NotFound for a name the tenant has not uploaded."""
        if name in self.builtins():
            return None
        pinned = self.pinned.get(f"{tenant}/{name}")
        if pinned is not None and self.journal.workflow_version(tenant, name) is not None:
            return pinned
        found = self.journal.workflow_version(tenant, name)
        if found is None:
            raise NotFound(f"no workflow '{name}' (fix: GET /v1/workflows lists yours and the built-ins)")
        return found[0]

    def latest_version(self, tenant: str, name: str) -> int | None:
        if name in self.builtins():
            return None
        found = self.journal.workflow_version(tenant, name)
        if found is None:
            raise NotFound(f"no workflow '{name}' (fix: GET /v1/workflows lists yours and the built-ins)")
        return found[0]

    def get(self, tenant: str, name: str, version: int | None = None) -> LogicalWorkflow:
        """The LogicalWorkflow `name` as `tenant` sees it: a built-in, or the given (default: serving)
        version of one of the tenant's uploads."""
        from murakkab.spec import load_builtin, load_workflow
        if name in self.builtins():
            key = ("", name, 0)
            if key not in self._loaded:
                self._loaded[key] = load_builtin(name)
            return self._loaded[key]
        if version is None:
            version = self.serving_version(tenant, name)
        key = (tenant, name, version)
        if key not in self._loaded:
            found = self.journal.workflow_version(tenant, name, version)
            if found is None:
                raise NotFound(f"no version {version} of workflow '{name}'")
            self._loaded[key] = load_workflow(found[1])
        return self._loaded[key]

    def names(self, tenant: str) -> list[str]:
        return sorted(set(self.builtins()) | {r[1] for r in self.journal.workflows(tenant)})

    def register(self, tenant: str, text: str) -> tuple[LogicalWorkflow, int]:
        """Validate a spec (safe YAML, never executed) and store it as the upload's next version."""
        from murakkab.spec import load_workflow
        wf = load_workflow(text)
        if wf.name in self.builtins():
            raise Conflict(f"'{wf.name}' is a built-in workflow name (fix: rename your workflow)")
        check_name(wf.name)
        if len(wf.tasks) > self.max_dag_tasks:
            raise MurakkabError(f"workflow '{wf.name}' has {len(wf.tasks)} tasks; the limit is "
                                f"{self.max_dag_tasks} (fix: split it or raise the server's limit)")
        version = self.journal.put_workflow(tenant, wf.name, text)
        self._loaded[(tenant, wf.name, version)] = wf
        return wf, version

    def delete(self, tenant: str, name: str, active_plan_version: int | None) -> int:
        """Delete every version of an upload; returns how many. Refused for built-ins and while the
        deployed plan routes it."""
        if name in self.builtins():
            raise Conflict(f"'{name}' is a built-in workflow; only uploads can be deleted")
        self.latest_version(tenant, name)        # NotFound if there is none
        plan_name = self.plan_name(tenant, name)
        if plan_name in self.pinned:
            raise Conflict(f"the deployed plan (version {active_plan_version}) routes '{plan_name}' (fix: deploy a plan "
                           "without it, POST /v1/plans, then delete)")
        return self.journal.delete_workflow(tenant, name)

    def profiles_of(self, tenant: str, name: str, version: int | None = None) -> str | None:
        """The workflow whose workflow profiles plan `name`: None for a built-in (its own), else the
        built-in with the same DAG (see `reuse`). Raises NoProfile naming what is missing."""
        from murakkab.runtime.reuse import mismatch, same_dag_as
        if name in self.builtins():
            return None
        wf = self.get(tenant, name, version)
        builtins = {b: self.get("", b) for b in self.builtins()}
        match = same_dag_as(wf, builtins)
        if match is None:
            raise NoProfile(f"workflow '{name}' has no workflow profile for its DAG, so it cannot be tiered, planned "
                            f"or invoked ({mismatch(wf, builtins)}) (fix: profile it, or reuse a built-in's structure: "
                            f"the same task names, capabilities and edges as one of {sorted(builtins)})")
        return match

    def reused(self, plan_name: str, version: int | None = None) -> ReusedWorkflow:
        """For a plan's workflow name `tenant/name` (an upload), the optimizer's ReusedWorkflow."""
        from murakkab.optimizer.api import ReusedWorkflow
        key = _parse(plan_name)
        return ReusedWorkflow(self.get(key.tenant, key.name, version), self.profiles_of(key.tenant, key.name, version))

    def plan_workflow(self, tenant: str, name: str, *, any_tenant: bool = False
                      ) -> tuple[str, ReusedWorkflow | None, int | None]:
        """(name in plans, ReusedWorkflow or None for a built-in, newest version) of a demand's workflow.
        `name` is a built-in, one of `tenant`'s uploads, or (with `any_tenant`, for the operator)
        'tenant/name'. A new plan runs the newest version of each upload."""
        if name in self.builtins():
            return name, None, None
        if "/" in name:
            key = _parse(name)
            if not any_tenant and key.tenant != tenant:
                raise NotFound(f"no workflow '{name}' (fix: GET /v1/workflows lists yours and the built-ins)")
        else:
            key = _key(tenant, name)
        version = self.latest_version(key.tenant, key.name)
        return str(key), self.reused(str(key), version), version

    def pins_for(self, plan: Plan) -> dict[str, int]:
        """The upload versions a plan made outside `POST /v1/plans` runs: the deployed plan's pins where
        it has them, else the newest versions now."""
        pins = {}
        for r in plan.routes:
            if "/" in r.workflow and r.workflow not in pins:
                key = _parse(r.workflow)
                found = self.journal.workflow_version(key.tenant, key.name)
                pinned = self.pinned.get(r.workflow)
                if pinned is not None or found is not None:
                    pins[r.workflow] = pinned if pinned is not None else found[0]
        return pins

    def workflows_in(self, plan: Plan) -> dict:
        """ReusedWorkflow (at the pinned version) of every upload a plan routes: what re-planning it needs."""
        return {r.workflow: self.reused(r.workflow, self.pinned.get(r.workflow))
                for r in plan.routes if "/" in r.workflow}


def _parse(plan_name: str) -> TenantWorkflow:
    try:
        return TenantWorkflow.parse(plan_name)
    except ValueError as exc:
        raise NotFound(str(exc)) from None


def _key(tenant: str, name: str) -> TenantWorkflow:
    try:
        return TenantWorkflow(tenant, name)
    except ValueError:
        raise NotFound(f"no workflow '{name}' (fix: GET /v1/workflows lists yours and the built-ins)") from None
