"""Load and cross-check the packaged catalogue."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

from murakkab.catalog.schema import Capability, Executor, Hardware, Model, Port
from murakkab.errors import CatalogError
from murakkab.names import did_you_mean

DATA = "murakkab.catalog"


def _read_yaml(name: str) -> dict:
    text = resources.files(DATA).joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _optional_float(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


@dataclass(frozen=True)
class Catalog:
    types: dict[str, str]
    capabilities: dict[str, Capability]
    executors: dict[str, Executor]
    models: dict[str, Model]
    hardware: dict[str, Hardware]
    # ("model" | "hardware", key) -> where a user-catalogue entry came from (absent: packaged)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)
    user_dir: str | None = None

    def origin(self, kind: str, key: str) -> str:
        """'packaged', or the user file (and row) an entry came from, saying if it replaces a packaged one."""
        return self.origins.get((kind, key), "packaged")

    # ---- lookups with helpful errors -------------------------------------------------------
    def capability(self, name: str) -> Capability:
        if name not in self.capabilities:
            raise CatalogError(f"unknown capability '{name}'; {did_you_mean(name, self.capabilities)}")
        return self.capabilities[name]

    def model(self, name: str) -> Model:
        if name not in self.models:
            raise CatalogError(f"unknown model '{name}'; {did_you_mean(name, self.models)}")
        return self.models[name]

    def hw(self, name: str) -> Hardware:
        if name not in self.hardware:
            raise CatalogError(f"unknown hardware '{name}'; {did_you_mean(name, self.hardware)}")
        return self.hardware[name]

    def executors_for(self, capability: str) -> list[Executor]:
        """Executors that provide a capability, in catalogue order."""
        return [e for e in self.executors.values() if e.capability == capability]

    def check(self) -> None:
        """Raise CatalogError on any dangling reference."""
        for cap in self.capabilities.values():
            for port_name, port in cap.inputs.items():
                if port.type not in self.types:
                    raise CatalogError(f"capability '{cap.name}' input '{port_name}' has unknown type '{port.type}'")
            if cap.output not in self.types:
                raise CatalogError(f"capability '{cap.name}' has unknown output type '{cap.output}'")
        for ex in self.executors.values():
            if ex.capability not in self.capabilities:
                raise CatalogError(f"executor '{ex.name}' names unknown capability '{ex.capability}'")
            for m in ex.models:
                if m not in self.models:
                    raise CatalogError(f"executor '{ex.name}' lists unknown model '{m}'; {did_you_mean(m, self.models)}")
            if ex.uses_models and not ex.models:
                raise CatalogError(f"executor '{ex.name}' of kind {ex.kind} lists no models")
            if ex.kind == "tool" and not ex.placements:
                raise CatalogError(f"tool executor '{ex.name}' has no placements")
            for v in (ex.calls.sequential, ex.calls.parallel) if ex.calls else ():
                if isinstance(v, str) and v not in ex.knobs:
                    raise CatalogError(f"executor '{ex.name}' counts calls by unknown knob '{v}'")
            if "model" in ex.knobs:
                raise CatalogError(f"executor '{ex.name}': 'model' is chosen from `models`, not declared as a knob")


def _parse_port(spec) -> Port:
    return Port(type=spec) if isinstance(spec, str) else Port(**spec)


def load_catalog() -> Catalog:
    """The catalogue: the packaged one, with the selected user catalogue (MURAKKAB_CATALOG, see
    catalog/user.py) layered over it. Cached per user directory."""
    from murakkab.catalog.user import active_user_dir
    return _layered(active_user_dir())


@cache
def _layered(user_dir: str | None) -> Catalog:
    return build_catalog(user_dir)


def build_catalog(user_dir: str | None) -> Catalog:
    """The packaged catalogue with the user catalogue at `user_dir` over it, read now (not cached):
    for checking a directory being written."""
    packaged = _packaged()
    if user_dir is None:
        return packaged
    from murakkab.catalog.user import read_user_catalog
    user = read_user_catalog(user_dir)
    origins: dict[tuple[str, str], str] = {}
    models = dict(packaged.models)
    for mid, m in user.models.items():
        origins[("model", mid)] = user.model_rows[mid] + (" (replaces the packaged entry)" if mid in models else "")
        models[mid] = m
    hardware = dict(packaged.hardware)
    for name, h in user.hardware.items():
        origins[("hardware", name)] = user.hardware_rows[name] + (" (replaces the packaged row)" if name in hardware
                                                                   else "")
        hardware[name] = h
    executors = dict(packaged.executors)
    for mid, names in user.serves.items():
        for ex in names:
            if ex not in executors:
                raise CatalogError(f"{user.model_rows[mid]}: unknown executor '{ex}' in 'executors' "
                                   f"({did_you_mean(ex, executors)})")
            e = executors[ex]
            if not e.uses_models:
                raise CatalogError(f"{user.model_rows[mid]}: executor '{ex}' is a {e.kind} executor and serves no "
                                   "models (fix: name an llm or composition executor)")
            if mid not in e.models:
                executors[ex] = e.model_copy(update={"models": [*e.models, mid]})
    catalog = Catalog(types=packaged.types, capabilities=packaged.capabilities, executors=executors,
                      models=models, hardware=hardware, origins=origins, user_dir=user.dir)
    catalog.check()
    return catalog


@cache
def _packaged() -> Catalog:
    """The packaged catalogue (cached: it is immutable)."""
    caps_doc = _read_yaml("capabilities.yaml")
    capabilities = {
        name: Capability(name=name, description=c["description"],
                         inputs={p: _parse_port(t) for p, t in c["inputs"].items()}, output=c["output"])
        for name, c in caps_doc["capabilities"].items()
    }
    executors = {name: Executor(name=name, **e) for name, e in _read_yaml("executors.yaml")["executors"].items()}
    models = {mid: Model(id=mid, **m) for mid, m in _read_yaml("models.yaml")["models"].items()}
    hw_text = resources.files(DATA).joinpath("data", "hardware.csv").read_text(encoding="utf-8")
    hardware = {}
    for row in csv.DictReader(hw_text.splitlines()):
        hardware[row["name"]] = Hardware(
            name=row["name"], kind=row["kind"], memory_gb=float(row["memory_gb"]), tdp_w=float(row["tdp_w"]),
            idle_w=_optional_float(row["idle_w"]), price_usd_per_hour=float(row["price_usd_per_hour"]),
            units_per_node=int(row["units_per_node"]), node_max_kw=float(row["node_max_kw"]),
            node_idle_kw=_optional_float(row["node_idle_kw"]), provenance=row["provenance"])
    catalog = Catalog(types=dict(caps_doc["types"]), capabilities=capabilities, executors=executors,
                      models=models, hardware=hardware)
    catalog.check()
    return catalog
