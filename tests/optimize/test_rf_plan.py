"""The optimizer on reach-and-frequency channels (``optimize.rf_window``), on the ``tiny_rf``
posterior (a real 2 × 100 fit of a ``simulate_rf`` panel, ``scripts/make_fixtures.py``).

Each plan's revenue is checked against the analysis path (``channel_contribution_draws``
on the history followed by the plan's reach and frequency) and against a loop written
here, its gradient against finite differences; what-if and the allocation agree on the
same plan, and the report's budget section and planner page take an R&F fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import SpecError, analysis
from bayes_mmm import optimize as opt
from bayes_mmm.frequency import optimal_frequency
from bayes_mmm.optimize.rf_optimal import resolve_rf_frequency

TINY_RF = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_rf"
WEEKS = 13
MODES = ["history", "optimal", {"video": 2.5}]


@pytest.fixture(scope="module")
def rf_fit() -> bm.Fit:
    return bm.load(TINY_RF)


@pytest.fixture(scope="module")
def few(rf_fit) -> dict:
    """Every 20th draw: 10 draws keep the loops short."""
    values, _ = rf_fit.draws
    return {k: np.asarray(v)[::20] for k, v in values.items()}


def rf_planner(fit, draws, mode, flighting="history"):
    """The window problem with ``rf_frequency=mode`` (``"optimal"`` resolved on ``draws``)."""
    mode = resolve_rf_frequency(fit.data, fit.spec, draws, mode)
    return opt.planner(fit.data, fit.spec, draws, WEEKS, flighting, rf_frequency=mode)


def analysis_revenue(fit, draws, plan, spend) -> np.ndarray:
    """Revenue of ``spend`` over window + tail by the analysis path, dims (sample,)."""
    data, spec = fit.data, fit.spec
    lag = spec.l_max - 1
    media = np.concatenate([data.media[-lag:], plan.media(spend)])
    freq = np.concatenate([data.frequency[-lag:], plan.frequency])
    ref = analysis.channel_contribution_draws(
        data, spec, draws, media=media, frequency=freq, tail=lag
    )
    return ref[:, lag:].sum(axis=(1, 2, 3))


def loop_video_revenue(fit, draws, plan, spend) -> np.ndarray:
    """The video channel's revenue over window + tail, written as a loop: per draw and
    geo, ``beta · target_scale · Σ_t Σ_l w_l reach[t-l] hill(freq[t-l]) / hill(1)`` with
    reach and frequency scaled, dims (sample,)."""
    data, spec = fit.data, fit.spec
    c, r, lag = data.channels.index("video"), 0, spec.l_max - 1
    reach = np.concatenate([data.media[-lag:, :, c], plan.media(spend)[..., c]])
    freq = np.concatenate([data.frequency[-lag:, :, r], plan.frequency[..., r]])
    reach = np.concatenate([reach, np.zeros((lag, reach.shape[1]))]) / data.scaling.media[:, c]
    freq = np.concatenate([freq, np.ones((lag, freq.shape[1]))]) / data.scaling.frequency[r]
    out = np.zeros(len(draws["beta"]))
    for s in range(len(out)):
        ec, slope, alpha = draws["ec"][s, c], draws["slope"][s, c], draws["alpha"][s, c]
        w = alpha ** np.arange(spec.l_max)
        w /= w.sum()
        hill1 = 1.0 / (1.0 + ec**slope)
        for g in range(len(data.geos)):
            x = reach[:, g] * freq[:, g] ** slope / (freq[:, g] ** slope + ec**slope) / hill1
            for t in range(lag, len(x)):  # window + tail dates
                ad = sum(w[k] * x[t - k] for k in range(spec.l_max))
                out[s] += draws["beta"][s, g, c] * data.scaling.target[g] * ad
    return out


@pytest.mark.parametrize("flighting", ["history", "flat"])
@pytest.mark.parametrize("mode", MODES, ids=["history", "optimal", "given"])
def test_rf_plan_revenue_is_the_analysis_counterfactual(rf_fit, few, mode, flighting):
    plan = rf_planner(rf_fit, few, mode, flighting)
    rng = np.random.default_rng(0)
    for spend in (plan.current(), plan.current() * rng.uniform(0.0, 2.0, plan.current().shape)):
        expected = analysis_revenue(rf_fit, few, plan, spend)
        np.testing.assert_allclose(plan.revenue(spend), expected, rtol=1e-10)


@pytest.mark.parametrize("mode", MODES, ids=["history", "optimal", "given"])
def test_rf_cell_revenue_matches_a_direct_loop(rf_fit, few, mode):
    plan = rf_planner(rf_fit, few, mode)
    spend = plan.current() * np.array([0.8, 1.7])[None]
    k = plan.labels.index("video")
    got = plan.cell_revenue(spend)[..., k].sum(axis=1)
    np.testing.assert_allclose(got, loop_video_revenue(rf_fit, few, plan, spend), rtol=1e-10)


def test_history_plan_buys_history_reach_at_history_frequency(rf_fit, few):
    """At current spend and ``rf_frequency="history"`` the window repeats the last weeks'
    reach and frequency, so its revenue is the channels' contribution to a history that
    repeats them (the analysis path on the observed panel, extended)."""
    data = rf_fit.data
    plan = opt.planner(data, rf_fit.spec, few, WEEKS)
    np.testing.assert_allclose(plan.media(plan.current()), data.media[-WEEKS:])
    on = data.media[-WEEKS:, :, [data.channels.index("video")]] > 0
    np.testing.assert_allclose(plan.frequency[on], data.frequency[-WEEKS:][on])
    # revenue is linear in R&F spend: doubling it doubles the video cells' revenue
    k = plan.labels.index("video")
    cur = plan.current()
    twice = cur.copy()
    twice[:, k] *= 2.0
    base = cur.copy()
    base[:, k] = 0.0
    r0, r1, r2 = plan.revenue(base), plan.revenue(cur), plan.revenue(twice)
    np.testing.assert_allclose(r2 - r0, 2.0 * (r1 - r0), rtol=1e-10)


def test_optimal_frequency_plan_serves_the_same_impressions(rf_fit):
    """``"optimal"``: ``fit.optimal_frequency()``'s ``at_mean`` in every window week, with
    the impressions of the history plan."""
    data, (draws, _) = rf_fit.data, rf_fit.draws
    hist = opt.planner(data, rf_fit.spec, draws, WEEKS)
    best = rf_planner(rf_fit, draws, "optimal")
    c = data.channels.index("video")
    cur = hist.current()
    impressions = hist.media(cur)[..., c] * hist.frequency[..., 0]
    np.testing.assert_allclose(best.media(cur)[..., c] * best.frequency[..., 0], impressions)
    at_mean = optimal_frequency(rf_fit.posterior).loc["video", "at_mean"]
    assert np.all(best.frequency == at_mean)


def test_rf_gradient_and_curvature_match_finite_differences(rf_fit, few):
    plan = rf_planner(rf_fit, few, "optimal")
    spend = plan.current() * 0.7
    _, grad, curv = plan.second_order(spend)
    for g in range(spend.shape[0]):
        for k in range(spend.shape[1]):
            h = np.zeros_like(spend)
            h[g, k] = 1e-4 * spend[g, k]
            up, down = plan.revenue(spend + h, grad=True), plan.revenue(spend - h, grad=True)
            fd = (up[0] - down[0]) / (2 * h[g, k])
            np.testing.assert_allclose(grad[:, g, k], fd, rtol=1e-6)
            fd2 = (up[1][:, g, k] - down[1][:, g, k]) / (2 * h[g, k])
            tol = 1e-9 * np.abs(grad).max()
            np.testing.assert_allclose(curv[:, g, k], fd2, rtol=1e-4, atol=tol)
    assert np.all(curv[..., plan.labels.index("video")] == 0.0)  # linear in R&F spend


@pytest.mark.parametrize("mode", ["history", "optimal"])
def test_allocation_uplift_equals_what_if_on_the_same_plan(rf_fit, mode):
    data = rf_fit.data
    budget = float(data.spend[-WEEKS:].sum())
    how = {
        "bounds": {"video": (0.5, 1.5), "tv": (0.5, 1.5)},
        "bounds_relative": True,
        "allow_unconverged": True,
        "rf_frequency": mode,
    }
    plan = rf_fit.optimize(budget, **how)
    assert plan.spend.sum() == pytest.approx(budget, rel=1e-9)
    change = {k: plan.spend[k] / plan.current[k] - 1.0 for k in plan.spend.index}
    scenario = opt.what_if(rf_fit, spend_change=change, allow_unconverged=True, rf_frequency=mode)
    np.testing.assert_allclose(scenario.change.values, plan.uplift.values, rtol=1e-8)
    # the structured solver and SLSQP agree on the optimum
    slsqp = rf_fit.optimize(budget, solver="slsqp", **how)
    assert plan.objective >= slsqp.objective - 1e-7 * abs(slsqp.objective)


def test_weekly_model_of_a_flat_plan_is_the_flat_planner(rf_fit, few):
    """``WeekModel`` serves R&F reach at the flat planner's frequency: a plan spending
    evenly over the weeks is that planner's plan; its gradient matches differences."""
    from bayes_mmm.optimize.flighting import WeekModel, fixed_plan_cells
    from bayes_mmm.optimize.window import plain_planner

    flat = plain_planner(rf_fit.data, rf_fit.spec, few, weeks=WEEKS, flighting="flat")
    week = WeekModel(flat, few)
    totals = np.array([2e4, 5e4])
    expected = flat.revenue(fixed_plan_cells(flat, totals))
    x = np.tile(totals / WEEKS, (WEEKS, 1))
    np.testing.assert_allclose(week.revenue(x), expected, rtol=1e-10)
    x = x * np.random.default_rng(2).uniform(0.5, 1.5, x.shape)
    _, grad = week.revenue(x, grad=True)
    for w, k in [(0, 1), (5, 0), (12, 1)]:
        h = np.zeros_like(x)
        h[w, k] = 1e-3 * x[w, k]
        fd = (week.revenue(x + h).mean() - week.revenue(x - h).mean()) / (2 * h[w, k])
        assert grad[w, k] == pytest.approx(fd, rel=1e-6)


def test_weekly_plan_takes_rf_channels(rf_fit):
    budget = float(rf_fit.data.spend[-WEEKS:].sum())
    weekly = rf_fit.optimize(budget, flighting="optimize", allow_unconverged=True)
    assert weekly.spend.to_numpy().sum() == pytest.approx(budget, rel=1e-6)


def test_bad_rf_frequency_is_a_spec_error(rf_fit, few):
    data, spec = rf_fit.data, rf_fit.spec
    for bad, match in (
        ("best", "choose one of"),
        ({"tv": 2.0}, "not a reach"),
        ({"video": 0.5}, "at least 1"),
        ("optimal", "resolved from a posterior"),
    ):
        with pytest.raises(SpecError, match=match):
            opt.planner(data, spec, few, WEEKS, rf_frequency=bad)


def test_report_budget_section_and_planner_page_take_an_rf_fit(rf_fit, tmp_path):
    from bayes_mmm.report.build import budget_section
    from bayes_mmm.report.planner import planner

    budget = float(rf_fit.data.spend[-WEEKS:].sum())
    bounds = {"video": (0.5, 1.5)}
    plan = rf_fit.optimize(budget, bounds=bounds, bounds_relative=True, allow_unconverged=True)
    section = budget_section(rf_fit.posterior, plan, None, 0.9)
    assert section.tables
    page = planner(rf_fit, tmp_path / "planner.html", plan=plan)
    assert page.stat().st_size > 0


@pytest.mark.parametrize("mode", MODES, ids=["history", "optimal", "given"])
def test_forecast_of_an_rf_plan_matches_the_optimizer(rf_fit, mode):
    """The plan as a future frame (reach and frequency columns) forecast by
    ``compare_scenarios``, a separate code path: its uplift over the current plan is the
    allocation's, draw by draw."""
    from bayes_mmm.forecast import compare_scenarios, future_panel

    budget = float(rf_fit.data.spend[-WEEKS:].sum())
    how = {"bounds": {"video": (0.5, 1.5)}, "bounds_relative": True, "allow_unconverged": True}
    alloc = rf_fit.optimize(budget, rf_frequency=mode, **how)
    frames = {
        "current": rf_fit.plan_frame(alloc.current, WEEKS, rf_frequency=mode),
        "optimal": rf_fit.plan_frame(alloc, WEEKS, rf_frequency=mode),
    }
    assert {"video_reach", "video_frequency"} <= set(frames["optimal"].columns)
    panel = future_panel(rf_fit.data, frames["optimal"].drop(columns="video"), controls="last")
    np.testing.assert_allclose(
        panel.media[..., 1], frames["optimal"]["video"].to_numpy().reshape(WEEKS, -1)
    )
    cmp = compare_scenarios(rf_fit, frames, controls="last")
    np.testing.assert_allclose(
        cmp.uplift.sel(scenario="optimal").values, alloc.uplift.values, rtol=1e-8
    )
