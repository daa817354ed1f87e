"""Diagnostics: gates (tree depth), predictive checks, prior shift, holdout, LOO, compare."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bayes_mmm as bm
from bayes_mmm import datachecks
from bayes_mmm import diagnostics as D


def _with_posterior(fit, **changes) -> bm.Fit:
    """The same fit with some posterior variables replaced (same data and spec)."""
    post = fit.idata["posterior"].to_dataset().assign(**changes)
    groups = {k: fit.idata[k].to_dataset() for k in fit.idata.children}
    groups["posterior"] = post
    return bm.Fit(data=fit.data, spec=fit.spec, idata=xr.DataTree.from_dict(groups), meta=fit.meta)


# ---------------------------------------------------------------------- gates
def test_convergence_includes_tree_depth_gate(tiny_fit):
    conv = tiny_fit.convergence
    names = [g.name for g in conv.gates]
    assert names == ["r_hat", "ess_bulk", "divergences", "bfmi", "tree_depth"]
    depth = conv.to_frame().loc["tree_depth"]
    assert depth["value"] == pytest.approx(
        float(tiny_fit.idata["sample_stats"]["maxdepth_reached"].mean())
    )
    assert not conv.passed  # the fixture is unconverged on purpose
    assert {g.name for g in conv.failed} >= {"r_hat"}


def test_tree_depth_saturation_fails_with_remedy(tiny_fit):
    stats_ = tiny_fit.idata["sample_stats"].to_dataset()
    hit = np.zeros(stats_["maxdepth_reached"].shape, bool)
    hit[:, :10] = True  # 10% of draws at max depth
    stats_ = stats_.assign(maxdepth_reached=(("chain", "draw"), hit))
    share = D.tree_depth_share(stats_)
    assert share == pytest.approx(0.1)
    conv = D.convergence(tiny_fit.diagnostics(), 0, 1.0, share)
    gate = conv.to_frame().loc["tree_depth"]
    assert not gate["passed"]
    assert "reparameterise" in gate["remedy"]
    assert "tree_depth" in conv.message()
    # Without the argument the four original gates are unchanged.
    assert len(D.convergence(tiny_fit.diagnostics(), 0, 1.0).gates) == 4


# ---------------------------------------------------------------------- predictive checks
def test_ppc_metrics(tiny_fit):
    table = D.ppc_metrics(tiny_fit)
    assert list(table.index) == ["r2", "mape", "coverage_50", "coverage_90"]
    assert list(table.columns) == ["mean", "median", "lower", "upper"]
    r2, mape = table.loc["r2"], table.loc["mape"]
    assert 0 < r2["lower"] <= r2["mean"] <= r2["upper"] < 1
    assert 0 < mape["lower"] <= mape["mean"] <= mape["upper"] < 0.2
    # A calibrated model covers about the nominal share of observations.
    assert 0.35 < table.loc["coverage_50", "mean"] < 0.65
    assert 0.8 < table.loc["coverage_90", "mean"] <= 1.0
    # Independent check of R² from the posterior-mean fit.
    mu = tiny_fit.expected_target().mean(("chain", "draw")).values
    y = tiny_fit.data.target
    r2_mean = 1 - ((y - mu) ** 2).sum() / ((y - y.mean(axis=0)) ** 2).sum()
    assert r2_mean >= r2["mean"] - 1e-9  # Jensen: the mean fit beats the average draw


def test_crps_matches_normal_closed_form():
    rng = np.random.default_rng(0)
    sigma, obs = 2.0, np.array([0.0, 1.0, -3.0])
    pred = rng.normal(0, sigma, size=(20000, 3))
    z = obs / sigma
    exact = sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(D.crps_draws(pred, obs), exact, rtol=0.03)


def test_prior_posterior_shift(tiny_fit):
    prior = tiny_fit.prior_predictive(samples=200, random_seed=1)
    table = D.prior_posterior_shift(tiny_fit, prior)
    assert {"alpha[tv]", "beta_mu[search]", "sigma[geo_00]"} <= set(table.index)
    assert (table["prior_sd"] > 0).all()
    # Observation noise is pinned down by 60 weeks of data; the Hill slope barely is.
    assert table.loc["sigma[geo_00]", "sd_ratio"] < 0.3
    assert table.loc["sigma[geo_00]", "informed"]
    assert table["sd_ratio"].max() > table["sd_ratio"].min() * 3
    expected = (table["posterior_mean"] - table["prior_mean"]) / table["prior_sd"]
    np.testing.assert_allclose(table["shift"], expected)


# ---------------------------------------------------------------------- holdout
def test_forecast_reproduces_training_fit_on_training_dates(tiny_fit):
    """The scale and trend mapping is exact: on the training dates the forecast equals
    the training fit's own expected target, even though the full panel's scaling differs."""
    train = bm.Fit(
        data=D.truncate(tiny_fit.data, 45),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )
    full = tiny_fit.data
    assert not np.allclose(train.data.scaling.target, full.scaling.target)
    mu = D.forecast_expected(train, full)
    own = train.expected_target().values.reshape(mu.shape[0], 45, -1)
    np.testing.assert_allclose(mu[:, :45], own, rtol=1e-10)
    h = D.holdout_forecast(train, full)
    assert h.weeks == 15 and h.predictive.shape == (2, 100, 15, 3)
    assert set(h.metrics.index) == {"mape", "crps", "crps_rel", "coverage_50", "coverage_90"}
    assert 0 < h.metrics["mape"] < 0.3 and 0 <= h.metrics["coverage_90"] <= 1


def test_holdout_rejects_a_panel_that_does_not_extend_training(tiny_fit):
    with pytest.raises(bm.DataError, match="extend the training panel"):
        D.holdout_forecast(tiny_fit, D.truncate(tiny_fit.data, 30))
    with pytest.raises(bm.DataError, match="weeks=0"):
        D.holdout(tiny_fit.data, tiny_fit.spec, weeks=0)


@pytest.mark.slow
def test_holdout_real_fit_forecasts_unseen_weeks():
    df, _ = bm.simulate(n_geos=3, n_weeks=80, n_channels=3, seed=5)
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        geo="geo",
        media=["tv", "search", "social"],
        controls=["control_1"],
    )
    h = D.holdout(
        data,
        bm.ModelSpec(l_max=4, yearly_seasonality=1),
        weeks=12,
        draws=300,
        tune=300,
        chains=2,
        progress=False,
    )
    assert h.metrics["mape"] < 0.15
    assert h.metrics["coverage_90"] > 0.6


# ---------------------------------------------------------------------- LOO and compare
def test_log_likelihood_matches_expected_target(tiny_fit):
    ll = D.log_likelihood(tiny_fit)
    assert ll.dims == ("chain", "draw", "date", "geo") and ll.shape == (2, 100, 60, 3)
    scale = tiny_fit.data.scaling.target
    mu = tiny_fit.expected_target().isel(chain=1, draw=7).values / scale
    sigma = tiny_fit.idata["posterior"]["sigma"].isel(chain=1, draw=7).values
    y = tiny_fit.idata["observed_data"]["y"].values
    np.testing.assert_allclose(
        ll.isel(chain=1, draw=7), stats.norm.logpdf(y, mu, sigma), rtol=1e-10
    )


def test_compare_ranks_a_worse_noise_model_lower(tiny_fit):
    post = tiny_fit.idata["posterior"]
    worse = _with_posterior(tiny_fit, sigma=post["sigma"] * 3)
    with pytest.warns(UserWarning, match="Pareto k"):
        table = bm.compare({"noise x3": worse, "fitted": tiny_fit})
    assert list(table.index) == ["fitted", "noise x3"]
    assert table.loc["fitted", "elpd_diff"] == 0
    assert table.loc["noise x3", "elpd_diff"] < -50
    assert table.loc["fitted", "n_obs"] == 60 * 3
    assert "per (date, geo) observation" in table.attrs["note"]
    assert not table["converged"].any() and table["verdict"].str.contains("NOT CONVERGED").all()
    assert table.loc["fitted", "fit_s"] == pytest.approx(tiny_fit.meta["wall_s"])
    assert table.loc["fitted", "elpd_loo"] == pytest.approx(float(tiny_fit.loo().elpd))


def test_compare_refuses_fits_of_different_data(tiny_fit):
    other = bm.Fit(
        data=D.truncate(tiny_fit.data, 50),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )
    with pytest.raises(bm.DataError, match="same data"):
        bm.compare({"a": tiny_fit, "b": other})


def test_data_checks_flag_collinear_media(sim_frame):
    df, _ = sim_frame
    noise = np.random.default_rng(0).normal(0, 0.05, len(df))
    df = df.assign(tv_copy=df["tv"] * (1.0 + noise))
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        geo="geo",
        media=["tv", "search", "tv_copy"],
        controls=["control_1"],
    )
    checks = datachecks.data_checks(data)
    assert checks.loc["tv", "flag"] and checks.loc["tv_copy", "flag"]
    assert checks.loc["tv", "most_correlated_with"] == "tv_copy"
    assert checks.loc["tv", "vif"] > 10 * checks.loc["search", "vif"]
    assert not checks.loc["search", "flag"]
