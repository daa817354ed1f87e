"""Budget optimizer and what-if scenarios (``bayes_mmm.optimize``).

Most tests run on the ``tiny_fit`` posterior (no sampling); the regret test fits a small
simulated panel and is marked slow.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import analysis
from bayes_mmm import optimize as opt
from bayes_mmm.optimize.allocate import _bounds
from bayes_mmm.optimize.oracle import (
    plan_cells,
    regret_share,
    self_assessed_share,
    simulated,
    true_optimum,
    true_planner,
)


@pytest.fixture(scope="module")
def draws(tiny_fit):
    return tiny_fit.draws


@pytest.fixture(scope="module")
def plan13(tiny_fit, draws):
    return opt.planner(tiny_fit.data, tiny_fit.spec, draws[0], weeks=13)


def test_planner_matches_the_analysis_counterfactual(tiny_fit, draws, plan13):
    """The optimizer's fast revenue is the one counterfactual path of ``analysis``."""
    data, spec = tiny_fit.data, tiny_fit.spec
    lag = spec.l_max - 1
    rng = np.random.default_rng(0)
    for spend in (plan13.current(), plan13.current() * rng.uniform(0, 2, plan13.current().shape)):
        media = np.concatenate([data.media[-lag:], plan13.media(spend)])
        ref = analysis.channel_contribution_draws(data, spec, draws[0], media=media, tail=lag)
        np.testing.assert_allclose(plan13.revenue(spend), ref[:, lag:].sum(axis=(1, 2, 3)))


def test_history_flighting_reproduces_history(tiny_fit, plan13):
    """At current spend, ``"history"`` flighting gives back the last weeks' media."""
    np.testing.assert_allclose(plan13.media(plan13.current()), tiny_fit.data.media[-13:])
    flat = opt.planner(tiny_fit.data, tiny_fit.spec, tiny_fit.draws[0], 13, "flat")
    m = flat.media(flat.current())
    np.testing.assert_allclose(m, np.broadcast_to(m.mean(axis=0), m.shape))
    np.testing.assert_allclose(m.sum(axis=0), tiny_fit.data.media[-13:].sum(axis=0))


def test_analytic_gradient_matches_finite_differences(plan13):
    spend = plan13.current() * 0.7
    _, grad = plan13.revenue(spend, grad=True)
    for g, k in [(0, 0), (1, 2), (2, 1)]:
        h = np.zeros_like(spend)
        h[g, k] = 1e-4 * spend[g, k]
        fd = (plan13.revenue(spend + h) - plan13.revenue(spend - h)) / (2 * h[g, k])
        np.testing.assert_allclose(grad[:, g, k], fd, rtol=1e-5)


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


def test_constraints_hold_over_random_sets(tiny_fit, draws):
    """Budget exact to 1e-9 and every bound kept, for 100 random constraint sets."""
    data = tiny_fit.data
    plan = opt.planner(data, tiny_fit.spec, draws[0], weeks=13).subset(np.arange(0, 200, 10))
    rng = np.random.default_rng(1)
    cur = plan.current()
    labels = plan.labels
    for _ in range(100):
        by_geo = bool(rng.random() < 0.5)
        budget = cur.sum() * rng.uniform(0.5, 1.5)
        relative = bool(rng.random() < 0.5)
        bounds, lock = {}, []
        for k, label in enumerate(labels):
            key = (data.geos[rng.integers(len(data.geos))], label) if by_geo else label
            if rng.random() < 0.5:
                ref = 1.0 if relative else (cur[:, k].mean() if by_geo else cur[:, k].sum())
                lo = rng.uniform(0.0, 0.8) * ref
                bounds[key] = (lo, lo + rng.uniform(0.1, 1.5) * ref)
            elif rng.random() < 0.2:
                lock.append(key)
        try:
            res = opt.allocate(
                plan,
                budget,
                (1, 20),
                bounds=bounds,
                bounds_relative=relative,
                lock=lock,
                by_geo=by_geo,
                n_starts=2,
            )
        except bm.SpecError as err:  # an infeasible draw must say so, naming the fix
            assert "budget" in str(err)
            continue
        x = res.spend.to_numpy().reshape(-1) if by_geo else res.spend.to_numpy()
        base = cur.reshape(-1) if by_geo else cur.sum(axis=0)
        base = base * budget / cur.sum()
        lo_b, hi_b = _bounds(base, budget, bounds, relative, lock, labels, data, by_geo)
        assert abs(x.sum() - budget) <= 1e-9 * budget
        assert np.all(x >= lo_b - 1e-9 * budget) and np.all(x <= hi_b + 1e-9 * budget)


def test_infeasible_bounds_name_the_fix(tiny_fit):
    with pytest.raises(bm.SpecError, match="lower bounds"):
        tiny_fit.optimize(
            100.0, bounds={"tv": (80, None), "search": (50, None)}, allow_unconverged=True
        )
    with pytest.raises(bm.SpecError, match="upper bounds"):
        tiny_fit.optimize(
            100.0, bounds={k: (0, 10) for k in ("tv", "search", "social")}, allow_unconverged=True
        )
    with pytest.raises(bm.SpecError, match="Unknown"):
        tiny_fit.optimize(100.0, bounds={"radio": (0, 10)}, allow_unconverged=True)


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


def test_what_if_budget_and_shift(tiny_fit):
    none = tiny_fit.what_if(budget_change=0.0, allow_unconverged=True)
    assert float(abs(none.change).max()) == 0.0
    more = tiny_fit.what_if(budget_change=0.10, weeks=13, allow_unconverged=True)
    assert more.change.dims == ("chain", "draw")
    assert bool((more.change > 0).all())  # positive effects: more spend, more revenue
    assert "+10% budget" in more.sentence and "CI" in more.sentence
    row = more.table.loc["change_pct"]
    assert row["lower"] < row["mean"] < row["upper"]
    np.testing.assert_allclose(more.spend["scenario"], 1.1 * more.spend["current"])
    shift = tiny_fit.what_if(spend_change={"tv": 0.2, "search": -0.1}, allow_unconverged=True)
    ratio = shift.spend["scenario"] / shift.spend["current"]
    np.testing.assert_allclose(ratio.to_numpy(), [1.2, 0.9, 1.0])
    with pytest.raises(bm.SpecError):
        tiny_fit.what_if(spend_change={"radio": 0.1}, allow_unconverged=True)


def test_response_curves(tiny_fit):
    curves = opt.response_curves(tiny_fit, weeks=13, points=5)
    assert curves["mean"].dims == ("channel", "point")
    assert np.all(curves["mean"].isel(point=0) == 0)
    assert np.all(curves["mean"].diff("point") > 0)
    np.testing.assert_allclose(curves["spend"].isel(point=2), curves["current"])
    assert bool((curves["lower"] <= curves["mean"]).all())


def test_oracle_is_the_simulator():
    """The one-draw true planner reproduces the simulator's own response function (the
    regret test's yardstick): window + tail revenue of a plan right after the data."""
    from bayes_mmm.response import media_response
    from bayes_mmm.transforms import lag_stack

    data, truth = simulated(3, 60, 3, seed=2)
    oracle = true_planner(data, truth)
    lag = truth.spec.l_max - 1
    one = {k: np.asarray(v)[None] for k, v in truth.params.items()}
    for spend in (oracle.current(), oracle.current() * [[0.2, 1.9, 1.0]]):
        media = np.concatenate([data.media, oracle.media(spend)])
        stack = lag_stack(media / data.scaling.media[None], truth.spec.l_max, tail=lag)
        ref = media_response(stack, one, truth.spec)[0] * truth.params["geo_size"][None, :, None]
        assert oracle.revenue(spend)[0] == pytest.approx(ref[-(13 + lag) :].sum(), rel=1e-12)
    # the same function on the observed media is the simulator's true contributions
    stack = lag_stack(data.media / data.scaling.media[None], truth.spec.l_max)
    ref = media_response(stack, one, truth.spec)[0] * truth.params["geo_size"][None, :, None]
    np.testing.assert_allclose(ref, truth.contributions.values, rtol=1e-12)


def test_envelope_start_finds_the_global_basin():
    """S-shaped true curves make the geo × channel problem multimodal (every zero cell is a
    local optimum): one start at the envelope split reaches the best of 12 starts."""
    data, truth = simulated(10, 156, 5, seed=1)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum()
    one = opt.allocate(oracle, budget, (1, 1), by_geo=True, n_starts=1)
    many = opt.allocate(oracle, budget, (1, 1), by_geo=True, n_starts=12)
    gain_one = one.objective - one.objective_current
    gain_many = many.objective - many.objective_current
    assert gain_one >= 0.99 * gain_many


def test_cell_revenue_and_weighted_gradient(plan13):
    spend = plan13.current() * 1.2
    r, g = plan13.revenue(spend, grad=True)
    np.testing.assert_allclose(plan13.cell_revenue(spend).sum(axis=(1, 2)), r)
    w = np.zeros(r.size)
    w[np.argsort(r)[:20]] = 1 / 20  # CVaR-like weights: only the worst draws
    np.testing.assert_allclose(plan13.weighted_gradient(spend, w), np.einsum("s,sgk->gk", w, g))


SEED2_MISS = (
    "Measured 0.883 at 4 × 1000 draws, 0.882 at 4 × 1500 (channel plan 0.908). Display is "
    "mis-estimated (ROI 0.97 vs true 1.14, outside its 90% HDI; Hill slope 1.51 ± 0.22 vs "
    "1.20), so the plan cuts display where the true optimum keeps 279k; setting that slope "
    "to truth gives 0.97. Seeds 1 and 3 pass (seed 1: 0.955 at 4 × 1000, 0.954 at 4 × "
    "1500; seed 3: 0.987). One ROI in 25 outside its 90% HDI is what calibration expects; "
    "see benchmarks/REGRET.md. Remove the mark when recovery of saturation shapes improves."
)


@pytest.fixture(
    scope="module",
    params=[1, pytest.param(2, marks=pytest.mark.xfail(strict=True, reason=SEED2_MISS))],
)
def regret_case(request):
    """A fit at realistic settings (4 × 1500 draws) on an informative simulated panel (10
    geos × 3 years × 5 channels, spend varying twice the default across weeks and geos),
    the simulator's true response as a one-draw planner, and the posterior and
    true-optimal geo × channel plans. ``benchmarks/REGRET.md`` has the study behind the
    seeds: seed 1 passes and seed 2 misses; at the default spread 9 of 15 channel plans and
    4 of 15 geo × channel plans pass, so a pass here is a property of this panel (0.954 at
    each of four NUTS seeds), not of every panel.

    1500 draws, not 1000: on the current graph seed 1 at 4 × 1000 gave R-hat 1.011, so
    ``fit.optimize`` refused it (a ConvergenceError, as it should); ``target_accept=0.95``
    was worse (R-hat 1.018 on ``beta_mu[social]``). At 4 × 1500 it converges (R-hat
    1.004, min ESS 1112, 0 divergences)."""
    data, truth = simulated(10, 156, 5, seed=request.param, spend_variation=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(data, bm.ModelSpec(), draws=1500, tune=1000, chains=4, random_seed=1)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum()
    plan = fit.optimize(budget, weeks=13, by_geo=True)
    return oracle, plan, true_optimum(oracle, budget, by_geo=True)


@pytest.mark.slow
def test_regret_under_the_true_response(regret_case):
    """The posterior plan earns ≥ 95% of the true optimum's uplift under the simulator."""
    oracle, plan, best = regret_case
    assert regret_share(oracle, plan, best) >= 0.95


def test_regret_yardstick():
    """The regret share is 1 for the true optimum and 0 for the current split (every
    channel locked), for channel plans (which keep the current geo split) and geo ×
    channel plans; freeing the geo cells can only raise the attainable uplift."""
    data, truth = simulated(3, 60, 3, seed=2)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum() * 1.1
    attainable = {}
    for by_geo in (False, True):
        best = true_optimum(oracle, budget, by_geo)
        attainable[by_geo] = float(best.uplift.values.ravel()[0])
        assert attainable[by_geo] > 0
        assert regret_share(oracle, best, best) == pytest.approx(1.0, rel=1e-12)
        held = opt.allocate(oracle, budget, (1, 1), by_geo=by_geo, lock=oracle.labels)
        np.testing.assert_allclose(plan_cells(held, oracle.current()), oracle.current(budget))
        assert regret_share(oracle, held, best) == pytest.approx(0.0, abs=1e-9)
    assert attainable[True] >= attainable[False] * (1 - 1e-9)


def test_self_assessed_share_is_one_without_uncertainty(tiny_fit, draws):
    """With every draw the same, the posterior plan is each draw's optimum: the share it
    expects of itself is 1; a real posterior expects less than the whole uplift."""
    one = {k: np.repeat(v[:1], 4, axis=0) for k, v in draws[0].items()}
    p = opt.planner(tiny_fit.data, tiny_fit.spec, one, weeks=13)
    budget = p.current().sum()
    for by_geo in (False, True):
        plan = opt.allocate(p, budget, (1, 4), by_geo=by_geo)
        own = self_assessed_share(p, plan, by_geo, n=2)
        np.testing.assert_allclose(own, 1.0, atol=1e-3)
    full = opt.planner(tiny_fit.data, tiny_fit.spec, draws[0], weeks=13)
    plan = opt.allocate(full, budget, draws[1])
    own = self_assessed_share(full, plan, False, n=10)
    assert own.shape == (10,) and np.median(own) < 0.999


def test_planner_handles_mixed_saturation(tiny_fit, draws):
    """A {channel: kind} spec: revenue matches the analysis path, gradient matches FD."""
    data = tiny_fit.data
    spec = tiny_fit.spec.replace(saturation={"tv": "hill", "search": "log", "social": "neg_exp"})
    d = dict(draws[0])
    d["lam"] = np.abs(d["ec"][:, 1:]) + 0.5  # (sample, lam_channel): search, social
    d["ec"], d["slope"] = d["ec"][:, :1], d["slope"][:, :1]  # (sample, hill_channel): tv
    plan = opt.planner(data, spec, d, 13)
    lag = spec.l_max - 1
    spend = plan.current() * 1.3
    media = np.concatenate([data.media[-lag:], plan.media(spend)])
    ref = analysis.channel_contribution_draws(data, spec, d, media=media, tail=lag)
    np.testing.assert_allclose(plan.revenue(spend), ref[:, lag:].sum(axis=(1, 2, 3)))
    _, grad = plan.revenue(spend, grad=True)
    h = np.zeros_like(spend)
    h[1, 2] = 1e-4 * spend[1, 2]
    fd = (plan.revenue(spend + h) - plan.revenue(spend - h)) / (2 * h[1, 2])
    np.testing.assert_allclose(grad[:, 1, 2], fd, rtol=1e-5)


def test_near_optimal_is_the_posterior_view_of_the_plan(tiny_fit, draws):
    """``near_optimal=k``: each of k draws taken as the truth scores the plan against that
    draw's own optimum. It agrees with the regret study's yardstick
    (``oracle.self_assessed_share``), is 1 when every draw is the same, and judges a plan
    by the optimum under the plan's own constraints (every channel locked: the current
    split is that optimum)."""
    d, shape = draws
    p = opt.planner(tiny_fit.data, tiny_fit.spec, d, weeks=13)
    budget = p.current().sum()
    for by_geo in (False, True):
        plan = opt.allocate(p, budget, shape, by_geo=by_geo, near_optimal=20)
        near, own = plan.near_optimal, self_assessed_share(p, plan, by_geo, n=20)
        assert near.attrs["draws"] == 20 and near["lower"] <= near["median"] <= near["upper"]
        assert near["median"] == pytest.approx(np.median(own), abs=5e-3)
        assert near["p_095"] == pytest.approx((own >= 0.95).mean())
        assert near["median"] < 0.99  # the tiny posterior is uncertain about its plan
    one = {k: np.repeat(v[:1], 40, axis=0) for k, v in d.items()}
    fixed = opt.planner(tiny_fit.data, tiny_fit.spec, one, weeks=13)
    sure = opt.allocate(fixed, budget, (1, 40), near_optimal=5).near_optimal
    np.testing.assert_allclose(sure[["median", "lower", "upper", "p_095"]], 1.0, atol=1e-4)
    held = opt.allocate(fixed, budget, (1, 40), lock=fixed.labels, near_optimal=5)
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
