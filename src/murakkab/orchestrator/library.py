"""The executor library as the orchestrator LLM sees it: descriptions and typed interfaces only
(knob values and models are the optimizer's, so they are not offered)."""

from __future__ import annotations

from murakkab.catalog import Catalog


def interface(catalog: Catalog, capability: str) -> str:
    cap = catalog.capabilities[capability]
    ins = ", ".join(f"{p}: {port.type}{' (optional)' if port.optional else ''}" for p, port in cap.inputs.items())
    return f"({ins}) -> {cap.output}"


def library_text(catalog: Catalog) -> str:
    """Types, then one line per executor: name, capability, interface, descriptions."""
    lines = ["Data types:"]
    lines += [f"- {t}: {d}" for t, d in catalog.types.items()]
    lines.append("")
    lines.append("Executors (name [capability] (input ports) -> output type: what it does):")
    for e in catalog.executors.values():
        cap = catalog.capabilities[e.capability]
        lines.append(f"- {e.name} [{e.capability}] {interface(catalog, e.capability)}: {cap.description} "
                     f"{e.description}")
    return "\n".join(lines)


def all_ports(catalog: Catalog) -> list[str]:
    return sorted({p for c in catalog.capabilities.values() for p in c.inputs})
