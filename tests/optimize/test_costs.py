"""Cost curves (``optimize.costs``) on the tiny fit: exact gradients, the plan against a
brute-force grid on two spend groups, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_mmm import SpecError
from bayes_mmm.optimize import CostCurve
from bayes_mmm.optimize.costs import costed


@pytest.fixture(scope="module")
def budget(plan13):
    return float(plan13.history_spend.sum())


def test_flat_curve_is_the_plain_planner_and_gradient_is_exact(plan13):
    x = plan13.current()
    same = costed(plan13, {"tv": CostCurve((0.0, 1e8), (1.0, 1.0))})
    np.testing.assert_allclose(same.revenue(x), plan13.revenue(x), rtol=1e-12)
    steep = costed(plan13, {"tv": CostCurve.power(2e5, 0.8, 1e7)})
    _, g = steep.revenue(x, grad=True)
    for cell in [(0, 0), (2, 0), (1, 1)]:
        e = np.zeros_like(x)
        e[cell] = 10.0
        fd = (steep.revenue(x + e) - steep.revenue(x - e)).mean() / 20
        assert g[:, cell[0], cell[1]].mean() == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize(
    "curve",
    [CostCurve.power(1e5, 1.0, 2e6), CostCurve.power(2e5, -0.4, 2e6)],
    ids=["rising", "falling"],
)
def test_plan_matches_a_brute_force_grid_on_two_groups(tiny_fit, plan13, budget, curve):
    plan = tiny_fit.optimize(budget, costs={"tv": curve}, lock=["social"], allow_unconverged=True)
    cp = costed(plan13, {"tv": curve})
    share = plan13.history_spend / plan13.history_spend.sum(axis=0)
    social = plan.spend["social"]
    rest = budget - social
    tv = np.linspace(0.0, rest, 4001)
    grid = [cp.revenue(share * np.array([t, rest - t, social])[None]).mean() for t in tv]
    got = cp.revenue(share * plan.spend.to_numpy()[None]).mean()
    best = max(grid)
    zero = cp.revenue(np.zeros_like(plan13.history_spend)).mean()
    assert got >= best - 1e-3 * (best - zero)  # within 0.1% of the grid's best uplift
    if curve.cost[-1] > 1:  # rising costs move spend away from tv
        plain = tiny_fit.optimize(budget, lock=["social"], allow_unconverged=True)
        assert plan.spend["tv"] < plain.spend["tv"]


def test_bad_curves_raise_spec_error(tiny_fit, budget):
    with pytest.raises(SpecError, match="buy more media as spend rises"):
        CostCurve((0.0, 1e5, 2e5), (1.0, 1.0, 5.0))
    with pytest.raises(SpecError, match="start at 0"):
        CostCurve((1.0, 2.0), (1.0, 1.0))
    with pytest.raises(SpecError, match="elasticity"):
        CostCurve.power(1e5, 1.5, 1e6)
    with pytest.raises(SpecError, match="extend the curve"):
        tiny_fit.optimize(
            budget, costs={"tv": CostCurve((0.0, 1e3), (1.0, 1.1))}, allow_unconverged=True
        )
    with pytest.raises(SpecError, match="by_geo"):
        tiny_fit.optimize(
            budget,
            costs={"tv": CostCurve.power(1e5, 0.5, 1e7)},
            by_geo=True,
            allow_unconverged=True,
        )
