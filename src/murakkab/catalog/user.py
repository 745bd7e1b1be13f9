"""A user catalogue: a directory of models, hardware rows and profiles layered over the packaged ones.

    DIR/models.yaml            models: {id: {<Model fields>, executors: [executor names it may serve]}}
    DIR/hardware.csv           rows with the packaged hardware.csv's columns
    DIR/model_profiles.csv     operating points (`murakkab profile model` writes it; profiles/user.py)
    DIR/workflow_profiles.jsonl  workflow configurations (`murakkab profile workflow` writes it)

Selected by `murakkab --catalog DIR ...` or the environment variable MURAKKAB_CATALOG. A user entry
with the same key as a packaged one replaces it; `Catalog.origins` says where every entry came from.
Every file is checked before anything is used: an error names the file and row and how to fix it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from murakkab.catalog.schema import Hardware, Model
from murakkab.errors import CatalogError
from murakkab.names import did_you_mean

ENV = "MURAKKAB_CATALOG"
MODELS_FILE, HARDWARE_FILE = "models.yaml", "hardware.csv"
MODEL_PROFILES_FILE, WORKFLOW_PROFILES_FILE = "model_profiles.csv", "workflow_profiles.jsonl"
KNOWN_FILES = (MODELS_FILE, HARDWARE_FILE, MODEL_PROFILES_FILE, WORKFLOW_PROFILES_FILE)
HARDWARE_COLUMNS = ("name", "kind", "memory_gb", "tdp_w", "idle_w", "price_usd_per_hour", "units_per_node",
                    "node_max_kw", "node_idle_kw", "provenance")


def active_user_dir() -> str | None:
    """The user catalogue directory selected for this process (MURAKKAB_CATALOG), or None."""
    value = os.environ.get(ENV, "").strip()
    return str(Path(value).resolve()) if value else None


def select_user_dir(path: str | Path | None) -> None:
    """Select (or with None, clear) the user catalogue for this process; checked at once."""
    if path is None:
        os.environ.pop(ENV, None)
        return
    check_user_dir(Path(path))
    os.environ[ENV] = str(Path(path).resolve())


def check_user_dir(path: Path) -> None:
    if not path.is_dir():
        raise CatalogError(f"user catalogue {path} is not a directory (fix: pass the directory "
                           f"'murakkab profile model --out' wrote, or create it with {', '.join(KNOWN_FILES)})")
    stray = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".csv", ".jsonl")
                   and p.name not in KNOWN_FILES)
    if stray:
        raise CatalogError(f"user catalogue {path}: unknown file(s) {', '.join(stray)}; a catalogue holds "
                           f"{', '.join(KNOWN_FILES)} (fix: rename or move them)")


@dataclass(frozen=True)
class UserCatalog:
    dir: str
    models: dict[str, Model]
    model_rows: dict[str, str]          # model id -> "file: model 'id'" for messages and origins
    hardware: dict[str, Hardware]
    hardware_rows: dict[str, str]       # hardware name -> "file row N"
    serves: dict[str, tuple[str, ...]]  # model id -> executors it is added to


def _hardware_number(file: str, row: int, column: str, cell: str, *, optional: bool = False) -> float | None:
    cell = (cell or "").strip()
    if not cell and optional:
        return None
    try:
        return float(cell)
    except ValueError:
        raise CatalogError(f"{file} row {row}: column '{column}' is not a number ({cell!r})"
                           + (" (fix: a number, or empty for unknown)" if optional else " (fix: a number)")) from None


def read_hardware(path: Path) -> tuple[dict[str, Hardware], dict[str, str]]:
    file = str(path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in HARDWARE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogError(f"{file}: missing column(s) {', '.join(missing)} (fix: use the header "
                               f"{','.join(HARDWARE_COLUMNS)})")
        out, rows = {}, {}
        for i, r in enumerate(reader, start=1):
            name = (r["name"] or "").strip()
            if not name:
                raise CatalogError(f"{file} row {i}: empty name (fix: name the hardware, e.g. CPU-HOST)")
            if name in out:
                raise CatalogError(f"{file} row {i}: hardware '{name}' is already given by {rows[name]} "
                                   "(fix: keep one row)")
            if r["kind"] not in ("gpu", "cpu"):
                raise CatalogError(f"{file} row {i}: kind is {r['kind']!r} (fix: gpu or cpu)")
            try:
                units = int(r["units_per_node"])
            except (TypeError, ValueError):
                raise CatalogError(f"{file} row {i}: column 'units_per_node' is not a whole number "
                                   f"({r['units_per_node']!r})") from None
            nums = {c: _hardware_number(file, i, c, r[c], optional=c in ("idle_w", "node_idle_kw"))
                    for c in ("memory_gb", "tdp_w", "idle_w", "price_usd_per_hour", "node_max_kw", "node_idle_kw")}
            for c, v in nums.items():
                if v is not None and not (v >= 0 and v < float("inf")):
                    raise CatalogError(f"{file} row {i}: column '{c}' is {v:g} (fix: a finite number >= 0)")
            for c in ("memory_gb", "tdp_w", "node_max_kw"):
                if nums[c] <= 0:
                    raise CatalogError(f"{file} row {i}: column '{c}' is {nums[c]:g}, must be > 0")
            if units <= 0:
                raise CatalogError(f"{file} row {i}: units_per_node is {units}, must be > 0")
            if not (r["provenance"] or "").strip():
                raise CatalogError(f"{file} row {i}: empty provenance (fix: say where each figure comes from, "
                                   "or mark it an estimate)")
            out[name] = Hardware(name=name, kind=r["kind"], units_per_node=units, provenance=r["provenance"].strip(),
                                 **nums)
            rows[name] = f"{file} row {i}"
    return out, rows


def read_models(path: Path) -> tuple[dict[str, Model], dict[str, str], dict[str, tuple[str, ...]]]:
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{file}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("models", {}), dict):
        raise CatalogError(f"{file}: expected 'models:' mapping model ids to their fields")
    models, rows, serves = {}, {}, {}
    for mid, fields in (doc.get("models") or {}).items():
        where = f"{file}: model '{mid}'"
        if not isinstance(fields, dict):
            raise CatalogError(f"{where}: expected a mapping of fields")
        fields = dict(fields)
        execs = fields.pop("executors", [])
        if not isinstance(execs, list) or not all(isinstance(e, str) for e in execs):
            raise CatalogError(f"{where}: 'executors' must be a list of executor names")
        try:
            m = Model(id=str(mid), **fields)
        except (ValidationError, TypeError) as exc:
            raise CatalogError(f"{where}: {_first_error(exc)} (fix: see the fields of the packaged models.yaml)") \
                from None
        try:
            m.memory_gb
        except KeyError:
            from murakkab.catalog.schema import BYTES_PER_PARAM
            raise CatalogError(f"{where}: unknown precision '{m.precision}' ({did_you_mean(m.precision, BYTES_PER_PARAM)})"
                               ) from None
        models[m.id], rows[m.id], serves[m.id] = m, where, tuple(execs)
    return models, rows, serves


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
    return str(exc)


def read_user_catalog(path: str | Path) -> UserCatalog:
    """The models and hardware rows of a user catalogue directory, each file checked."""
    p = Path(path)
    check_user_dir(p)
    models, model_rows, serves = read_models(p / MODELS_FILE) if (p / MODELS_FILE).is_file() else ({}, {}, {})
    hardware, hw_rows = read_hardware(p / HARDWARE_FILE) if (p / HARDWARE_FILE).is_file() else ({}, {})
    return UserCatalog(dir=str(p.resolve()), models=models, model_rows=model_rows, hardware=hardware,
                       hardware_rows=hw_rows, serves=serves)
