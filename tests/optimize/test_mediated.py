"""Total-effect planning (``optimize.mediated``): the optimizer values upstream channels
direct + through the mediator."""

import warnings

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import optimize as opt
from bayes_mmm.optimize import MediatedPlanner, marginal_roi, planner
from bayes_mmm.response import media_response, mediator_response, path_matrix
from bayes_mmm.simulate import SEED003_UPSTREAM, seed003_setup, simulate_drivers
from bayes_mmm.transforms import lag_stack

WEEKS = 8


@pytest.fixture(scope="module")
def national():
    frame, _, params = simulate_drivers(n_weeks=64, seed=11)
    kwargs, spec = seed003_setup()
    data = bm.MMMData.from_frame(frame, **kwargs)
    return data, spec.for_channels(data.channels), params


@pytest.fixture(scope="module")
def true_draws(national):
    """Three draws of the true parameters with different mediator coefficients."""
    _, _, params = national
    draws = {k: np.repeat(np.asarray(v, dtype=float)[None], 3, axis=0) for k, v in params.items()}
    draws["mediator_coef"] = draws["mediator_coef"] * np.array([1.0, 0.5, 2.0])[:, None]
    return draws


def explicit_revenue(data, spec, draws, plan, spend):
    """Revenue of ``spend`` over window + tail from the response functions on an explicit
    media plan: history prefix, the window's media, zero tail; the mediator's media raised
    by the mediator equation's response to the upstream change from the current plan."""
    lag, k = spec.l_max - 1, data.channels.index("google_spend")
    scale = data.scaling.media[None]

    def horizon(s):  # (date, geo, channel) original units: prefix + window + tail
        return np.concatenate([data.media[-lag:], plan.media(s), np.zeros_like(data.media[:lag])])

    def upstream(s):  # mediator_response, (sample, date, geo, mediator)
        stack = lag_stack(horizon(s) / scale, spec.l_max)
        return mediator_response(stack, draws, spec, data.channels) @ path_matrix(spec)

    delta = upstream(spend) - upstream(plan.current())
    out = []
    for d in range(len(draws["alpha"])):
        media = horizon(spend)
        media[..., k] = np.maximum(media[..., k] + delta[d, ..., 0] * scale[..., k], 0.0)
        one = {name: v[d : d + 1] for name, v in draws.items()}
        resp = media_response(lag_stack(media / scale, spec.l_max), one, spec)
        out.append((resp[0, lag:] * data.scaling.target[None, :, None]).sum())
    return np.array(out)


def test_current_plan_reproduces_the_plain_planner(national, true_draws):
    data, spec, _ = national
    plain = planner(data, spec, true_draws, weeks=WEEKS, mediated=False)
    med = planner(data, spec, true_draws, weeks=WEEKS)
    assert isinstance(med, MediatedPlanner) and not isinstance(plain, MediatedPlanner)
    cur = plain.current()
    np.testing.assert_allclose(med.revenue(cur), plain.revenue(cur), rtol=1e-12)
    # the mediator's own spend moved alone: still the plain planner (no upstream change)
    s = cur.copy()
    s[:, data.spend_groups.index("google_spend")] *= 1.5
    np.testing.assert_allclose(med.revenue(s), plain.revenue(s), rtol=1e-12)


@pytest.mark.parametrize("factor", [1.8, 0.0])
def test_revenue_matches_the_response_functions(national, true_draws, factor):
    """More (1.8x) or no facebook spend: the planner's revenue equals the explicit counterfactual
    through ``mediator_response`` and ``media_response`` (0x exercises the floor at 0), and
    the indirect part is material and scales with ``mediator_coef``."""
    data, spec, _ = national
    med = planner(data, spec, true_draws, weeks=WEEKS)
    plain = planner(data, spec, true_draws, weeks=WEEKS, mediated=False)
    cur = med.current()
    s = cur.copy()
    s[:, data.spend_groups.index("facebook_spend")] *= factor
    np.testing.assert_allclose(
        med.revenue(s), explicit_revenue(data, spec, true_draws, med, s), rtol=1e-10
    )
    indirect = (med.revenue(s) - med.revenue(cur)) - (plain.revenue(s) - plain.revenue(cur))
    direct = plain.revenue(s) - plain.revenue(cur)
    assert np.all(np.sign(indirect) == np.sign(direct)) and np.all(np.abs(indirect) > 0)
    assert np.abs(indirect[2]) > np.abs(indirect[0]) > np.abs(indirect[1])  # coef 2x, 1x, 0.5x


@pytest.mark.parametrize(
    "factors",
    [
        {"facebook_spend": 1.6, "tiktok_spend": 0.2},  # floor at 0 only in the tail
        {"facebook_spend": 0.02, "google_spend": 0.005},  # floor inside the window too
    ],
)
def test_gradient_matches_finite_differences(national, true_draws, factors):
    data, spec, _ = national
    med = planner(data, spec, true_draws, weeks=WEEKS)
    s = med.current().copy()
    for name, f in factors.items():
        s[:, data.spend_groups.index(name)] *= f
    _, g = med.revenue(s, grad=True)
    eps = 1e-5 * s.sum()
    for k in range(s.shape[1]):
        e = np.zeros_like(s)
        e[:, k] = eps
        fd = (med.revenue(s + e) - med.revenue(s - e)) / (2 * eps)
        np.testing.assert_allclose(g[:, 0, k], fd, rtol=1e-5, atol=1e-9 * np.abs(g).max())
    # draw subsets and weighted gradients go through the same code
    w = np.array([0.25, 0.0, 0.75])
    np.testing.assert_allclose(med.weighted_gradient(s, w), 0.25 * g[0] + 0.75 * g[2], rtol=1e-12)


@pytest.fixture(scope="module")
def mediated_fit(national):
    """A real (unconverged on purpose: tiny) joint fit of the mediated spec."""
    data, spec, _ = national
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        return bm.fit(data, spec, draws=60, tune=100, chains=2, random_seed=3, progress=False)


@pytest.mark.sampling
def test_fit_optimize_and_what_if_use_total_effects(mediated_fit):
    fit = mediated_fit
    data, (draws, _) = fit.data, fit.draws
    plain = planner(data, fit.spec, draws, weeks=WEEKS, mediated=False)
    med = planner(data, fit.spec, draws, weeks=WEEKS)
    budget = plain.current().sum()
    alloc = fit.optimize(budget, weeks=WEEKS, allow_unconverged=True)
    share = plain.current() / plain.current().sum(axis=0)
    opt = share * alloc.spend.to_numpy()[None]
    # the table's marginal ROI is the total-effect one: above the direct-only one upstream
    total = marginal_roi(med.revenue(opt, grad=True)[1], opt).mean(axis=0)
    direct = marginal_roi(plain.revenue(opt, grad=True)[1], opt).mean(axis=0)
    np.testing.assert_allclose(alloc.table["mroi_mean"].to_numpy(), total, rtol=1e-9)
    for u in SEED003_UPSTREAM:
        k = data.spend_groups.index(u)
        assert total[k] > direct[k] * 1.01, (u, total[k], direct[k])
    # the plan optimises total revenue: it beats the direct-effect optimum on it
    naive = bm.optimize.allocate(plain, budget, (1, len(draws["alpha"])))
    naive_opt = share * naive.spend.to_numpy()[None]
    assert med.revenue(opt).mean() > med.revenue(naive_opt).mean()
    # what_if prices an upstream change with its indirect path too
    wi = fit.what_if(spend_change={"facebook_spend": 0.5}, weeks=WEEKS, allow_unconverged=True)
    s = plain.current().copy()
    s[:, data.spend_groups.index("facebook_spend")] *= 1.5
    expect = med.revenue(s) - med.revenue(plain.current())
    np.testing.assert_allclose(wi.change.values.reshape(-1), expect, rtol=1e-9)


def test_the_mediated_planner_keeps_slsqp(national, true_draws):
    """Not separable across cells: ``solver="auto"`` runs SLSQP on it and the structured
    solver refuses it."""
    data, spec, _ = national
    plan = opt.planner(data, spec, true_draws, weeks=13)
    budget = plan.current().sum()
    with pytest.raises(bm.SpecError, match="not separable"):
        opt.allocate(plan, budget, (1, 3), solver="structured")
    auto = opt.allocate(plan, budget, (1, 3), n_starts=1)
    ref = opt.allocate(plan, budget, (1, 3), n_starts=1, solver="slsqp")
    np.testing.assert_array_equal(auto.spend, ref.spend)
