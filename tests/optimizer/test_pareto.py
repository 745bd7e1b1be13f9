"""The Pareto front: exactly the non-dominated points, checked by brute force over all pairs."""

from murakkab.optimizer.pareto import ParetoPoint, dominates, mark_front, plot, points
from murakkab.optimizer.world import workflow_model


def p(name, acc, lat, wh, usd):
    return ParetoPoint(config=name, pool="x", hardware="H", accuracy_percent=acc, latency_p90_s=lat,
                       energy_wh=wh, cost_usd=usd)


def test_hand_made_front():
    pts = mark_front([p("a", 80, 10, 1.0, 0.01), p("b", 70, 5, 1.0, 0.01), p("c", 70, 12, 2.0, 0.02),
                      p("d", 80, 10, 1.0, 0.01)])
    front = {q.config for q in pts if q.on_front}
    # c is worse than a on every objective; a and d tie (neither dominates the other)
    assert front == {"a", "b", "d"}


def test_real_front_is_exactly_the_non_dominated_set(tmp_path):
    pts = points(workflow_model("code_gen"))
    for q in pts:
        dominated = any(dominates(r, q) for r in pts)
        assert q.on_front == (not dominated)
    assert any(q.on_front for q in pts)
    out = plot(pts, "code_gen", str(tmp_path / "front.png"))
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.endswith("front.png")
