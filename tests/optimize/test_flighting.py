"""Week-by-week flighting (``optimize.flighting``) on the tiny fit.

The weekly revenue model is checked against the window planner it extends (a flat weekly
plan is the flat planner's plan, to rounding) and its gradient against finite
differences; the plan against its limits and against the best fixed flighting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_mmm import MMMData, SpecError
from bayes_mmm.optimize import weekly
from bayes_mmm.optimize.flighting import WeekModel, fixed_plan_cells
from bayes_mmm.optimize.geo_split import solve_bounded
from bayes_mmm.optimize.window import plain_planner
from bayes_mmm.posterior import Posterior


@pytest.fixture(scope="module")
def budget(tiny_fit):
    return float(tiny_fit.data.spend[-13:].sum())


@pytest.fixture(scope="module")
def model(tiny_fit, draws):
    flat = plain_planner(tiny_fit.data, tiny_fit.spec, draws[0], weeks=13, flighting="flat")
    return WeekModel(flat, draws[0]), flat


def test_a_flat_weekly_plan_is_the_flat_planners_plan(model):
    week, flat = model
    totals = np.array([1e4, 3e4, 2e5])
    expected = flat.revenue(fixed_plan_cells(flat, totals))
    np.testing.assert_allclose(week.revenue(np.tile(totals / 13, (13, 1))), expected, rtol=1e-10)


def test_gradient_matches_finite_differences(model):
    week, _ = model
    x = np.random.default_rng(1).uniform(1e3, 2e4, (13, 3))
    _, g = week.revenue(x, grad=True)
    for w, k in [(0, 0), (6, 1), (12, 2)]:
        e = np.zeros_like(x)
        e[w, k] = 1.0
        fd = (week.revenue(x + e).mean() - week.revenue(x - e).mean()) / 2
        assert g[w, k] == pytest.approx(fd, rel=1e-5)


def test_weekly_plan_beats_the_best_fixed_flighting(tiny_fit, budget):
    plan = tiny_fit.optimize(budget, flighting="optimize", allow_unconverged=True)
    assert plan.spend.shape == (13, 3)
    assert plan.spend.to_numpy().sum() == pytest.approx(budget, rel=1e-6)
    assert (plan.spend.to_numpy() >= -1e-6).all()
    assert plan.fixed.attrs["flighting"] in ("flat", "history")
    assert plan.table.loc["gain", "mean"] >= 0
    assert plan.prob_better == pytest.approx((plan.gain.values > 0).mean())


def test_limits_hold(tiny_fit, budget):
    step = budget / 13 * 0.2
    plan = tiny_fit.optimize(
        budget,
        flighting="optimize",
        dark=[1, 2],
        caps={"social": budget / 13},
        max_change=step,
        allow_unconverged=True,
    )
    x = plan.spend.to_numpy()
    assert x.sum() == pytest.approx(budget, rel=1e-6)
    np.testing.assert_allclose(x[:2], 0.0, atol=1e-6 * budget)
    assert (plan.spend["social"] <= budget / 13 * (1 + 1e-6)).all()
    assert (np.abs(np.diff(x, axis=0)) <= step * (1 + 1e-6) + 1e-6 * budget).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"floors": {"tv": 2e5}}, "flighting limits allow"),
        ({"floors": {"tv": 1e9}}, "floor exceeds its cap"),
        ({"dark": list(range(1, 14))}, "flighting limits allow"),
        ({"caps": {"radio": 1.0}}, "Unknown spend group"),
        ({"dark": [20]}, "between 1 and 13"),
        ({"floors": {"tv": 10.0}, "dark": [3]}, "dark but has a spend floor"),
        ({"dark": [1], "max_change": 0.0}, "cannot be met together with the budget"),
        ({"dark": [1, 13], "max_change": 1.0}, "Raise `max_change`"),
        ({"max_change": -1.0}, "must be a number ≥ 0"),
    ],
)
def test_contradictory_limits_raise_spec_error(tiny_fit, budget, kwargs, match):
    with pytest.raises(SpecError, match=match):
        tiny_fit.optimize(budget, flighting="optimize", allow_unconverged=True, **kwargs)


# ---------------------------------------------------------------------- by_geo=True
@pytest.fixture(scope="module")
def twin_geos(tiny_fit) -> Posterior:
    """The tiny posterior on a panel whose geos are copies of its first geo, with that
    geo's media effects in every geo: a by-geo plan has nothing to gain from the geo
    split, so its weekly group totals are the national plan's."""
    d = tiny_fit.data
    frame = d.to_frame()
    first = frame[frame["geo"] == d.geos[0]]
    frame = pd.concat([first.assign(geo=g) for g in d.geos], ignore_index=True)
    data = MMMData.from_frame(
        frame,
        date="date",
        target=d.target_name,
        media=list(d.channels),
        geo="geo",
        controls=list(d.controls),
    )
    idata = tiny_fit.posterior.idata.copy()
    post = idata["posterior"].to_dataset()
    for name in ("beta", "beta_z"):
        post[name] = post[name].isel(geo=[0] * len(d.geos)).assign_coords(geo=list(d.geos))
    idata["posterior"] = xr.DataTree(post)
    return Posterior(data, tiny_fit.spec, idata)


def test_a_flat_plan_of_cells_is_the_flat_planners_plan(model):
    week, flat = model
    cells = np.random.default_rng(2).uniform(1e3, 5e4, (3, 3))  # (geo, spend_group)
    expected = flat.revenue(cells)
    got = week.revenue(np.tile(cells / 13, (13, 1, 1)))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_cell_gradient_matches_finite_differences(model):
    week, _ = model
    x = np.random.default_rng(3).uniform(1e3, 2e4, (13, 3, 3))  # (period, geo, group)
    _, g = week.revenue(x, grad=True)
    assert g.shape == x.shape
    for idx in [(0, 0, 0), (4, 2, 1), (12, 1, 2), (7, 0, 2)]:
        e = np.zeros_like(x)
        e[idx] = 1.0
        fd = (week.revenue(x + e).mean() - week.revenue(x - e).mean()) / 2
        assert g[idx] == pytest.approx(fd, rel=1e-5)


def test_by_geo_plan_on_identical_geos_is_the_national_plan(twin_geos):
    budget = float(twin_geos.data.spend[-13:].sum())
    national = weekly(twin_geos, budget, honest=False, allow_unconverged=True)
    cells = weekly(twin_geos, budget, honest=False, by_geo=True, allow_unconverged=True)
    assert cells.spend.index.names == ["period", "geo"]
    assert cells.spend.shape == (13 * 3, 3)
    x = cells.spend.to_numpy().reshape(13, 3, 3)
    assert x.sum() == pytest.approx(budget, rel=1e-6)
    # the national plan splits each week like history: a third per geo here
    np.testing.assert_allclose(x.sum(axis=1), national.spend.to_numpy(), atol=2e-3 * budget)
    thirds = np.broadcast_to(x.sum(axis=1, keepdims=True) / 3, x.shape)
    np.testing.assert_allclose(x, thirds, atol=2e-3 * budget)
    assert cells.fixed.shape == (3, 3) and cells.fixed.attrs["flighting"] in ("flat", "history")
    assert cells.table.loc["gain", "mean"] == pytest.approx(
        national.table.loc["gain", "mean"], rel=0.02, abs=1e-6 * budget
    )


def test_by_geo_plan_keeps_the_weekly_group_limits(tiny_fit, budget):
    step = budget / 13 * 0.2
    plan = tiny_fit.optimize(
        budget,
        flighting="optimize",
        by_geo=True,
        dark=[1, 2],
        caps={"social": budget / 13},
        max_change=step,
        honest=False,
        allow_unconverged=True,
    )
    x = plan.spend.to_numpy().reshape(13, 3, 3)
    totals = x.sum(axis=1)  # (period, spend_group)
    tol = 1e-6 * budget
    assert x.sum() == pytest.approx(budget, rel=1e-6)
    assert (x >= -tol).all()
    np.testing.assert_allclose(x[:2], 0.0, atol=tol)
    assert (totals[:, 2] <= budget / 13 + tol).all()
    assert (np.abs(np.diff(totals, axis=0)) <= step + tol).all()
    assert plan.prob_better == pytest.approx((plan.gain.values > 0).mean())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"floors": {"tv": 2e5}}, "flighting limits allow"),
        ({"dark": [1], "max_change": 0.0}, "cannot be met together with the budget"),
    ],
)
def test_by_geo_contradictory_limits_raise_spec_error(tiny_fit, budget, kwargs, match):
    with pytest.raises(SpecError, match=match):
        tiny_fit.optimize(
            budget, flighting="optimize", by_geo=True, allow_unconverged=True, **kwargs
        )


def test_by_geo_plan_with_budget_alone_matches_the_constrained_solver(tiny_fit, budget):
    """Without caps, floors or ``max_change`` the by-geo plan uses the softmax solver; a
    ``max_change`` that cannot bind sends the same problem to the bounded solver."""
    kwargs = {"flighting": "optimize", "by_geo": True, "honest": False}
    fast = tiny_fit.optimize(budget, dark=[4], allow_unconverged=True, **kwargs)
    slow = tiny_fit.optimize(budget, dark=[4], max_change=budget, allow_unconverged=True, **kwargs)
    assert fast.table.loc["gain", "mean"] == pytest.approx(slow.table.loc["gain", "mean"], rel=1e-5)
    x = fast.spend.to_numpy().reshape(13, 3, 3)
    np.testing.assert_allclose(x[3], 0.0, atol=1e-9 * budget)
    assert x.sum() == pytest.approx(budget, rel=1e-9) and (x >= 0).all()


def _slsqp_cells(week, budget, lo, hi, step, y0):
    """The reference: SLSQP on every cell (shares of the budget) with the budget, each
    week's group floors and caps over geos and ``step`` between weeks as linear
    constraints, written here from the problem's definition."""
    from scipy.optimize import minimize

    weeks, geos, groups = y0.shape
    total = np.kron(np.eye(weeks), np.kron(np.ones((1, geos)), np.eye(groups)))
    diff = (np.eye(weeks * groups)[groups:] - np.eye(weeks * groups)[:-groups]) @ total
    norm = abs(week.revenue(y0).mean())

    def fun(z):
        rev, g = week.revenue(z.reshape(y0.shape) * budget, grad=True)
        return -rev.mean() / norm, -g.ravel() * budget / norm

    def linear(a, b):  # a @ z >= b
        return {"type": "ineq", "fun": lambda z: a @ z - b, "jac": lambda z: a}

    cons = [
        {"type": "eq", "fun": lambda z: z.sum() - 1.0, "jac": lambda z: np.ones_like(z)},
        linear(total, lo.ravel() / budget),
        linear(-total, -hi.ravel() / budget),
        linear(diff, -np.full(len(diff), step / budget)),
        linear(-diff, -np.full(len(diff), step / budget)),
    ]
    res = minimize(
        fun,
        (y0 / budget).ravel(),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * y0.size,
        constraints=cons,
        options={"maxiter": 500, "ftol": 1e-12},
    )
    return res.x.reshape(y0.shape) * budget


def test_bounded_by_geo_solver_reaches_slsqps_optimum(model, budget):
    """Caps, floors and ``max_change`` that bind: the structured solver's plan earns what
    SLSQP on every cell earns (1e-6 relative) and meets every limit to rounding."""
    week = model[0].subset(np.arange(0, 200, 5))  # 40 draws
    lo, hi = np.zeros((13, 3)), np.full((13, 3), budget)
    hi[:, 2] = budget / 13 * 0.8  # cap social
    lo[2:, 0] = budget / 13 * 0.3  # floor tv outside the dark weeks
    hi[:2] = 0.0  # dark weeks 1 and 2
    step = budget / 13 * 0.35
    y0 = np.broadcast_to(hi[:, None, :] > 0, (13, 3, 3)).astype(float)
    y0 *= budget / y0.sum()
    x = solve_bounded(week, budget, lo, hi, step, y0)
    ref = _slsqp_cells(week, budget, lo, hi, step, y0)
    tol = 1e-9 * budget
    totals = x.sum(axis=1)
    assert abs(x.sum() - budget) <= tol and (x >= 0).all()
    assert (totals >= lo - tol).all() and (totals <= hi + tol).all()
    assert (np.abs(np.diff(totals, axis=0)) <= step + tol).all()
    # the limits bind at the optimum, so the test exercises them
    ref_totals = ref.sum(axis=1)
    assert (ref_totals[:, 2] >= hi[:, 2] - 1e-6 * budget).any()
    assert (np.abs(np.diff(ref_totals, axis=0)) >= step - 1e-6 * budget).any()
    assert (ref_totals[2:, 0] <= lo[2:, 0] + 1e-6 * budget).any()
    got, expected = week.revenue(x).mean(), week.revenue(ref).mean()
    assert got == pytest.approx(expected, rel=1e-6)
