"""The optimizer (``optimize.allocate``): plans, their uncertainty, stability and
near-optimality, on the ``tiny_fit`` posterior (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from oracle import self_assessed_share

import bayes_mmm as bm
from bayes_mmm import optimize as opt


def test_two_channels_against_a_grid(tiny_fit, plan13):
    """Lock social: the tv/search split must reach the brute-force grid maximum."""
    budget = plan13.current().sum()
    plan = tiny_fit.optimize(budget, weeks=13, lock=["social"], allow_unconverged=True)
    cur = plan13.current()
    share = cur / cur.sum(axis=0)
    free = budget - cur[:, 2].sum()
    best = -np.inf
    for tv in np.linspace(0, free, 801):
        spend = share * np.array([tv, free - tv, cur[:, 2].sum()])
        best = max(best, plan13.revenue(spend).mean())
    assert plan.objective >= best * (1 - 1e-3)
    assert plan.objective <= best * (1 + 1e-3)
    assert plan.spend["social"] == pytest.approx(cur[:, 2].sum(), rel=1e-12)


def test_optimize_takes_a_posterior_or_a_fit(tiny_fit):
    """``optimize`` reads the typed ``Posterior``; the ``Fit`` facade hands over its own."""
    kwargs = dict(weeks=13, allow_unconverged=True, n_starts=1)
    from_posterior = opt.optimize(tiny_fit.posterior, 1e6, **kwargs)
    from_fit = opt.optimize(tiny_fit, 1e6, **kwargs)
    np.testing.assert_array_equal(from_posterior.spend, from_fit.spend)
    np.testing.assert_array_equal(from_posterior.uplift, tiny_fit.optimize(1e6, **kwargs).uplift)
    with pytest.raises(TypeError, match="Posterior"):
        opt.optimize(tiny_fit.data, 1e6, **kwargs)


def test_unconverged_fit_is_gated(tiny_fit):
    assert not tiny_fit.converged
    with pytest.raises(bm.ConvergenceError, match="allow_unconverged"):
        tiny_fit.optimize(1e6, weeks=13)
    with pytest.raises(bm.ConvergenceError):
        tiny_fit.what_if(budget_change=0.1)
    plan = tiny_fit.optimize(1e6, weeks=13, allow_unconverged=True, n_starts=2)
    assert plan.warning and "warning" in plan.table.attrs


def test_plan_reports_uplift_and_equal_marginal_roi(tiny_fit, plan13):
    budget = plan13.current().sum()
    plan = tiny_fit.optimize(budget, weeks=13, allow_unconverged=True)
    assert isinstance(plan, bm.Allocation)
    assert plan.uplift.dims == ("chain", "draw") and plan.uplift.shape == (2, 100)
    assert plan.objective >= plan.objective_current
    assert plan.uplift.mean() == pytest.approx(plan.objective - plan.objective_current)
    assert plan.prob_better == pytest.approx(float((plan.uplift > 0).mean()))
    table = plan.table
    assert list(table.columns) == [
        "current",
        "optimal",
        "change",
        "mroi_mean",
        "mroi_lower",
        "mroi_upper",
    ]
    interior = table["optimal"] > 1e-3 * budget
    assert interior.sum() >= 2
    m = table.loc[interior, "mroi_mean"]
    assert m.max() - m.min() < 1e-3 * m.mean()  # KKT: equal marginal ROI
    assert (table["mroi_lower"] <= table["mroi_mean"]).all()
    assert (table["mroi_mean"] <= table["mroi_upper"]).all()


def test_by_geo_plan_is_a_geo_by_channel_frame(tiny_fit, plan13):
    budget = plan13.current().sum()
    plan = tiny_fit.optimize(budget, weeks=13, by_geo=True, allow_unconverged=True)
    assert isinstance(plan.spend, pd.DataFrame)
    assert plan.spend.shape == (3, 3)
    assert plan.spend.to_numpy().sum() == pytest.approx(budget, rel=1e-12)
    # optimizing geo cells can only do better than the history split across geos
    pooled = tiny_fit.optimize(budget, weeks=13, allow_unconverged=True)
    assert plan.objective >= pooled.objective * (1 - 1e-6)


def test_cvar_moves_budget_away_from_a_wide_channel(tiny_fit, draws):
    """Widen tv's effect draws around their mean: the mean plan is unchanged in
    expectation, CVaR must cut tv."""
    d = dict(draws[0])
    beta = d["beta"].copy()
    beta[..., 0] = beta[..., 0].mean(axis=0) + 4.0 * (beta[..., 0] - beta[..., 0].mean(axis=0))
    d["beta"] = beta
    plan = opt.planner(tiny_fit.data, tiny_fit.spec, d, weeks=13)
    budget = plan.current().sum()
    mean = opt.allocate(plan, budget, draws[1], objective="mean")
    cvar = opt.allocate(plan, budget, draws[1], objective="cvar", alpha=0.1)
    assert cvar.spend["tv"] < mean.spend["tv"] - 0.02 * budget
    risk = opt.allocate(plan, budget, draws[1], objective="mean_sd", risk_aversion=2.0)
    assert risk.spend["tv"] < mean.spend["tv"]


def test_custom_objective_is_a_callable(tiny_fit, plan13):
    budget = plan13.current().sum()
    custom = tiny_fit.optimize(
        budget,
        objective=lambda r: (float(r.mean()), np.full(r.size, 1 / r.size)),
        allow_unconverged=True,
    )
    mean = tiny_fit.optimize(budget, objective="mean", allow_unconverged=True)
    np.testing.assert_allclose(custom.spend, mean.spend, rtol=1e-6)
    with pytest.raises(bm.SpecError, match="objective"):
        tiny_fit.optimize(budget, objective="median", allow_unconverged=True)


def test_near_optimal_is_the_posterior_view_of_the_plan(tiny_fit, draws):
    """``near_optimal=k``: each of k draws taken as the truth scores the plan against that
    draw's own optimum. It agrees with the regret study's yardstick
    (``oracle.self_assessed_share``, whose per-draw optimum is a full multi-start
    ``allocate``), is 1 when every draw is the same, and judges a plan by the optimum under
    the plan's own constraints (every channel locked: the current split is that optimum)."""
    d, shape = draws
    p = opt.planner(tiny_fit.data, tiny_fit.spec, d, weeks=13)
    budget = p.current().sum()
    for by_geo in (False, True):
        plan = opt.allocate(p, budget, shape, opt.Constraints(by_geo=by_geo), near_optimal=20)
        near, own = plan.near_optimal, self_assessed_share(p, plan, by_geo, n=20)
        assert near.attrs["draws"] == 20 and near["lower"] <= near["median"] <= near["upper"]
        assert near["median"] == pytest.approx(np.median(own), abs=5e-3)
        assert near["p_095"] == pytest.approx((own >= 0.95).mean())
        assert near["median"] < 0.99  # the tiny posterior is uncertain about its plan
    one = {k: np.repeat(v[:1], 40, axis=0) for k, v in d.items()}
    fixed = opt.planner(tiny_fit.data, tiny_fit.spec, one, weeks=13)
    sure = opt.allocate(fixed, budget, (1, 40), near_optimal=5).near_optimal
    np.testing.assert_allclose(sure[["median", "lower", "upper", "p_095"]], 1.0, atol=1e-4)
    locked = opt.Constraints(lock=fixed.labels)
    held = opt.allocate(fixed, budget, (1, 40), locked, near_optimal=5)
    np.testing.assert_allclose(held.near_optimal[["median", "lower", "p_095"]], 1.0, atol=1e-9)
    assert tiny_fit.optimize(1e6, allow_unconverged=True, n_starts=1).near_optimal is None
    with pytest.raises(bm.SpecError, match="near_optimal"):
        opt.allocate(p, budget, shape, near_optimal=10**6)


def test_stability_of_the_recommendation(tiny_fit, draws):
    """Re-solving on disjoint draw subsets: an interval per channel around the plan, which
    collapses to the plan when every draw is the same (no posterior uncertainty)."""
    plan = tiny_fit.optimize(1e6, weeks=13, allow_unconverged=True, stability=5)
    st = plan.stability
    assert list(st.index) == list(plan.table.index) and st.attrs["subsets"] == 5
    assert (st["lower"] <= st["median"]).all() and (st["median"] <= st["upper"]).all()
    assert (st["upper"] - st["lower"]).max() > 1e-3 * 1e6  # a real posterior moves the plan
    one = {k: np.repeat(v[:1], 40, axis=0) for k, v in draws[0].items()}
    p = opt.planner(tiny_fit.data, tiny_fit.spec, one, weeks=13)
    fixed = opt.allocate(p, 1e6, (1, 40), stability=4).stability
    np.testing.assert_allclose(fixed["lower"], fixed["optimal"], rtol=1e-4, atol=1e-3 * 1e6 / 3)
    np.testing.assert_allclose(fixed["upper"], fixed["optimal"], rtol=1e-4, atol=1e-3 * 1e6 / 3)
    assert tiny_fit.optimize(1e6, allow_unconverged=True, n_starts=1).stability is None
    with pytest.raises(bm.SpecError, match="stability"):
        opt.allocate(p, 1e6, (1, 40), stability=1)
