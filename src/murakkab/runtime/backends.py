"""The backends file (YAML): which catalogue models and tools run where.

    defaults: {connect_timeout_s: 5, read_timeout_s: 60, call_timeout_s: 300, retries: 3, backoff_s: 0.05,
               down_s: 10}
    models:
      qwen3-8b:                           # catalogue model id, as in the plan
        - base_url: http://127.0.0.1:8080/v1
          served_model: qwen3-8b-q4       # `model` sent to the server (default: the catalogue id)
          api_key_env: QWEN_KEY           # environment variable with the key (optional)
          instances: 2                    # replicas behind this URL (router targets)
    tools:
      opencv_scene_detector: {local: true}
      opencv_frame_extractor: {local: true}
      python_interpreter: {local: true}
      whisper_stt:
        endpoints: [{base_url: http://127.0.0.1:9000/v1, served_model: whisper-1}]

Anything not listed runs on the simulated backend (the embedded default). Energy and cost of an
endpoint's calls are modelled from the plan's pool (hardware, operating point), whatever it runs on.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from murakkab.errors import MurakkabError


# Tools with a remote client, and the API their endpoints speak (see openai_backend.RemoteInstance).
REMOTE_TOOLS: dict[str, str] = {"whisper_stt": "transcription"}     # POST {base_url}/audio/transcriptions


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str = Field(pattern=r"^https?://")
    served_model: str | None = None
    api_key_env: str | None = None
    instances: int = Field(default=1, ge=1, le=1024)

    @model_validator(mode="before")
    @classmethod
    def _no_hardware(cls, data):
        # an endpoint's calls are accounted with the planned pool's hardware profile, so a label here
        # would be a number nobody reads: refuse it rather than ignore it
        if isinstance(data, dict) and "hardware" in data:
            raise ValueError("'hardware' is not part of the format: energy and cost of a remote call are modelled "
                             "from the plan's pool (its hardware and operating point) (fix: remove the key)")
        return data


class ToolBackend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    local: bool = False
    endpoints: list[EndpointSpec] = Field(default_factory=list)


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0)     # between two bytes of an answer
    call_timeout_s: float = Field(default=300.0, gt=0)    # one whole call, however the backend trickles
    retries: int = Field(default=3, ge=0, le=20)        # attempts after the first
    backoff_s: float = Field(default=0.05, ge=0)        # first retry delay; doubles each retry
    down_s: float = Field(default=10.0, ge=0)           # skip an unreachable instance this long


class BackendsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: Defaults = Field(default_factory=Defaults)
    models: dict[str, list[EndpointSpec]] = Field(default_factory=dict)
    tools: dict[str, ToolBackend] = Field(default_factory=dict)


def parse_backends(text: str, source: str = "<backends>") -> BackendsConfig:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise MurakkabError(f"{source}: not valid YAML ({exc})") from None
    try:
        cfg = BackendsConfig.model_validate(data)
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                         for e in exc.errors()[:5])
        fix = "" if "(fix:" in errs else " (fix: see the format in murakkab.runtime.backends)"
        raise MurakkabError(f"{source}: {errs}{fix}") from None
    from murakkab.catalog import load_catalog
    from murakkab.names import did_you_mean
    cat = load_catalog()
    for mid in cfg.models:
        if mid not in cat.models:
            raise MurakkabError(f"{source}: unknown model '{mid}' ({did_you_mean(mid, cat.models)}) "
                                "(fix: use a catalogue model id)")
    from murakkab.runtime.local_tools import LOCAL_TOOLS
    for tid, tb in cfg.tools.items():
        if tid not in cat.executors and tid != "python_interpreter":
            raise MurakkabError(f"{source}: unknown tool '{tid}' ({did_you_mean(tid, cat.executors)})")
        if tb.endpoints and tb.local:
            raise MurakkabError(f"{source}: tool '{tid}' is given both 'local: true' and endpoints "
                                "(fix: keep one of them)")
        if tb.endpoints and tid not in REMOTE_TOOLS:
            raise MurakkabError(f"{source}: tool '{tid}' has no remote client, so it cannot have endpoints; tools "
                                f"that may be remote: {sorted(REMOTE_TOOLS)} (fix: remove its entry to simulate it"
                                + (", or set 'local: true'" if tid in LOCAL_TOOLS else "") + ")")
        if tb.local and tid not in LOCAL_TOOLS:
            raise MurakkabError(f"{source}: tool '{tid}' has no local implementation; tools that may be local: "
                                f"{sorted(LOCAL_TOOLS)} (fix: remove its entry to simulate it"
                                + (", or give it endpoints" if tid in REMOTE_TOOLS else "") + ")")
    return cfg


def load_backends(path: str | Path) -> BackendsConfig:
    p = Path(path)
    if not p.is_file():
        raise MurakkabError(f"backends file not found: {p} (fix: pass an existing YAML file)")
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MurakkabError(f"{p}: cannot read it as UTF-8 text ({exc}) (fix: pass a YAML text file)") from None
    return parse_backends(text, str(p))
