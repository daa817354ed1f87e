"""Predictive checks: R², MAPE, coverage, CRPS and the prior-to-posterior shift."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import stats

from bayes_mmm import ppc


def test_ppc_metrics(tiny_fit):
    table = ppc.ppc_metrics(tiny_fit)
    assert list(table.index) == ["r2", "mape", "coverage_50", "coverage_90"]
    assert list(table.columns) == ["mean", "median", "lower", "upper"]
    r2, mape = table.loc["r2"], table.loc["mape"]
    assert 0 < r2["lower"] <= r2["mean"] <= r2["upper"] < 1
    assert 0 < mape["lower"] <= mape["mean"] <= mape["upper"] < 0.2
    # R² (SS_tot around each geo's mean) and MAPE per draw of the expected target.
    y = tiny_fit.data.target
    mu_draws = tiny_fit.expected_target().values.reshape(-1, *y.shape)
    r2_draws = 1 - ((mu_draws - y) ** 2).sum(axis=(1, 2)) / ((y - y.mean(axis=0)) ** 2).sum()
    mape_draws = (np.abs(mu_draws - y) / np.abs(y)).mean(axis=(1, 2))
    assert r2["mean"] == pytest.approx(r2_draws.mean(), rel=1e-12)
    assert r2["median"] == pytest.approx(np.median(r2_draws), rel=1e-12)
    assert mape["mean"] == pytest.approx(mape_draws.mean(), rel=1e-12)
    # Coverage: the share of observations inside the central interval of the posterior
    # predictive draws (seed 0, the default).
    pred = tiny_fit.posterior_predictive(random_seed=0).values.reshape(-1, *y.shape)
    for prob in (0.5, 0.9):
        lo, hi = np.quantile(pred, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        share = ((y >= lo) & (y <= hi)).mean()
        assert table.loc[f"coverage_{round(prob * 100)}", "mean"] == pytest.approx(share)
    # A calibrated model covers about the nominal share of observations.
    assert 0.35 < table.loc["coverage_50", "mean"] < 0.65
    assert 0.8 < table.loc["coverage_90", "mean"] <= 1.0
    # Independent check of R² from the posterior-mean fit.
    mu = tiny_fit.expected_target().mean(("chain", "draw")).values
    r2_mean = 1 - ((y - mu) ** 2).sum() / ((y - y.mean(axis=0)) ** 2).sum()
    assert r2_mean >= r2["mean"] - 1e-9  # Jensen: the mean fit beats the average draw


def test_crps_matches_normal_closed_form():
    rng = np.random.default_rng(0)
    sigma, obs = 2.0, np.array([0.0, 1.0, -3.0])
    pred = rng.normal(0, sigma, size=(20000, 3))
    z = obs / sigma
    exact = sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(ppc.crps_draws(pred, obs), exact, rtol=0.03)


@pytest.mark.sampling
def test_prior_posterior_shift(tiny_fit, caplog, recwarn):
    with caplog.at_level(logging.INFO):
        prior = tiny_fit.prior_predictive(samples=200, random_seed=1)
    # PyMC's "Sampling: [...]" line and numba's object-mode note stay out of user output
    assert not [r for r in caplog.records if r.getMessage().startswith("Sampling")]
    assert not [w for w in recwarn if "object mode" in str(w.message)]
    table = ppc.prior_posterior_shift(tiny_fit, prior)
    assert {"alpha[tv]", "beta_mu[search]", "sigma[geo_00]"} <= set(table.index)
    assert (table["prior_sd"] > 0).all()
    # Observation noise is pinned down by 60 weeks of data; the Hill slope barely is.
    assert table.loc["sigma[geo_00]", "sd_ratio"] < 0.3
    assert table.loc["sigma[geo_00]", "informed"]
    assert table["sd_ratio"].max() > table["sd_ratio"].min() * 3
    expected = (table["posterior_mean"] - table["prior_mean"]) / table["prior_sd"]
    np.testing.assert_allclose(table["shift"], expected)
