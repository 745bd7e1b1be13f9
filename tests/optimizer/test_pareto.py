"""The Pareto front: exactly the non-dominated points, checked by hand on small sets and by an
exhaustive search over all pairs written here from the definition (not the module's `dominates`)."""

from murakkab.optimizer.pareto import ParetoPoint, mark_front, plot, points
from murakkab.optimizer.world import workflow_model


def p(name, acc, lat, wh, usd):
    return ParetoPoint(config=name, pool="x", hardware="H", accuracy_percent=acc, latency_p90_s=lat,
                       energy_wh=wh, cost_usd=usd)


def _costs(q):
    """Every objective as a cost to minimise: accuracy is maximised, so it enters negated."""
    return (-q.accuracy_percent, q.latency_p90_s, q.energy_wh, q.cost_usd)


def _front_by_definition(pts):
    """Points no other point matches or beats on every objective while differing on one."""
    return {i for i, q in enumerate(pts)
            if not any(all(x <= y for x, y in zip(_costs(r), _costs(q))) and _costs(r) != _costs(q) for r in pts)}


def test_hand_made_front():
    pts = mark_front([p("a", 80, 10, 1.0, 0.01), p("b", 70, 5, 1.0, 0.01), p("c", 70, 12, 2.0, 0.02),
                      p("d", 80, 10, 1.0, 0.01)])
    front = {q.config for q in pts if q.on_front}
    # c is worse than a on every objective; a and d tie (neither dominates the other)
    assert front == {"a", "b", "d"}


def test_one_better_objective_is_enough_to_stay_on_the_front():
    base = ("base", 80, 10, 1.0, 0.01)
    for k in range(1, 5):                              # better on accuracy, latency, energy, cost in turn
        other = list(base)
        other[0] = "x"
        other[k] = other[k] + 1 if k == 1 else other[k] / 2
        worse = ("w", 79, 11, 1.5, 0.02)
        pts = mark_front([p(*base), p(*other), p(*worse)])
        assert [q.on_front for q in pts] == [False, True, False], k


def test_real_front_is_exactly_the_non_dominated_set(tmp_path):
    pts = points(workflow_model("code_gen"))
    front = _front_by_definition(pts)
    assert {i for i, q in enumerate(pts) if q.on_front} == front
    assert 0 < len(front) < len(pts)
    out = plot(pts, "code_gen", str(tmp_path / "front.png"))
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.endswith("front.png")
