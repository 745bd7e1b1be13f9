"""The report in a real browser (headless Chromium): no console errors, every chart image decodes,
and the charts and table hold the runs' numbers. Screenshot saved to test-artifacts/."""

from __future__ import annotations

import csv
import json

from murakkab.plan.schema import Plan
from murakkab.report.html import write_report
from tests.browser import browser_page, screenshot


def test_report_in_chromium(comparison_dir, tmp_path):
    path = write_report(comparison_dir, tmp_path / "rep")
    with browser_page() as (page, errors):
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("figure.chart img", "els => els.map(e => [e.complete, e.naturalWidth])")
        rows = page.eval_on_selector_all("#compare tr[data-row]", "els => els.map(e => JSON.parse(e.dataset.row))")
        energy = page.eval_on_selector("figure[data-chart=energy_per_request]", "e => JSON.parse(e.dataset.values)")
        dags = page.eval_on_selector_all("svg.dag", "els => els.map(e => [e.dataset.workflow, e.dataset.tier])")
        screenshot(page, "report")
    assert errors == []
    assert images and all(done and width > 100 for done, width in images)
    for row in rows:
        summary = json.loads((comparison_dir / row["run"] / "summary.json").read_text())
        assert row["requests"] == summary["requests"] and row["facility_mwh"] == summary["facility_mwh"]
        with (comparison_dir / row["run"] / "requests.csv").open() as fh:
            finished = sum(1 for r in csv.DictReader(fh) if r["latency_s"] not in ("", "None"))
        assert energy["runs"][summary["label"]]["requests"] == finished
    expected = [(r.workflow, r.tier.key) for run in ("joint", "static")
                for r in Plan.from_json((comparison_dir / run / "plan.json").read_text()).routes]
    assert [tuple(d) for d in dags] == expected
