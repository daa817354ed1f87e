"""Holdout: the forecast of unseen periods, its scale and trend mapping, and its scores."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

import bayes_mmm as bm
from bayes_mmm.holdout import forecast_expected, holdout, holdout_forecast


def test_forecast_reproduces_training_fit_on_training_dates(tiny_fit):
    """The scale and trend mapping is exact: on the training dates the forecast equals
    the training fit's own expected target, even though the full panel's scaling differs."""
    train = bm.Fit(
        data=tiny_fit.data.truncate(45),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )
    full = tiny_fit.data
    assert not np.allclose(train.data.scaling.target, full.scaling.target)
    mu = forecast_expected(train, full)
    own = train.expected_target().values.reshape(mu.shape[0], 45, -1)
    np.testing.assert_allclose(mu[:, :45], own, rtol=1e-10)
    h = holdout_forecast(train, full)
    assert h.weeks == 15 and h.predictive.shape == (2, 100, 15, 3)
    assert set(h.metrics.index) == {"mape", "crps", "crps_rel", "coverage_50", "coverage_90"}
    # MAPE of the mean forecast, recomputed from the returned draws.
    mean_forecast = h.expected.mean(("chain", "draw")).values
    mape = np.mean(np.abs(mean_forecast - h.observed.values) / h.observed.values)
    assert h.metrics["mape"] == pytest.approx(mape, rel=1e-12)
    assert h.metrics["mape"] < 0.3
    # Coverage recomputed from the returned draws: the share of observations inside the
    # central 90% interval of the predictive draws.
    pred = h.predictive.values.reshape(-1, 15, 3)
    lo, hi = np.quantile(pred, [0.05, 0.95], axis=0)
    inside = (h.observed.values >= lo) & (h.observed.values <= hi)
    assert h.metrics["coverage_90"] == pytest.approx(inside.mean())


def test_forecast_scales_adstocked_controls_like_the_training_fit(tiny_fit):
    """Adstocked controls of unseen weeks are standardised with the *training* panel's
    centre and scale before they are lagged, so on the training dates the forecast still
    equals the training fit (lagging full-panel-scaled controls shifts every week)."""
    spec = replace(tiny_fit.spec, control_adstock=("control_1",))
    post = tiny_fit.idata["posterior"].to_dataset()
    alpha = xr.DataArray(
        np.full((2, 100, 1), 0.6), dims=("chain", "draw", "adstock_control"), name="control_alpha"
    )
    idata = xr.DataTree.from_dict(
        {
            "posterior": post.assign(control_alpha=alpha),
            "sample_stats": tiny_fit.idata["sample_stats"].to_dataset(),
        }
    )
    train = bm.Fit(data=tiny_fit.data.truncate(45), spec=spec, idata=idata, meta=tiny_fit.meta)
    full = tiny_fit.data
    tsc, fsc = train.data.scaling, full.scaling
    assert not np.allclose(tsc.control_center, fsc.control_center)
    mu = forecast_expected(train, full)
    own = train.expected_target().values.reshape(mu.shape[0], 45, -1)
    np.testing.assert_allclose(mu[:, :45], own, rtol=1e-10)


def test_holdout_rejects_a_panel_that_does_not_extend_training(tiny_fit):
    with pytest.raises(bm.DataError, match="extend the training panel"):
        holdout_forecast(tiny_fit, tiny_fit.data.truncate(30))
    with pytest.raises(bm.DataError, match="weeks=0"):
        holdout(tiny_fit.data, tiny_fit.spec, weeks=0)


@pytest.mark.slow
@pytest.mark.sampling
def test_holdout_real_fit_forecasts_unseen_weeks(make_panel):
    data, _, _ = make_panel(n_weeks=80, seed=5)
    h = holdout(
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
