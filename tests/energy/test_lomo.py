"""Leave-one-model-out validation of the energy model for models never measured."""

import pytest

from murakkab.energy.lomo import leave_one_model_out, summary


def _row(model, arch, params, batch, gpus=1, hw="H100-80GB", task="chat", k=0.02):
    # J/token = k x params / sqrt(batch): exactly the size-class model's form (log-linear)
    return (model, arch, hw, task, gpus, batch, params, k * params / batch ** 0.5)


def test_a_world_that_follows_the_size_law_is_predicted_exactly_from_the_other_models():
    rows = [_row(f"m{p}", "Dense", p, b) for p in (4, 8, 14, 32, 70) for b in (8, 32, 128)]
    points = leave_one_model_out(rows)
    assert len(points) == len(rows)
    for p in points:
        assert p.size_class_j == pytest.approx(p.measured_j, rel=1e-9)
    # the linear-in-parameters form has no load term: it cannot follow the batch
    assert max(p.ecologits_error for p in points) > 0.3


def test_the_held_out_model_is_not_in_its_own_fit():
    rows = [_row(f"m{p}", "Dense", p, b) for p in (4, 8, 14, 32) for b in (8, 32)]
    odd = [_row("odd", "Dense", 20, b, k=0.2) for b in (8, 32)]   # ten times the law
    points = [p for p in leave_one_model_out(rows + odd) if p.model == "odd"]
    # predicted from the others (the law), so off by the factor 10 it breaks the law by
    assert all(p.measured_j / p.size_class_j == pytest.approx(10.0, rel=1e-6) for p in points)


def test_packaged_table_meets_the_median_error_target():
    """Issue target: median error <= 25 % for a model never measured (measured 21.7 %, docs/benchmarks.md)."""
    s = summary(leave_one_model_out())
    assert s["all"]["models"] >= 30 and s["all"]["points"] >= 800
    assert s["all"]["size_class_median"] <= 0.25
    assert s["all"]["size_class_median"] < s["all"]["ecologits_median"]
