"""Calibration: the implied lift of a test window, a contradicting experiment that moves
the posterior, and a prior on ROI that the posterior follows."""

import warnings

import numpy as np
import pandas as pd
import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm.calibration import LiftTest, implied_lift_draws, lift_table, lift_tests_from_frame

KW = dict(draws=150, tune=200, chains=2, random_seed=2, progress=False)


@pytest.fixture(scope="module")
def national(make_panel):
    """A national 2-channel panel (true ROI: tv 0.72, search 1.38) and its uncalibrated fit."""
    data, truth, _ = make_panel(n_geos=1, n_weeks=104, n_channels=2, seed=7, geo=None)
    return data, truth, bm.fit(data, bm.ModelSpec(yearly_seasonality=1), **KW)


def test_implied_lift_is_the_contribution_over_the_test(tiny_fit):
    d = tiny_fit.data
    start, end = d.dates[10], d.dates[19]
    test = LiftTest("search", str(start.date()), str(end.date()), 1.0, 1.0, (d.geos[1],))
    got = implied_lift_draws(tiny_fit, [test])
    contrib = tiny_fit.contributions().sel(channel="search", geo=d.geos[1])
    expect = contrib.sel(date=slice(start, end)).sum("date")
    np.testing.assert_allclose(got.values[..., 0], expect.values, rtol=1e-10)
    # a table read from a frame gives the same tests
    frame = pd.DataFrame([{"channel": "search", "start": start, "end": end, "lift": 1.0,
                           "se": 1.0, "geo": d.geos[1]}])  # fmt: skip
    assert lift_tests_from_frame(frame) == (test,)


def test_lift_table_with_before_warns_nothing(tiny_fit):
    """The before/after table joins its columns without a pandas deprecation warning."""
    d = tiny_fit.data
    test = LiftTest("search", str(d.dates[10].date()), str(d.dates[19].date()), 1.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = lift_table(tiny_fit, before=tiny_fit, tests=[test])
    assert {"mean", "mean_before", "covers_before"} <= set(table.columns)
    np.testing.assert_allclose(table["mean"], table["mean_before"])


@pytest.mark.sampling
def test_a_contradicting_lift_test_moves_the_posterior(national):
    """Acceptance: an experiment far above the uncalibrated posterior pulls the channel's
    implied lift (and its ROI) to the experiment's value. Two small fits: ~23 s here."""
    data, _, before = national
    start, end = data.dates[40], data.dates[59]
    probe = LiftTest("tv", str(start.date()), str(end.date()), 1.0, 1.0)
    prior_mean = float(implied_lift_draws(before, [probe]).mean())
    measured = 2.5 * prior_mean  # the experiment says tv works 2.5× better than the MMM thinks
    test = LiftTest("tv", probe.start, probe.end, measured, 0.08 * measured)
    after = bm.fit(data, bm.ModelSpec(yearly_seasonality=1, lift_tests=[test]), **KW)
    table = lift_table(after, before=before, hdi_prob=0.9)
    row = table.iloc[0]
    assert not row["covers_before"] and row["upper_before"] < measured
    assert row["covers"]
    # the ROI over the test window covers the experiment's ROI
    spend = data.spend[40:60, :, 0].sum()
    roi_window = implied_lift_draws(after) / spend
    lo, hi = np.quantile(roi_window.values, [0.05, 0.95])
    assert lo <= measured / spend <= hi
    assert after.roi().loc["tv", "mean"] > 1.5 * before.roi().loc["tv", "mean"]


# ---------------------------------------------------------------------- ROI priors
@pytest.mark.sampling
def test_posterior_roi_follows_a_tight_roi_prior(national):
    """A tight ROI prior at 2.5 on tv moves the wide uncalibrated posterior ROI there and
    narrows it (one small fit, ~12 s)."""
    data, truth, before = national
    target = 2.5
    b = before.roi(hdi_prob=0.9).loc["tv"]
    assert truth.roi["tv"] < 1.0 and abs(b["mean"] - target) > 0.3  # data alone: elsewhere
    spec = bm.ModelSpec(
        yearly_seasonality=1, roi_priors={"tv": Prior("LogNormal", mu=np.log(target), sigma=0.05)}
    )
    after = bm.fit(data, spec, **KW)
    a = after.roi(hdi_prob=0.9).loc["tv"]
    assert a["lower"] <= target <= a["upper"]
    assert abs(a["mean"] - target) < 0.2 * abs(b["mean"] - target)
    assert a["upper"] - a["lower"] < 0.25 * (b["upper"] - b["lower"])
    post = after.idata["posterior"]["roi_tv"]
    np.testing.assert_allclose(after.roi_draws().sel(channel="tv").values, post.values, rtol=1e-9)
