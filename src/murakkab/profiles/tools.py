"""Tool profiles (latency and power per placement) from the packaged `tools/tool_profiles.yaml`.

No measured data exists for tool steps: every entry is an estimate with its reason in Source.note.
The loader checks each entry against the catalogue: the tool is a tool executor (or an executor's
`tool`), the hardware exists and its kind is one of the executor's placements.
"""

from __future__ import annotations

from importlib import resources

import yaml
from pydantic import ValidationError

from murakkab.errors import ProfileError
from murakkab.names import did_you_mean
from murakkab.profiles.schema import Source, ToolProfile

TOOLS_FILE = "profiles/data/tools/tool_profiles.yaml"


def load_tool_profiles(text: str | None = None, catalog=None, *, file: str = TOOLS_FILE) -> list[ToolProfile]:
    """Tool profiles from YAML text (the packaged file when None), checked against the catalogue."""
    if catalog is None:
        from murakkab.catalog import load_catalog
        catalog = load_catalog()
    if text is None:
        text = resources.files("murakkab.profiles").joinpath("data", "tools", "tool_profiles.yaml") \
            .read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    placements = {e.name: set(e.placements) for e in catalog.executors.values() if e.kind == "tool"}
    for e in catalog.executors.values():
        if e.tool:
            placements.setdefault(e.tool, {"cpu"})  # helper tools (python_interpreter) run on CPU
    out = []
    for tool, entries in (doc.get("tools") or {}).items():
        if tool not in placements:
            raise ProfileError(f"{file}: unknown tool '{tool}'; {did_you_mean(tool, placements)}")
        for n, e in enumerate(entries, start=1):
            hw_name = e.get("hardware")
            if hw_name not in catalog.hardware:
                raise ProfileError(f"{file}: {tool} entry {n}: unknown hardware '{hw_name}'; "
                                   f"{did_you_mean(str(hw_name), catalog.hardware)}")
            kind = catalog.hardware[hw_name].kind
            if kind not in placements[tool]:
                raise ProfileError(f"{file}: {tool} entry {n}: placement '{kind}' ({hw_name}) is not in the "
                                   f"executor's placements {sorted(placements[tool])}")
            fields = {k: v for k, v in e.items() if k != "note"}
            try:
                out.append(ToolProfile(tool=tool, **fields,
                                       source=Source(file=file, basis="estimate", note=e.get("note", ""))))
            except ValidationError as exc:
                raise ProfileError(f"{file}: {tool} entry {n}: {exc.errors()[0]['loc']}: "
                                   f"{exc.errors()[0]['msg']}") from None
    return out
