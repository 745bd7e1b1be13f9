"""`murakkab energy ...`: per-query estimate and leave-one-out validation (thin: parse, call, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from murakkab.cli_common import fail
from murakkab.cli_output import print_json, readable, stdout_console, working
from murakkab.errors import MurakkabError

energy_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Per-query energy estimate, fleet projection, carbon; validation of the instance model.")
_fail = fail


def _wh(x: float) -> str:
    return f"{x:.3g}"


@energy_app.command()
def estimate(
    scenario: Optional[str] = typer.Option(None, help="chat (median 300 output tokens) or reasoning (5,000)."),
    draws: Optional[int] = typer.Option(None, help="Monte Carlo draws (default 10,000)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default 0)."),
    config: Optional[Path] = typer.Option(None, help="YAML file of parameters; command-line options win."),
    output_median: Optional[float] = typer.Option(None, help="Median output tokens (overrides the scenario)."),
    long_output_median: Optional[float] = typer.Option(None, help="Median output tokens of long/test-time-scaling queries."),
    output_distribution: Optional[str] = typer.Option(None, help="exponential or fixed."),
    input_tokens: Optional[float] = typer.Option(None, help="Input tokens per query (default 500)."),
    prefill_weight: Optional[float] = typer.Option(None, help="L_eff = L_out + w × L_in (default 0, as the paper)."),
    node_max_kw: Optional[float] = typer.Option(None, help="Node maximum power, kW (default 11.3, the paper's 8×H100)."),
    power_centre: Optional[float] = typer.Option(None, help="Median node power as a fraction of max (0.7)."),
    power_p5: Optional[float] = typer.Option(None, help="5th percentile node power fraction (0.4)."),
    power_p95: Optional[float] = typer.Option(None, help="95th percentile node power fraction (0.9)."),
    pue_p5: Optional[float] = typer.Option(None, help="PUE 5th percentile (1.05)."),
    pue_p95: Optional[float] = typer.Option(None, help="PUE 95th percentile (1.40)."),
    throughput_family: Optional[str] = typer.Option(None, help="Model family of the per-family fit (default "
                                                    "Llama-3.1-405B-Instruct, the dense frontier class) or "
                                                    "'pooled' (all >=200B H100 rows, mostly MoE)."),
    throughput_extrapolation: Optional[str] = typer.Option(None, help="Beyond the family's measured output lengths: "
                                                           "'flat' (default, the paper's assumption) or 'slope' "
                                                           "(extend the fitted slope)."),
    throughput: Optional[float] = typer.Option(None, help="Fixed per-node tokens/s instead of the fit."),
    queries_per_day: Optional[float] = typer.Option(None, help="Fleet queries per day (1e9)."),
    long_share: Optional[float] = typer.Option(None, help="Share of long queries in the fleet (0.10)."),
    grid: Optional[float] = typer.Option(None, help="Grid carbon intensity, gCO2e/kWh (400, an estimate)."),
    lever_model: Optional[float] = typer.Option(None, help="Energy reduction factor of a more efficient model."),
    lever_platform: Optional[float] = typer.Option(None, help="Reduction factor of a better serving platform."),
    lever_hardware: Optional[float] = typer.Option(None, help="Reduction factor of newer hardware."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout instead of tables."),
) -> None:
    """Per-query energy (median, IQR, mean), test-time scaling, fleet GWh/day, carbon and levers."""
    from murakkab.energy.estimate import estimate as run
    from murakkab.energy.fleet import fleet, levers
    from murakkab.energy.params import PARAM_SOURCES, make_params
    from murakkab.energy.reference import paper_setting_differences

    overrides = dict(scenario=scenario, draws=draws, seed=seed, output_median_tokens=output_median,
                     long_output_median_tokens=long_output_median, output_distribution=output_distribution,
                     input_tokens=input_tokens, prefill_weight=prefill_weight, node_max_kw=node_max_kw,
                     power_centre_frac=power_centre, power_p5_frac=power_p5, power_p95_frac=power_p95,
                     pue_p5=pue_p5, pue_p95=pue_p95, throughput_family=throughput_family,
                     throughput_extrapolation=throughput_extrapolation,
                     throughput_tok_s=throughput, queries_per_day=queries_per_day, long_share=long_share,
                     grid_g_per_kwh=grid, lever_model=lever_model, lever_platform=lever_platform,
                     lever_hardware=lever_hardware)
    try:
        p = make_params(overrides, config=config)
        with working(f"{p.draws} Monte Carlo draws"):
            est = run(p)
        fl = fleet(p.queries_per_day, est.baseline.mean, est.long.mean, p.long_share)
        each, combined = levers(est.baseline.median, {"model": p.lever_model, "platform": p.lever_platform,
                                                      "hardware": p.lever_hardware})
    except MurakkabError as exc:
        _fail(exc)
        return
    if json_out:
        from dataclasses import asdict
        print_json({"params": p.model_dump(mode="json"), "baseline_wh": asdict(est.baseline),
                    "test_time_scaling_wh": asdict(est.long), "token_ratio": est.token_ratio,
                    "energy_ratio": est.energy_ratio, "fleet": asdict(fl),
                    "levers": [asdict(x) for x in each], "levers_combined": asdict(combined),
                    "paper_v1": [dict(asdict(c), label=c.figure.label) for c in compare_reference(est, fl)]})
        return
    console = stdout_console()
    console.print(per_query_table(p, est))
    console.print(f"Test-time scaling: {est.token_ratio:.3g}× tokens → {est.energy_ratio:.3g}× median energy.")
    for line in throughput_lines(p, est):
        console.print(line, markup=False)
    d = est.baseline_draws
    console.print(f"Clipped draws: node power above max {d.power_clipped}, PUE below 1 {d.pue_clipped} "
                  f"(of {p.draws}).")
    console.print(fleet_table(p, fl))
    console.print(levers_table(each, combined))
    console.print(f"Grid intensity {p.grid_g_per_kwh:g} gCO2e/kWh: {PARAM_SOURCES['grid_g_per_kwh']}"
                  if grid is None and config is None else f"Grid intensity {p.grid_g_per_kwh:g} gCO2e/kWh (user).")
    console.print(reference_table(est, fl))
    diffs = paper_setting_differences(p)
    if diffs:
        console.print("Not the paper's setting, so the comparison is not like-for-like: " + "; ".join(diffs),
                      markup=False)
    console.print("Why differences remain: docs/energy.md, 'Comparison with the paper'.", markup=False)


def per_query_table(p, est) -> Table:
    """Median, IQR, mean, 5–95 % and carbon per query, baseline and test-time scaling."""
    from murakkab.energy.fleet import carbon_g
    t = Table(title=f"Energy per query (Wh) — {p.draws} draws, seed {p.seed}; method: arXiv 2509.20241 v1")
    for col in ("scenario", "median output tok", "median", "IQR", "mean", "5–95%", "gCO2e (median)"):
        t.add_column(col)
    for name, med, s in ((f"{p.scenario} (baseline)", p.output_median, est.baseline),
                         ("test-time scaling", p.long_output_median_tokens, est.long)):
        t.add_row(name, f"{med:g}", _wh(s.median), f"{_wh(s.p25)}–{_wh(s.p75)}", _wh(s.mean),
                  f"{_wh(s.p5)}–{_wh(s.p95)}", f"{carbon_g(s.median, p.grid_g_per_kwh):.3g}")
    return readable(t)


def throughput_lines(p, est) -> list[str]:
    """Where the tokens/s came from: the fitted family and its range, or the user's fixed figure."""
    from murakkab.energy.params import DEFAULT_THROUGHPUT_FAMILY
    if est.fit is None:
        return [f"Throughput: fixed {p.throughput_tok_s:g} tok/s per node [user parameter]"]
    fam = p.throughput_family
    lo, hi = est.fit.family_range(fam)
    rng = f"{lo:.0f}" if lo == hi else f"{lo:.0f}–{hi:.0f}"
    which = ("default: dense frontier class, as the paper's >200B models; '--throughput-family pooled' "
             "for all >=200B H100 rows" if fam == DEFAULT_THROUGHPUT_FAMILY else "user choice")
    beyond = ("held flat [paper's assumption]" if p.throughput_extrapolation == "flat" else
              f"fitted slope to {est.fit.len_range[1]:.0f} tokens, then flat")
    return [f"Throughput family: {fam} ({which}).",
            f"Throughput: log TPS = {est.fit.intercepts[fam]:.3f} + ({est.fit.slope:.3f})·log L_out "
            f"[R²={est.fit.r2:.2f}]; measured output lengths of {fam}: {rng} tokens; outside them: "
            f"{beyond} (--throughput-extrapolation {p.throughput_extrapolation}); "
            f"TPS at the median lengths: {float(est.fit.tps(p.output_median, fam, p.throughput_extrapolation)):.0f}"
            f" / {float(est.fit.tps(p.long_output_median_tokens, fam, p.throughput_extrapolation)):.0f}"
            f" tok/s; source: {est.fit.source}"]


def fleet_table(p, fl) -> Table:
    from murakkab.energy.fleet import carbon_g
    f = Table(title="Fleet projection (uses means)")
    for col in ("queries/day", "long share", "GWh/day all baseline", "GWh/day with long share",
                "tCO2e/day (with long)"):
        f.add_column(col)
    f.add_row(f"{fl.queries_per_day:.3g}", f"{fl.long_share:.0%}", f"{fl.gwh_per_day_baseline:.3g}",
              f"{fl.gwh_per_day_with_long:.3g}",
              f"{carbon_g(fl.gwh_per_day_with_long * 1e9, p.grid_g_per_kwh) / 1e6:.3g}")
    return readable(f, ids=())


def levers_table(each, combined) -> Table:
    from murakkab.energy.params import PARAM_SOURCES
    lv = Table(title="Efficiency levers (multipliers on the baseline median)")
    for col in ("lever", "reduction", "median Wh", "source"):
        lv.add_column(col)
    for x in each:
        lv.add_row(x.name, f"{x.reduction:.3g}×", _wh(x.median_wh), PARAM_SOURCES[f"lever_{x.name}"])
    lv.add_row("combined", f"{combined.reduction:.3g}×", _wh(combined.median_wh), "product of the above")
    return readable(lv)


def compare_reference(est, fl):
    from murakkab.energy.reference import compare
    return compare(est, fl)


def reference_table(est, fl) -> Table:
    """The paper's v1 figures beside this run's."""
    from murakkab.energy.reference import TOLERANCE
    r = Table(title=f"Paper v1 reference figures vs this run (target ±{TOLERANCE:.0%})")
    for col in ("quantity", "paper v1", "ours", "difference", f"within ±{TOLERANCE:.0%}"):
        r.add_column(col)
    for c in compare_reference(est, fl):
        unit = c.figure.unit
        r.add_row(c.figure.label, f"{c.figure.paper:.3g} {unit}", f"{c.ours:.3g} {unit}", f"{c.rel_diff:+.0%}",
                  "yes" if c.within_tolerance else "no")
    return readable(r)


@energy_app.command()
def validate(worst_n: int = typer.Option(10, "--worst", help="How many worst rows to list."),
             json_out: bool = typer.Option(False, "--json", help="Print every leave-one-out result as JSON instead "
                                                                 "of tables.")) -> None:
    """Leave-one-out check of the instance model against every ML.ENERGY v3 row."""
    from murakkab.energy.validate import group_stats, validate_packaged, worst

    try:
        with working("leave-one-out over every profile row"):
            results, skipped = validate_packaged()
    except MurakkabError as exc:
        _fail(exc)
        return
    if json_out:
        from dataclasses import asdict
        print_json({"groups": [asdict(g) for g in group_stats(results)], "results": [asdict(r) for r in results],
                    "skipped_single_point_profiles": skipped})
        return
    console = stdout_console()
    t = Table(title="Leave-one-out MAPE (ML.ENERGY v3; target ≤ 10% on interpolated points)")
    for col in ("points", "GPU", "task", "n", "throughput MAPE", "J/token MAPE"):
        t.add_column(col)
    for g in group_stats(results):
        t.add_row("extrapolated" if g.extrapolated else "interpolated", g.hardware, g.task, str(g.n),
                  f"{g.tput_mape:.1%}", f"{g.ept_mape:.1%}")
    console.print(readable(t, ids=()))
    for ext in (False, True):
        w = Table(title=f"Worst {'extrapolated' if ext else 'interpolated'} rows")
        for col in ("profile", "max seqs", "row", "tput meas/pred", "J/tok meas/pred", "err tput / J/tok"):
            w.add_column(col)
        for r in worst(results, worst_n, extrapolated=ext):
            w.add_row(r.label, str(r.max_num_seqs), str(r.source_row), f"{r.tput_measured:.0f}/{r.tput_predicted:.0f}",
                      f"{r.ept_measured:.3f}/{r.ept_predicted:.3f}", f"{r.tput_ape:.0%} / {r.ept_ape:.0%}")
        console.print(readable(w))
    if skipped:
        console.print(f"{skipped} single-point profile(s) skipped (nothing to leave out).")
