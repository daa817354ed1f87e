"""The window problem (``optimize.window``, ``optimize.kernels``): revenue of a spend plan
per draw and its exact gradient, on the ``tiny_fit`` posterior (no sampling)."""

from __future__ import annotations

import numpy as np

from bayes_mmm import analysis
from bayes_mmm import optimize as opt


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


def test_marginal_roi_is_the_slope_of_one_more_unit(plan13):
    """``marginal_roi``: the revenue of one more unit of a group's spend, split across geos
    like the plan, per draw (a central difference along that direction)."""
    spend = plan13.current() * np.array([0.6, 1.3, 0.9])
    _, grad = plan13.revenue(spend, grad=True)
    mroi = opt.marginal_roi(grad, spend)
    assert mroi.shape == (grad.shape[0], spend.shape[1])
    for k in range(spend.shape[1]):
        step = np.zeros_like(spend)
        step[:, k] = 1e-4 * spend[:, k]  # split across geos like the plan
        fd = (plan13.revenue(spend + step) - plan13.revenue(spend - step)) / (2 * step.sum())
        np.testing.assert_allclose(mroi[:, k], fd, rtol=1e-5)


def test_cell_revenue_and_weighted_gradient(plan13):
    spend = plan13.current() * 1.2
    r, g = plan13.revenue(spend, grad=True)
    np.testing.assert_allclose(plan13.cell_revenue(spend).sum(axis=(1, 2)), r)
    w = np.zeros(r.size)
    w[np.argsort(r)[:20]] = 1 / 20  # CVaR-like weights: only the worst draws
    np.testing.assert_allclose(plan13.weighted_gradient(spend, w), np.einsum("s,sgk->gk", w, g))


def test_planner_handles_mixed_saturation(tiny_fit, draws):
    """A {channel: kind} spec: revenue matches the analysis path, gradient matches FD."""
    data = tiny_fit.data
    spec = tiny_fit.spec.replace(saturation={"tv": "hill", "search": "log", "social": "neg_exp"})
    d = dict(draws[0])
    d["lam"] = np.abs(d["ec"][:, 1:]) + 0.5  # (sample, lam_channel): search, social
    d["ec"], d["slope"] = d["ec"][:, :1], d["slope"][:, :1]  # (sample, hill_channel): tv
    plan = opt.planner(data, spec, d, 13)
    assert len(plan.sat) == 3  # one kernel group per kind
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
    # a subset of draws is the same problem on those draws
    sub = plan.subset([3, 7])
    np.testing.assert_allclose(sub.revenue(spend), plan.revenue(spend)[[3, 7]], rtol=1e-12)


def _curvature_matches_finite_differences(plan, spend):
    """``second_order``'s revenue and gradient are ``revenue``'s; its curvature is the
    central difference of the gradient, cell by cell (the Hessian is diagonal)."""
    r, g, h = plan.second_order(spend)
    r0, g0 = plan.revenue(spend, grad=True)
    np.testing.assert_array_equal(r, r0)
    np.testing.assert_array_equal(g, g0)
    step = 1e-4 * spend
    _, up = plan.revenue(spend + step, grad=True)
    _, down = plan.revenue(spend - step, grad=True)
    fd = (up - down) / (2 * step)
    np.testing.assert_allclose(h, fd, rtol=1e-4, atol=1e-8 * np.abs(h).max())
    # off the diagonal: one cell's spend leaves the other cells' slopes alone
    other = spend.copy()
    other[0, 0] *= 1.5
    np.testing.assert_array_equal(plan.revenue(other, grad=True)[1][:, 1:], g[:, 1:])


def test_curvature_matches_finite_differences(plan13):
    _curvature_matches_finite_differences(plan13, plan13.current() * np.array([0.6, 1.3, 0.9]))


def test_curvature_of_mixed_saturation(tiny_fit, draws):
    spec = tiny_fit.spec.replace(saturation={"tv": "hill", "search": "log", "social": "neg_exp"})
    d = dict(draws[0])
    d["lam"] = np.abs(d["ec"][:, 1:]) + 0.5
    d["ec"], d["slope"] = d["ec"][:, :1], d["slope"][:, :1]
    plan = opt.planner(tiny_fit.data, spec, d, 13)
    _curvature_matches_finite_differences(plan, plan.current() * 1.3)
