"""Time-varying baseline and media (``bayes_mmm.hsgp``, ``ModelSpec.time_varying_*``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymc as pm
import pytest

import bayes_mmm as bm
from bayes_mmm import drift, hsgp, plot
from bayes_mmm.analysis import roi_draws
from bayes_mmm.centring import process_contributions
from bayes_mmm.errors import SpecError
from bayes_mmm.model import build_model, parameter_names
from bayes_mmm.optimize.window import plain_planner, window_baseline
from bayes_mmm.report import build
from bayes_mmm.response import baseline_response, hold_last, make_design, media_response

TV = bm.ModelSpec(l_max=4, yearly_seasonality=1, time_varying_intercept=True)


@pytest.fixture(scope="module")
def panel(make_panel):
    return make_panel(n_weeks=60)[0]


@pytest.fixture(scope="module")
def tiny_draws(tiny_fit):
    return dict(tiny_fit.draws.values), tiny_fit.draws.shape


# ---------------------------------------------------------------------- spec
def test_spec_fields_validate_and_round_trip():
    spec = bm.ModelSpec(time_varying_intercept=True, time_varying_media=["tv", "tv"])
    assert spec.trend is False  # the process replaces the linear trend
    assert spec.time_varying_media == ("tv",)
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    assert "time_varying_media" not in bm.ModelSpec().to_dict()  # static specs unchanged
    with pytest.raises(SpecError, match="non-empty list"):
        bm.ModelSpec(time_varying_media="tv")
    with pytest.raises(SpecError, match="True or False"):
        bm.ModelSpec(time_varying_intercept=1)


def test_check_time_varying_names_the_fix(panel):
    spec = bm.ModelSpec(time_varying_media=["radio"])
    with pytest.raises(SpecError, match=r"\['radio'\].*fix the names"):
        spec.check_time_varying(panel.channels, panel.n_dates)
    short = bm.ModelSpec(l_max=12, time_varying_intercept=True)  # needs 2 × 36 periods
    with pytest.raises(SpecError, match=r"at least 72 periods.*smaller l_max"):
        short.check_time_varying(panel.channels, panel.n_dates)
    with pytest.raises(SpecError, match="radio"):
        build_model(panel, spec)


def test_media_processes_share_or_split():
    chans = ["tv", "search", "social"]
    assert bm.ModelSpec(time_varying_media=True).media_processes(chans)[0] == ["all"]
    names, index = bm.ModelSpec(time_varying_media=["social", "tv"]).media_processes(chans)
    assert names == ["tv", "social"] and index.tolist() == [0, -1, 1]


# ---------------------------------------------------------------------- basis
@pytest.mark.parametrize("n_dates,l_max", [(60, 4), (156, 8), (104, 2), (400, 13)])
def test_basis_follows_pymc_heuristic_clipped(n_dates, l_max):
    b = hsgp.basis(n_dates, l_max)
    assert hsgp.M_MIN <= b.m <= hsgp.M_MAX
    assert b.floor == 3 * l_max
    assert b.L >= 1.2 * (n_dates - 1) / 2  # PyMC's c >= 1.2


@pytest.mark.parametrize("n_dates,l_max", [(156, 8), (104, 4)])
@pytest.mark.parametrize("excess", [0.36, 1.68, 4.74])  # the prior's 5%, 50%, 95%
def test_aligned_coordinates_keep_pymc_hsgp_prior(n_dates, l_max, excess):
    """The history-aligned coordinates change the sampling geometry, not the prior: the
    graph's process covariance equals PyMC's centred HSGP covariance, computed here from
    ``pm.gp.HSGP`` directly, at the prior's short, median and long length scales."""
    b = hsgp.basis(n_dates, l_max)
    ls = b.floor * (1.0 + excess)
    gp = pm.gp.HSGP(m=[b.m], L=[b.L], cov_func=pm.gp.cov.Matern52(1, ls=ls))
    phi, sqrt_psd = gp.prior_linearized(np.arange(n_dates, dtype=float)[:, None])
    phi = phi.eval()
    phi_c = phi - phi.mean(axis=0)
    reference = (phi_c * sqrt_psd.eval() ** 2) @ phi_c.T
    fr = hsgp.frame(n_dates, l_max)
    k = fr.values.shape[1]
    assert k < b.m  # the centred basis spans fewer directions than it has functions
    np.testing.assert_allclose(fr.values.T @ fr.values, np.eye(k), atol=1e-10)
    np.testing.assert_allclose(fr.values.mean(axis=0), 0.0, atol=1e-10)
    with pm.Model(coords={"batch": np.arange(k)}) as model:
        f = hsgp.latent_processes("t", n_dates, l_max, 1.0, np.float64(excess), "batch")
    jac = f.eval({model["t_z"]: np.eye(k)})  # f is linear in z: its columns span the prior
    # equal up to the dropped directions (< FRAME_TOL of the variance) and the jitter
    np.testing.assert_allclose(jac @ jac.T, reference, atol=1e-5 * reference.max())


# ---------------------------------------------------------------------- graph
def test_graph_has_named_time_varying_parts(panel):
    spec = TV.replace(time_varying_media=["tv"])
    model = build_model(panel, spec)
    dims = model.named_vars_to_dims
    assert dims["tv_intercept"] == ("date", "geo")
    assert dims["media_multiplier"] == ("date", "channel")
    assert "trend" not in model.named_vars
    assert model.coords["tv_process"] == ("tv",)
    # one batched GP: a single coefficient block over all geos, not one GP per geo
    assert dims["tv_intercept_z"] == ("tv_intercept_basis", "geo")
    assert set(parameter_names(panel, spec)) >= {"tv_intercept", "media_multiplier"}


def test_prior_processes_are_centred_and_mean_one(panel):
    model = build_model(panel, TV.replace(time_varying_media=["tv", "social"]))
    tv, mult = pm.draw([model["tv_intercept"], model["media_multiplier"]], draws=20, random_seed=1)
    assert tv.shape == (20, panel.n_dates, len(panel.geos))
    np.testing.assert_allclose(tv.mean(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(mult.mean(axis=1), 1.0, atol=1e-10)
    assert (mult > 0).all()
    search = panel.channels.index("search")
    np.testing.assert_array_equal(mult[..., search], 1.0)  # static channel
    assert mult[..., panel.channels.index("tv")].std() > 0


def test_seasonality_and_baseline_sampled_net_of_the_multiplier_keep_their_prior(panel):
    """``season`` and ``tv_intercept`` are sampled net of the media multiplier's
    first-order effect (a shear): given any multiplier their prior is unchanged. With the
    multiplier's coordinates pinned far from 0, a shear that did not cancel would move
    their prior means by the multiplier's effect."""
    from pytensor.graph.replace import graph_replace

    model = build_model(panel, TV.replace(time_varying_media=True))
    assert {"season_net", "season"} <= set(model.named_vars)
    k = model["tv_media_z"].shape.eval()
    means = []
    for z in (0.0, 3.0):
        pinned = {model["tv_media_z"]: np.full(k, z), model["tv_media_eta"]: np.float64(0.5)}
        season, base, net = graph_replace(
            [model["season"], model["tv_intercept"], model["season_net"]],
            {v: pm.math.constant(x, dtype=v.dtype) for v, x in pinned.items()},
        )
        s, b, n = pm.draw([season, base, net], draws=3000, random_seed=2)
        np.testing.assert_allclose(s.std(axis=0), 0.2, rtol=0.06)  # the prior's sigma
        means.append((s.mean(axis=0), b.mean(axis=0), n.mean(axis=0)))
    for s, b, _ in means:
        assert np.abs(s).max() < 0.02  # 0.2 / sqrt(3000) = 0.004 per coefficient
        assert np.abs(b).max() < 0.02
    # the sampled variable did move: the shear is not vacuous
    assert np.abs(means[1][2] - means[0][2]).max() > 0.05


# ---------------------------------------------------------------------- response
def test_hold_last_repeats_the_last_period():
    x = np.arange(12.0).reshape(2, 3, 2)  # (sample, date, channel)
    out = hold_last(x, 5)
    assert out.shape == (2, 5, 2)
    np.testing.assert_array_equal(out[:, :3], x)
    np.testing.assert_array_equal(out[:, 3:], np.repeat(x[:, -1:], 2, axis=1))
    assert hold_last(x, 3) is x


def test_response_applies_and_holds_the_latent_curves(panel, tiny_draws):
    draws, _ = tiny_draws
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)  # tiny_fit's structure
    rng = np.random.default_rng(0)
    n = len(draws["alpha"])
    mult = np.exp(rng.normal(0, 0.3, (n, panel.n_dates, len(panel.channels))))
    tv = rng.normal(0, 0.05, (n, panel.n_dates, len(panel.geos)))
    design = make_design(panel, spec, tail=3)
    plain = media_response(design.stack, draws, spec)
    moved = media_response(design.stack, {**draws, "media_multiplier": mult}, spec)
    held = np.concatenate([mult, np.repeat(mult[:, -1:], 3, axis=1)], axis=1)
    np.testing.assert_allclose(moved, plain * held[:, :, None, :], rtol=1e-12)
    base = baseline_response(design, draws, spec)
    shifted = baseline_response(design, {**draws, "tv_intercept": tv}, spec)
    np.testing.assert_allclose(shifted[:, -3:] - base[:, -3:], np.repeat(tv[:, -1:], 3, 1))


def test_roi_includes_the_multiplier(panel, tiny_draws):
    draws, shape = tiny_draws
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    n = len(draws["alpha"])
    factor = np.array([0.5, 1.0, 2.0])
    mult = np.broadcast_to(factor, (n, panel.n_dates, 3))
    plain = roi_draws(panel, spec, draws, shape)
    moved = roi_draws(panel, spec, {**draws, "media_multiplier": mult}, shape)
    np.testing.assert_allclose(moved.values, plain.values * factor, rtol=1e-12)


def test_optimizer_plans_with_the_last_multiplier(panel, tiny_draws):
    """The window's revenue equals that of coefficients scaled by the last period's
    multiplier, whatever the multiplier did before."""
    draws, _ = tiny_draws
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    n = len(draws["alpha"])
    last = np.array([0.6, 1.3, 0.9])
    mult = np.exp(np.random.default_rng(1).normal(0, 0.5, (n, panel.n_dates, 3)))
    mult[:, -1] = last
    tv = np.zeros((n, panel.n_dates, len(panel.geos)))
    tv[:, -1] = 0.1
    moved = plain_planner(panel, spec, {**draws, "media_multiplier": mult, "tv_intercept": tv})
    scaled = plain_planner(panel, spec, {**draws, "beta": draws["beta"] * last})
    spend = moved.history_spend
    np.testing.assert_allclose(moved.revenue(spend), scaled.revenue(spend), rtol=1e-10)
    # the baseline over the window holds the last level of the drift
    gap = window_baseline(moved, {**draws, "tv_intercept": tv}) - window_baseline(moved, draws)
    weeks = moved.weeks + spec.l_max - 1
    np.testing.assert_allclose(gap, 0.1 * weeks * panel.scaling.target.sum(), rtol=1e-10)


# ---------------------------------------------------------------------- simulator
def test_drifting_truths_follow_the_model_conventions(make_panel):
    rng = np.random.default_rng(0)
    d = drift.baseline_drift(rng, 120, 3, 0.05)
    np.testing.assert_allclose(d.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.std(axis=0), 0.05)
    assert np.abs(np.diff(d, axis=0)).max() < 0.02  # smooth: small weekly steps
    m = drift.media_seasonality(rng, 120, 2, 0.3)
    np.testing.assert_allclose(m.mean(axis=0), 1.0)
    _, truth, _ = make_panel(media_seasonality=0.3, baseline_drift=0.05)
    _, static, _ = make_panel()
    assert set(truth.params) >= {"tv_intercept", "media_multiplier"}
    assert not np.allclose(truth.roi.values, static.roi.values)


def test_process_contributions_track_the_true_media_contributions(make_panel):
    """The media processes' centring uses each process's typical contribution, estimated
    before sampling from least squares. It needs the right order of magnitude, not
    precision: on a simulated 10-geo panel every channel's estimate is within a factor
    of 3 of the truth's (0.38–1.43 here: the always-on channels are the loose ones), and
    the estimates follow the truth across dates, geos and channels."""
    data, truth, _ = make_panel(n_geos=10, n_weeks=104, n_channels=5, seed=2)
    spec = bm.ModelSpec(time_varying_media=list(data.channels))
    est = process_contributions(data, spec)  # (date, geo, tv_process), scaled target
    assert est.shape == (data.n_dates, len(data.geos), 5) and (est >= 0).all()
    true = truth.contributions.values / data.scaling.target[None, :, None]
    ratio = est.mean(axis=(0, 1)) / true.mean(axis=(0, 1))
    assert ((ratio > 1 / 3) & (ratio < 3.0)).all(), ratio
    assert np.corrcoef(est.ravel(), true.ravel())[0, 1] > 0.7
    shared = process_contributions(data, bm.ModelSpec(time_varying_media=True))
    np.testing.assert_allclose(shared[..., 0], est.sum(axis=-1), rtol=1e-12)


# ---------------------------------------------------------------------- a real fit
@pytest.mark.sampling
def test_tiny_time_varying_fit_runs_end_to_end(make_panel):
    """A real 2 × 100 fit with both processes; analyses and the optimizer see them."""
    data, _, _ = make_panel(n_weeks=60, baseline_drift=0.05, media_seasonality=0.3)
    spec = TV.replace(time_varying_media=True)
    fit = bm.fit(data, spec, draws=100, tune=150, chains=2, random_seed=1, progress=False)
    post = fit.idata["posterior"]
    assert post["media_multiplier"].sizes["date"] == data.n_dates
    np.testing.assert_allclose(post["media_multiplier"].mean("date"), 1.0, atol=1e-8)
    assert np.isfinite(fit.roi()["mean"]).all()
    budget = float(data.spend[-13:].sum())
    plan = fit.optimize(budget=budget, weeks=13, allow_unconverged=True)  # 2 × 100 draws
    assert plan.table["optimal"].sum() == pytest.approx(budget, rel=1e-6)


# ---------------------------------------------------------------------- saved tv fit
@pytest.fixture(scope="module")
def tiny_tv():
    """A real time-varying fit (2 × 100 draws), saved by scripts/make_fixtures.py."""
    return bm.load(Path(__file__).parent / "fixtures" / "tiny_tv")


def test_saved_tv_fit_keeps_its_curves(tiny_tv):
    draws = tiny_tv.draws.values
    n_dates = tiny_tv.posterior.data.n_dates
    assert draws["tv_intercept"].shape[1:] == (n_dates, 3)
    np.testing.assert_allclose(draws["media_multiplier"].mean(axis=1), 1.0, atol=1e-8)
    search = tiny_tv.posterior.data.channels.index("search")
    np.testing.assert_array_equal(draws["media_multiplier"][..., search], 1.0)
    # the baseline the analysis reports moves with the drift, not with a linear trend
    base = tiny_tv.baseline().mean(("chain", "draw"))
    assert float(base.std("date").min()) > 0


def test_plot_shows_baseline_and_tv_multiplier(tiny_tv, tiny_fit):
    fig = plot.time_varying(tiny_tv)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["Baseline drift (all geos)", "Media multiplier: tv"]
    assert plot.time_varying(tiny_fit) is None


def test_report_has_a_time_varying_section_only_when_used(tiny_tv, tiny_fit):
    anchors = [s.anchor for s in build.build_payload(tiny_tv).sections]
    assert "time-varying" in anchors
    section = next(s for s in build.build_payload(tiny_tv).sections if s.anchor == "time-varying")
    assert "the baseline and media effectiveness" in section.intro
    assert "time-varying" not in [s.anchor for s in build.build_payload(tiny_fit).sections]
