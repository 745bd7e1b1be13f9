"""The executable DAG of one (workflow, tier) route as inline SVG: one box per step with its model,
hardware and operating point; arrows for the data flow. Pure text generation, no Graphviz."""

from __future__ import annotations

from html import escape

from murakkab.plan.schema import Plan, Route, StepPlan
from murakkab.spec.graph import depths

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 250, 74, 60, 18, 10


def step_lines(step: StepPlan, plan: Plan) -> list[str]:
    """What a box says: task, model (or tool), then per pool: hardware, operating point, share."""
    head = f"{step.task}: " + (step.model or step.executor)
    if step.skipped:
        return [head, "skipped (off in this configuration)"]
    calls = []
    if step.calls_sequential > 1:
        calls.append(f"{step.calls_sequential} rounds")
    if step.calls_parallel > 1:
        calls.append(f"{step.calls_parallel} parallel")
    lines = [head + (f" ({', '.join(calls)})" if calls else "")]
    for ps in step.pools:
        try:
            pool = plan.pool(ps.pool)
        except KeyError:
            lines.append(f"pool {ps.pool} (not in plan)")
            continue
        where = f"{pool.units_per_instance}x{pool.hardware}"
        point = (f"max_num_seqs {pool.max_num_seqs}" if pool.max_num_seqs is not None
                 else f"concurrency {pool.concurrency}")
        share = "" if ps.share > 0.999 else f" · {ps.share:.0%}"
        lines.append(f"{where} · {point}{share}")
    return lines


def route_svg(route: Route, plan: Plan) -> str:
    """An <svg> element drawing the route's steps in layers, left to right."""
    lay = depths(route.predecessors())          # a step's column: edges on the longest path reaching it
    cols: dict[int, list[str]] = {}
    for t in lay:
        cols.setdefault(lay[t], []).append(t)
    steps = {s.task: s for s in route.steps}
    pos: dict[str, tuple[float, float]] = {}
    box_h = {t: max(BOX_H, 18 + 14 * len(step_lines(steps[t], plan))) for t in lay}
    height = 0.0
    for c, col in cols.items():
        y = PAD
        for t in col:
            pos[t] = (PAD + c * (BOX_W + GAP_X), y)
            y += box_h[t] + GAP_Y
        height = max(height, y)
    width = PAD * 2 + (max(cols) + 1) * BOX_W + max(cols) * GAP_X
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" data-workflow="{escape(route.workflow)}" '
           f'data-tier="{escape(route.tier.key)}" data-steps="{len(route.steps)}" data-edges="{len(route.edges)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for a, b in route.edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        out.append(f'<line x1="{xa + BOX_W:.0f}" y1="{ya + box_h[a] / 2:.0f}" x2="{xb:.0f}" y2="{yb + box_h[b] / 2:.0f}" '
                   'stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for t, (x, y) in pos.items():
        step = steps[t]
        fill = {"llm": "#dbe9f7", "composition": "#e3f1e0", "tool": "#f6ead5"}.get(step.kind, "#eee")
        if step.skipped:
            fill = "#eeeeee"
        out.append(f'<g class="step" data-task="{escape(t)}" data-model="{escape(step.model or "")}">'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{box_h[t]:.0f}" rx="6" fill="{fill}" '
                   'stroke="#445"/>')
        for k, line in enumerate(step_lines(step, plan)):
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(f'<text x="{x + 8:.0f}" y="{y + 18 + 14 * k:.0f}" font-size="11"{weight}>'
                       f'{escape(line[:46])}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
