"""Lift-test calibration: spec values, the implied lift, and a contradicting experiment."""

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm.calibration import LiftTest, implied_lift_draws, lift_table, lift_tests_from_frame


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


def test_a_contradicting_lift_test_moves_the_posterior():
    """Acceptance: an experiment far above the uncalibrated posterior pulls the channel's
    implied lift (and its ROI) to the experiment's value. Two small fits: ~23 s here."""
    df, _ = bm.simulate(n_geos=1, n_weeks=104, n_channels=2, seed=7)
    data = bm.MMMData.from_frame(df, date="date", target="revenue", media=["tv", "search"],
                                 controls=["control_1"])  # fmt: skip
    kw = dict(draws=150, tune=200, chains=2, random_seed=2, progress=False)
    before = bm.fit(data, bm.ModelSpec(yearly_seasonality=1), **kw)
    start, end = data.dates[40], data.dates[59]
    probe = LiftTest("tv", str(start.date()), str(end.date()), 1.0, 1.0)
    prior_mean = float(implied_lift_draws(before, [probe]).mean())
    measured = 2.5 * prior_mean  # the experiment says tv works 2.5× better than the MMM thinks
    test = LiftTest("tv", probe.start, probe.end, measured, 0.08 * measured)
    after = bm.fit(data, bm.ModelSpec(yearly_seasonality=1, lift_tests=[test]), **kw)
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
