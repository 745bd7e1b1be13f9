"""Scenario inputs a user writes in files: the static baseline and the SLO tiers.

Static baseline YAML (the packaged `optimizer/data/static_baseline.yaml` has this form):

    workflows:
      video_qa:
        knobs: {frames_per_scene: 5, stt: "on"}
        models: {answer: qwen3-omni-30b-a3b}
        pools: {answer: "...|mns16", scenes: "1xCPU-64C"}   # the end of a pool id per task

Tiers YAML: a list of tiers per workflow (thresholds in percent for accuracy, seconds for latency):

    video_qa:
      - {name: good, metric: accuracy, threshold: 78.5}
      - {name: good, metric: latency, threshold: 17.4, accuracy_floor: 60}
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from murakkab.errors import MurakkabError
from murakkab.plan import TierSpec


class StaticPick(BaseModel):
    """The one configuration and pools the static baseline hard-wires for a workflow."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    knobs: dict[str, int | str]
    models: dict[str, str]
    pools: dict[str, str]


class _StaticFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflows: dict[str, StaticPick]


class _TierEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    metric: str
    threshold: float
    accuracy_floor: float | None = None


def _yaml(path: Path, what: str):
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MurakkabError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise MurakkabError(f"the {what} file {path} is not valid YAML: {exc}") from None


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"


def load_static_baseline(path: Path) -> dict[str, dict]:
    """workflow -> {knobs, models, pools} from a static baseline YAML file."""
    data = _yaml(path, "static baseline")
    try:
        parsed = _StaticFile.model_validate(data)
    except ValidationError as exc:
        raise MurakkabError(f"static baseline {path}: {_first_error(exc)} (fix: see the packaged "
                            "optimizer/data/static_baseline.yaml for the form)") from None
    if not parsed.workflows:
        raise MurakkabError(f"static baseline {path} names no workflow")
    return {w: p.model_dump() for w, p in parsed.workflows.items()}


def load_tiers(path: Path) -> dict[str, list[TierSpec]]:
    """workflow -> its tiers, from a tiers YAML file (each tier key at most once per workflow)."""
    data = _yaml(path, "tiers")
    if not isinstance(data, dict) or not data:
        raise MurakkabError(f"tiers file {path}: expected a mapping of workflow -> list of tiers")
    out: dict[str, list[TierSpec]] = {}
    for w, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise MurakkabError(f"tiers file {path}: '{w}' needs a non-empty list of tiers")
        tiers = []
        for i, e in enumerate(entries):
            try:
                t = _TierEntry.model_validate(e)
                tier = TierSpec(workflow=w, name=t.name, metric=t.metric, threshold=t.threshold,
                                accuracy_floor=t.accuracy_floor, source=f"tiers file {path}")
            except ValidationError as exc:
                raise MurakkabError(f"tiers file {path}: {w}[{i}] {_first_error(exc)}") from None
            if tier.threshold <= 0 or (tier.metric == "accuracy" and tier.threshold > 100):
                raise MurakkabError(f"tiers file {path}: {w} {tier.key} threshold {tier.threshold} is out of range "
                                    "(accuracy in (0, 100] %, latency > 0 s)")
            if any(x.key == tier.key for x in tiers):
                raise MurakkabError(f"tiers file {path}: {w} lists {tier.key} twice")
            tiers.append(tier)
        out[w] = tiers
    return out
