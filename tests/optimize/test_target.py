"""Target mode (``optimize.target``): the least budget reaching a target, on the tiny fit.

The checks recompute each claim independently: the probability of reaching the target
from the plan's own revenue (``Planner.revenue``, against zero window spend), the
minimality by re-solving a slightly smaller budget with ``allocate``.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_mmm import SpecError
from bayes_mmm import optimize as opt
from bayes_mmm.optimize.target import BISECT_RTOL, crossings

TARGET = 200_000.0


@pytest.fixture(scope="module")
def hit(tiny_fit):
    return tiny_fit.optimize(target=TARGET, target_prob=0.8, allow_unconverged=True)


def _gain(plan13, spend_cells):
    zero = np.zeros_like(plan13.history_spend)
    return plan13.revenue(spend_cells) - plan13.revenue(zero)


def _cells(plan13, alloc):
    share = plan13.history_spend / plan13.history_spend.sum(axis=0)
    return share * alloc.spend.to_numpy()[None]


def test_found_budget_reaches_target_with_stated_probability(hit, plan13):
    assert hit.allocation.spend.sum() == pytest.approx(hit.budget, rel=1e-9)
    gain = _gain(plan13, _cells(plan13, hit.allocation))
    p = (gain >= TARGET).mean()
    assert p >= 0.8
    assert p == pytest.approx(hit.prob, abs=0.011)  # allocate's polish vs the path's
    np.testing.assert_allclose(np.sort(gain), np.sort(hit.achieved.values.ravel()), rtol=1e-6)


def test_a_smaller_budget_falls_short(hit, plan13, draws):
    smaller = hit.budget * (1 - 3 * BISECT_RTOL)
    alloc = opt.allocate(plan13, smaller, draws[1])
    gain = _gain(plan13, _cells(plan13, alloc))
    assert (gain >= TARGET).mean() < 0.8


def test_budget_is_the_quantile_of_the_draws_own_crossings(hit):
    cross = hit.crossings.values.ravel()
    # share of draws whose own crossing is at or below the found budget
    assert (cross <= hit.budget * (1 + 1e-9)).mean() == pytest.approx(hit.prob, abs=0.011)
    iv = hit.interval
    assert iv["lower"] < hit.budget < iv["upper"] or iv["upper"] == np.inf
    assert iv["lower"] <= iv["median"] <= iv["upper"]
    assert hit.curve["prob"].is_monotonic_increasing
    assert "Least 13-week budget" in hit.sentence


def test_roi_floor_is_the_largest_budget_keeping_it(tiny_fit, plan13, draws):
    got = tiny_fit.optimize(
        target=0.3, target_metric="roi", target_prob=0.8, allow_unconverged=True
    )
    assert got.prob >= 0.8
    larger = got.budget * (1 + 3 * BISECT_RTOL)
    alloc = opt.allocate(plan13, larger, draws[1])
    roi = _gain(plan13, _cells(plan13, alloc)) / larger
    assert (roi >= 0.3).mean() < 0.8


def test_unreachable_target_names_the_most_reachable(tiny_fit):
    with pytest.raises(SpecError, match="the most it reaches with probability 80% is"):
        tiny_fit.optimize(target=1e12, target_prob=0.8, max_budget=1e6, allow_unconverged=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": -5.0}, "must be a positive number"),
        ({"target": 1.0, "target_prob": 1.0}, "strictly between 0 and 1"),
        ({"target": 1.0, "target_metric": "profit"}, "choose one of"),
        ({"target": 1.0, "budget": 10.0}, "either `budget` or `target`"),
        ({}, "Give a `budget`"),
    ],
)
def test_bad_requests_raise_spec_error(tiny_fit, kwargs, match):
    with pytest.raises(SpecError, match=match):
        tiny_fit.optimize(allow_unconverged=True, **kwargs)


def test_bounds_hold_along_the_path(tiny_fit):
    got = tiny_fit.optimize(
        target=50_000.0,
        target_prob=0.5,
        bounds={"social": (None, 20_000.0)},
        allow_unconverged=True,
    )
    assert got.spend["social"] <= 20_000.0 * (1 + 1e-9)
    assert got.prob >= 0.5


def test_crossings_interpolate_linearly():
    budgets = np.array([1.0, 2.0, 4.0])
    values = np.array([[1.0, 0.0, 10.0], [3.0, 1.0, 12.0], [7.0, 1.5, 14.0]])
    got = crossings(budgets, values, 2.0, rising=True)
    # draw 0: between 1 (1.0) and 2 (3.0) at 1.5; draw 1: never; draw 2: from the origin
    np.testing.assert_allclose(got, [1.5, np.inf, 0.2])
    floor = crossings(budgets, -values, -2.5, rising=False)
    # draw 0 keeps -v >= -2.5 up to between 1 and 2: at 1.75; draw 1 always; draw 2 never
    np.testing.assert_allclose(floor, [1.75, np.inf, 0.0])
