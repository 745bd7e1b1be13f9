"""Entry points: YAML text, a file, or a built-in name -> WorkflowSpec / LogicalWorkflow."""

from __future__ import annotations

from importlib import resources
from pathlib import Path as FsPath

from pydantic import BaseModel, ValidationError

from murakkab.catalog import Catalog
from murakkab.errors import SpecError
from murakkab.names import did_you_mean
from murakkab.spec.build import build_workflow
from murakkab.spec.logical import LogicalWorkflow
from murakkab.spec.model import Preferences, TaskSpec, WorkflowSpec
from murakkab.spec.yaml_io import Path, SourceMap, load_yaml

BUILTIN_PACKAGE = "murakkab.spec.builtin"


def _present(data: object, loc: tuple) -> Path:
    """The longest prefix of a pydantic error location that exists in the data (drops union tags)."""
    out: list = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            break
        out.append(part)
    return tuple(out)


def _model_at(path: Path) -> type[BaseModel] | None:
    if len(path) == 0:
        return WorkflowSpec
    if len(path) == 2 and path[0] == "tasks":
        return TaskSpec
    if len(path) == 3 and path[0] == "tasks" and path[2] in ("prefer", "forbid"):
        return Preferences
    return None


def spec_error_from_validation(exc: ValidationError, data: object, source: SourceMap) -> SpecError:
    """One SpecError for the first problem pydantic found, located by the source map."""
    errors = exc.errors()
    # A misspelt key also shows up as a missing one; the misspelling is the news, so report it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    path = _present(data, loc)
    task = None
    if len(path) >= 2 and path[0] == "tasks" and isinstance(data, dict):
        item = data["tasks"][path[1]]
        task = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else None
    line = source.line(path)
    if not isinstance(data, dict):
        return SpecError("a spec must be a mapping with keys name, inputs, tasks and output", file=source.file,
                         line=line, fix="write the workflow as 'name: ...', 'inputs: ...', 'tasks: ...', 'output: ...'")
    kind = err["type"]
    if kind == "missing":
        key = loc[-1]
        return SpecError(f"missing required key '{key}'", file=source.file, line=line, task=task,
                         fix=f"add '{key}: ...' here")
    if kind == "extra_forbidden":
        key = loc[-1]
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        return SpecError(f"unknown key '{key}'", file=source.file, line=line, task=task,
                         fix=f"remove it; {did_you_mean(str(key), allowed)}" if allowed else "remove it")
    where = ".".join(str(p) for p in path) or "the spec"
    if len(path) == 4 and path[2] == "knobs":
        return SpecError(f"knob '{path[3]}' value {err['input']!r} is neither an integer nor a string",
                         file=source.file, line=line, task=task, fix="write an integer or a string from the knob's domain")
    return SpecError(f"'{where}': {err['msg'].lower()} (got {err['input']!r})", file=source.file, line=line,
                     task=task, fix="write the value with the expected type")


def parse_spec(text: str, file: str | None = None) -> tuple[WorkflowSpec, SourceMap]:
    """YAML text -> (WorkflowSpec, SourceMap). Checks syntax and shape only, not the catalogue."""
    data, source = load_yaml(text, file)
    try:
        return WorkflowSpec.model_validate(data), source
    except ValidationError as exc:
        raise spec_error_from_validation(exc, data, source) from None


def load_workflow(text: str, file: str | None = None, catalog: Catalog | None = None) -> LogicalWorkflow:
    """YAML text -> validated LogicalWorkflow. Raises one SpecError naming file, line, task and fix."""
    spec, source = parse_spec(text, file)
    return build_workflow(spec, catalog, source)


def read_spec_file(path: str | FsPath) -> str:
    """A spec file's text; a SpecError naming the file when it cannot be read."""
    p = FsPath(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", file=str(p), fix="check the path") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the file: {exc.__class__.__name__}", file=str(p),
                        fix="pass a readable UTF-8 YAML file") from None


def load_file(path: str | FsPath, catalog: Catalog | None = None) -> LogicalWorkflow:
    """Read and validate a spec file."""
    return load_workflow(read_spec_file(path), str(FsPath(path)), catalog)


def builtin_names() -> list[str]:
    """Names of the packaged workflow specs, sorted."""
    root = resources.files(BUILTIN_PACKAGE)
    return sorted(f.name[:-len(".yaml")] for f in root.iterdir() if f.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    names = builtin_names()
    if name not in names:
        raise SpecError(f"no built-in workflow '{name}'", fix=f"use one of them; {did_you_mean(name, names)}")
    return resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def load_builtin(name: str, catalog: Catalog | None = None) -> LogicalWorkflow:
    """A packaged workflow by name (`video_qa`, `code_gen`, `reasoning`), validated."""
    return load_workflow(builtin_text(name), f"builtin:{name}.yaml", catalog)
