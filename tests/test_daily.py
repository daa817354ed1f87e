"""Daily panels: frequency detected from the dates, a day-of-week cycle in the baseline,
gaps refused, and (slow) recovery on a simulated daily panel."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_mmm import DataError
from bayes_mmm.data import MMMData
from bayes_mmm.model import coords, parameter_names
from bayes_mmm.response import make_design
from bayes_mmm.simulate_daily import (
    DOW_PATTERN,
    daily_columns,
    simulate_daily,
    weekday_band,
    weekday_effect,
)
from bayes_mmm.spec import ModelSpec

SPEC = ModelSpec(l_max=14, trend=False, yearly_seasonality=0)


@pytest.fixture(scope="module")
def daily():
    frame, truth = simulate_daily(n_geos=2, n_days=120, n_channels=2, l_max=14, seed=3)
    return frame, truth, MMMData.from_frame(frame, **daily_columns(2))


def test_daily_panel_gets_a_weekday_cycle_and_weekly_does_not(daily, tiny_fit):
    _, _, data = daily
    assert data.freq == "D"
    assert "weekday" in parameter_names(data, SPEC)
    assert len(coords(data, SPEC)["weekday_fourier"]) == 6
    assert make_design(data, SPEC).weekday.shape == (120, 6)
    weekly = tiny_fit.posterior.data
    assert "weekday" not in parameter_names(weekly, tiny_fit.posterior.spec)
    assert make_design(weekly, tiny_fit.posterior.spec).weekday is None
    off = ModelSpec(l_max=14, trend=False, yearly_seasonality=0, weekday_seasonality=0)
    assert "weekday" not in parameter_names(data, off)


def test_weekday_basis_spans_every_day_of_week_pattern(daily):
    """Any zero-mean pattern over the 7 weekdays is a combination of the 6 features."""
    _, _, data = daily
    features = make_design(data, SPEC).weekday
    rng = np.random.default_rng(0)
    pattern = rng.normal(size=7)
    pattern -= pattern.mean()
    target = pattern[data.dates.dayofweek]
    coef, *_ = np.linalg.lstsq(features, target, rcond=None)
    np.testing.assert_allclose(features @ coef, target, atol=1e-10)


def test_weekday_effect_reads_back_the_true_pattern(daily):
    _, truth, data = daily
    coef = np.linalg.lstsq(
        make_design(data, SPEC).weekday,
        DOW_PATTERN[data.dates.dayofweek] - DOW_PATTERN.mean(),
        rcond=None,
    )[0]
    got = weekday_effect(data, {"weekday": coef[None]})[0]
    np.testing.assert_allclose(got, truth.weekday.to_numpy() - DOW_PATTERN.mean(), atol=1e-10)


def test_a_missing_day_is_named(daily):
    frame, _, _ = daily
    gap = frame[frame["day"] != frame["day"].iloc[40]]
    with pytest.raises(DataError, match="not evenly spaced"):
        MMMData.from_frame(gap, **daily_columns(2))


def test_weekday_seasonality_is_checked():
    from bayes_mmm.errors import SpecError

    with pytest.raises(SpecError, match="weekday_seasonality"):
        ModelSpec(weekday_seasonality=4)


@pytest.mark.slow  # a real daily fit: many minutes on a busy 2-core machine
@pytest.mark.sampling
def test_daily_recovery_covers_roi_and_weekday_pattern():
    import bayes_mmm as bm

    frame, truth = simulate_daily(n_geos=3, n_days=365, n_channels=2, l_max=14, seed=0)
    data = MMMData.from_frame(frame, **daily_columns(2))
    fit = bm.fit(data, SPEC, random_seed=1, progress=False)  # the defaults: 4 × 1,000
    assert fit.posterior.converged
    roi = fit.roi()
    for channel, value in truth.roi.items():
        assert roi.loc[channel, "lower"] <= value <= roi.loc[channel, "upper"]
    lower, upper = weekday_band(weekday_effect(data, fit.posterior.draws[0]))
    centred = truth.weekday.to_numpy() - DOW_PATTERN.mean()
    assert np.all((lower <= centred) & (centred <= upper))
    assert not np.all((lower <= 0) & (0 <= upper)), "a flat week also fits: no pattern found"


def test_weekday_band_covers_a_calibrated_pattern_jointly():
    rng = np.random.default_rng(0)
    # posterior draws centred on a noisy estimate of the truth (0): calibrated by construction
    hits = []
    for _ in range(400):
        centre = rng.normal(size=7)
        lower, upper = weekday_band(centre + rng.normal(size=(2000, 7)))
        hits.append(np.all((lower <= 0) & (0 <= upper)))
    assert np.mean(hits) >= 0.88  # Bonferroni: at least 0.9 up to Monte Carlo error
    # seven separate 90% intervals would cover all seven days about 0.9**7 = 48% of the time
