"""Read spec YAML safely, keeping the line of every key and list item; write it back.

Reading composes the node tree first, so every error can point at a line: duplicate mapping keys,
tags that would build objects (`!!python/...`, custom tags) and YAML syntax errors. Only a safe
constructor ever runs: a spec is data, never code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from murakkab.errors import SpecError

Path = tuple[str | int, ...]

# Tags a safe spec may carry: the YAML core schema. Anything else (python/object, !custom) is refused.
_ALLOWED_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
# Aliases can multiply a small file into a huge tree ("billion laughs"); a spec never needs many nodes.
_MAX_NODES = 100_000
# A spec is a few levels deep (tasks -> task -> inputs/knobs); far deeper nesting is an attack or a mistake.
_MAX_DEPTH = 32


class SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans, so `stt: off` stays the string 'off'."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))


@dataclass(frozen=True)
class SourceMap:
    """Where each part of a spec came from: file name and 1-based line per data path."""
    file: str | None
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest recorded ancestor."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def _scalar_key(loader: SpecLoader, node: yaml.Node):
    if not isinstance(node, yaml.ScalarNode):
        raise SpecError("a mapping key must be a plain name", line=node.start_mark.line + 1,
                        fix="use a plain string as the key")
    return loader.construct_object(node)


def _walk(loader: SpecLoader, node: yaml.Node, path: Path, lines: dict[Path, int], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError(f"the document expands to more than {_MAX_NODES} nodes", line=node.start_mark.line + 1,
                        fix="write the spec without deeply nested aliases")
    if node.tag not in _ALLOWED_TAGS:
        raise SpecError(f"tag '{node.tag}' is not allowed: a spec is plain data and never builds objects",
                        line=node.start_mark.line + 1, fix="remove the tag and write the value as plain YAML")
    lines.setdefault(path, node.start_mark.line + 1)
    if len(path) > _MAX_DEPTH:
        raise SpecError(f"the document is nested more than {_MAX_DEPTH} levels deep", line=node.start_mark.line + 1,
                        fix="a spec needs a few levels: name, inputs, tasks (each with inputs, prefer, knobs), output")
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SpecError("merge keys (<<) are not supported in a spec", line=key_node.start_mark.line + 1,
                                fix="write the keys out in full")
            key = _scalar_key(loader, key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise SpecError(f"duplicate key '{key}' (first on line {seen[key]})", line=line,
                                fix=f"keep one '{key}' entry in this mapping")
            seen[key] = line
            lines[path + (key,)] = line
            _walk(loader, value_node, path + (key,), lines, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(loader, item, path + (i,), lines, budget)


def load_yaml(text: str, file: str | None = None) -> tuple[object, SourceMap]:
    """Parse one YAML document into plain data and a SourceMap. Raise SpecError (with file and line)."""
    try:
        loader = SpecLoader(text)
    except yaml.reader.ReaderError as exc:   # the reader refuses control characters before parsing starts
        raise SpecError(f"malformed YAML: {exc.reason} (character #x{exc.character:04x} at position {exc.position})",
                        file=file, fix="remove control characters from the spec") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("the file is empty", file=file, line=1, fix="write a workflow spec (name, inputs, tasks, output)")
        lines: dict[Path, int] = {}
        _walk(loader, node, (), lines, [_MAX_NODES])
        data = loader.construct_document(node)
    except SpecError as exc:
        raise SpecError(exc.reason, file=file, line=exc.line, fix=exc.fix) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SpecError(f"malformed YAML: {what}", file=file, line=line,
                        fix="correct the YAML syntax at this line (indentation, colons, quotes)") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"malformed YAML: {exc}", file=file, fix="correct the YAML syntax") from None
    except RecursionError:       # the parser recurses per level: hundreds of levels exhaust Python's stack
        raise SpecError(f"the document is nested far more than {_MAX_DEPTH} levels deep", file=file,
                        fix="a spec needs a few levels: name, inputs, tasks (each with inputs, prefer, knobs), "
                            "output") from None
    finally:
        loader.dispose()
    return data, SourceMap(file=file, lines=lines)


def dump_yaml(data: object) -> str:
    """YAML text for plain data, keys in the given order (strings that look like other types are quoted)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
