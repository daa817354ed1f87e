"""Lift-test calibration and ROI priors: spec values, the implied lift, a contradicting
experiment, and a prior on ROI that the posterior follows."""

import numpy as np
import pymc as pm
import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm.analysis import roi_draws
from bayes_mmm.calibration import LiftTest, implied_lift_draws, lift_table, lift_tests_from_frame
from bayes_mmm.model import parameter_names
from bayes_mmm.posterior import posterior_draws

KW = dict(draws=150, tune=200, chains=2, random_seed=2, progress=False)


@pytest.fixture(scope="module")
def national():
    """A national 2-channel panel (true ROI: tv 0.72, search 1.38) and its uncalibrated fit."""
    df, truth = bm.simulate(n_geos=1, n_weeks=104, n_channels=2, seed=7)
    data = bm.MMMData.from_frame(df, date="date", target="revenue", media=["tv", "search"],
                                 controls=["control_1"])  # fmt: skip
    return data, truth, bm.fit(data, bm.ModelSpec(yearly_seasonality=1), **KW)


def test_lift_tests_are_spec_values_that_round_trip():
    spec = bm.ModelSpec(
        lift_tests=[
            {
                "channel": "tv",
                "start": "2022-03-07",
                "end": "2022-04-25",
                "lift": 1e5,
                "se": 1e4,
                "geos": ["geo_00"],
            }
        ]
    )
    assert spec.lift_tests[0] == LiftTest("tv", "2022-03-07", "2022-04-25", 1e5, 1e4, ("geo_00",))
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    with pytest.raises(bm.SpecError, match="se > 0"):
        LiftTest("tv", "2022-03-07", "2022-04-25", 1e5, 0.0)
    with pytest.raises(bm.SpecError, match="before start"):
        LiftTest("tv", "2022-04-25", "2022-03-07", 1e5, 1.0)


def test_implied_lift_is_the_contribution_over_the_test(tiny_fit):
    d = tiny_fit.data
    start, end = d.dates[10], d.dates[19]
    test = LiftTest("search", str(start.date()), str(end.date()), 1.0, 1.0, (d.geos[1],))
    got = implied_lift_draws(tiny_fit, [test])
    contrib = tiny_fit.contributions().sel(channel="search", geo=d.geos[1])
    expect = contrib.sel(date=slice(start, end)).sum("date")
    np.testing.assert_allclose(got.values[..., 0], expect.values, rtol=1e-10)
    # a table read from a frame gives the same tests
    import pandas as pd

    frame = pd.DataFrame([{"channel": "search", "start": start, "end": end, "lift": 1.0,
                           "se": 1.0, "geo": d.geos[1]}])  # fmt: skip
    assert lift_tests_from_frame(frame) == (test,)


def test_lift_tests_must_fall_in_the_data(tiny_fit):
    spec = bm.ModelSpec(lift_tests=[LiftTest("tv", "1990-01-01", "1990-02-01", 1.0, 1.0)])
    with pytest.raises(bm.SpecError, match="covers no period"):
        bm.build_model(tiny_fit.data, spec)
    spec = bm.ModelSpec(lift_tests=[LiftTest("radio", "2022-01-01", "2022-02-01", 1.0, 1.0)])
    with pytest.raises(bm.SpecError, match="radio"):
        bm.build_model(tiny_fit.data, spec)


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
def test_roi_priors_round_trip_and_name_paid_channels(national):
    data = national[0]
    spec = bm.ModelSpec(roi_priors={"tv": Prior("LogNormal", mu=0.5, sigma=0.2)})
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    assert bm.ModelSpec.from_dict(spec.to_dict()).roi_priors == spec.roi_priors
    assert (
        "roi_priors" not in bm.ModelSpec().to_dict()
    )  # specs without ROI priors serialise without the key
    with pytest.raises(bm.SpecError, match="Prior"):
        bm.ModelSpec(roi_priors={"tv": 2.0})
    with pytest.raises(bm.SpecError, match="'radio', which is not a channel"):
        bm.build_model(data, bm.ModelSpec(roi_priors={"radio": Prior("LogNormal")}))
    df, _ = bm.simulate(n_geos=1, n_weeks=60, n_channels=2, seed=7)
    organic = bm.MMMData.from_frame(df, date="date", target="revenue", media=["tv"],
                                    organic=["search"])  # fmt: skip
    with pytest.raises(bm.SpecError, match="organic channel"):
        bm.build_model(organic, bm.ModelSpec(roi_priors={"search": Prior("LogNormal")}))
    shared = bm.MMMData.from_frame(df, date="date", target="revenue", media=["tv", "search"],
                                   spend={"tv": "tv", "search": "tv"})  # fmt: skip
    with pytest.raises(bm.SpecError, match="pays for several"):
        bm.build_model(shared, bm.ModelSpec(roi_priors={"tv": Prior("LogNormal")}))


@pytest.mark.parametrize("panel", ["national", "geo"])
def test_roi_prior_is_the_roi_of_analysis(national, tiny_fit, panel):
    """Prior draws: the ROI that ``analysis.roi_draws`` computes from the derived ``beta`` is
    the sampled ``roi_tv`` draw by draw (carryover tail included), centred where asked; on a
    geo panel the channel-level ROI is exact while geo coefficients keep their spread."""
    data = national[0] if panel == "national" else tiny_fit.data
    tight = Prior("LogNormal", mu=np.log(3.0), sigma=0.1)
    spec = bm.ModelSpec(yearly_seasonality=1, roi_priors={"tv": tight})
    spec = spec.for_channels(data.channels)
    prior = pm.sample_prior_predictive(draws=300, model=bm.build_model(data, spec), random_seed=1)
    prior = prior["prior"].to_dataset()
    draws, shape = posterior_draws(prior, [n for n in parameter_names(data, spec) if n in prior])
    roi = roi_draws(data, spec, draws, shape).sel(channel="tv")
    np.testing.assert_allclose(roi.values, prior["roi_tv"].values, rtol=1e-9)
    assert float(roi.median()) == pytest.approx(3.0, rel=0.03)
    if panel == "geo":
        tv = draws["beta"][..., data.channels.index("tv")]  # (sample, geo)
        assert np.std(tv / tv.mean(axis=1, keepdims=True)) > 0.01
    # search has no ROI prior: its ROI still follows from its coefficient prior
    assert float(roi_draws(data, spec, draws, shape).sel(channel="search").std()) > 0.1


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
