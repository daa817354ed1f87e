"""Forecasts of future frames: validation, carryover from the history, tables and scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import reference_mmm as ref
import xarray as xr

import bayes_mmm as bm
from bayes_mmm.forecast import (
    compare_scenarios,
    forecast_draws,
    future_panel,
    next_dates,
    predict,
)
from bayes_mmm.holdout import forecast_expected

N_TRAIN = 45


@pytest.fixture(scope="module")
def train(tiny_fit):
    """``tiny_fit``'s draws read as a fit of the panel's first 45 weeks."""
    return bm.Fit(
        data=tiny_fit.data.truncate(N_TRAIN),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )


@pytest.fixture(scope="module")
def future(sim_frame):
    """The simulated frame's weeks 46–60 (with their observed revenue)."""
    frame = sim_frame[0]
    dates = sorted(frame["date"].unique())
    return frame[frame["date"] > dates[N_TRAIN - 1]].reset_index(drop=True)


def test_forecast_equals_the_full_panel_path(train, tiny_fit, future):
    """The future weeks appended to the history give the same draws as the full panel's
    design: the history's carryover and the trend run on into the new weeks."""
    fc = forecast_draws(train, future)
    full = forecast_expected(train, tiny_fit.data)[:, N_TRAIN:]
    np.testing.assert_allclose(fc.expected.values.reshape(full.shape), full, rtol=1e-10)
    assert fc.predictive.dims == ("chain", "draw", "date", "geo")
    assert fc.contributions.sizes["channel"] == 3


def test_history_carryover_flows_into_weeks_without_media(train, future):
    """With no future media, contributions are positive for the first ``l_max - 1`` weeks
    (the history's adstock), decrease, and are exactly zero afterwards."""
    quiet = future.assign(tv=0.0, search=0.0, social=0.0)
    contrib = forecast_draws(train, quiet).contributions.mean(("chain", "draw"))
    total = contrib.sum(("geo", "channel")).values
    l_max = train.spec.l_max
    assert (total[: l_max - 1] > 0).all()
    assert (np.diff(total[: l_max - 1]) < 0).all()
    np.testing.assert_array_equal(total[l_max - 1 :], 0.0)


def test_predict_table_has_both_intervals_and_covers_the_truth(train, future):
    table = predict(train, future, hdi_prob=0.9)
    assert len(table) == 15 * 3
    assert {"mean", "lower", "upper", "pred_lower", "pred_upper", "observed"} <= set(table)
    assert {f"contribution_{c}" for c in ("tv", "search", "social")} <= set(table)
    assert (table["pred_lower"] <= table["lower"]).all()
    assert (table["lower"] <= table["mean"]).all() and (table["mean"] <= table["upper"]).all()
    inside = (table["observed"] >= table["pred_lower"]) & (table["observed"] <= table["pred_upper"])
    assert inside.mean() > 0.6
    ds = predict(train, future, as_xarray=True)
    assert set(ds.data_vars) == {"expected", "predictive", "contribution", "observed"}


def test_more_media_forecasts_more_revenue_with_probability(train, future):
    more = future.assign(tv=future["tv"] * 2.0, search=future["search"] * 2.0)
    cmp = compare_scenarios(train, {"plan": future, "double": more})
    t = cmp.table
    assert cmp.reference == "plan" and np.isnan(t.loc["plan", "prob_better"])
    assert t.loc["plan", "uplift"] == 0.0
    assert t.loc["double", "uplift"] > 0 and t.loc["double", "prob_better"] > 0.9
    assert t.loc["double", "uplift_lower"] <= t.loc["double", "uplift"]
    assert t.loc["double", "spend"] > t.loc["plan", "spend"]
    # The window's revenue plus the carryover tail: at least the window's expected target.
    window = forecast_draws(train, more).expected.sum(("date", "geo"))
    assert (cmp.revenue.sel(scenario="double") >= window - 1e-9).all()


def test_a_shifted_plans_uplift_is_the_reference_models(train, future, sim_frame):
    """With known media parameters (every draw the same), the uplift of a plan with 1.5×
    the media is the independent reference's: its contributions with the shifted media in
    the future weeks minus those with the observed media, on the training panel's scales,
    summed over the future weeks and the ``l_max - 1`` weeks of carryover after them."""
    truth = sim_frame[1]
    media = {k: np.asarray(truth.params[k], dtype=float) for k in ("alpha", "ec", "slope")}
    media["beta"] = np.asarray(truth.params["beta"], dtype=float)
    known = _with_media_params(train, media)
    shifted = future.copy()
    shifted[["tv", "search", "social"]] *= 1.5
    uplift = compare_scenarios(known, {"plan": future, "shifted": shifted}).uplift
    full = np.concatenate([train.data.media, future_panel(train.data, future).media])
    moved = full.copy()
    moved[N_TRAIN:] *= 1.5
    scales = {
        "scale_t": ref.target_scale(train.data.target),
        "scale_m": ref.media_scale(train.data.media),
    }
    l_max = train.spec.l_max
    base = ref.contributions(full, params=media, l_max=l_max, tail=l_max - 1, **scales)
    new = ref.contributions(moved, params=media, l_max=l_max, tail=l_max - 1, **scales)
    truth_uplift = (new - base)[N_TRAIN:].sum()
    np.testing.assert_allclose(uplift.sel(scenario="shifted").values, truth_uplift, rtol=1e-9)


def _with_media_params(fit, values: dict) -> bm.Fit:
    """``fit`` with every draw's ``alpha``, ``ec``, ``slope`` and ``beta`` set to ``values``."""
    post = fit.idata["posterior"].to_dataset()
    new = {
        k: xr.full_like(post[k], 0.0) + xr.DataArray(v, dims=post[k].dims[2:])
        for k, v in values.items()
    }
    idata = xr.DataTree.from_dict(
        {"posterior": post.assign(new), "sample_stats": fit.idata["sample_stats"].to_dataset()}
    )
    return bm.Fit(data=fit.data, spec=fit.spec, idata=idata, meta=fit.meta)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f.drop(columns=["search"]), r"lacks columns \['search'\]"),
        (lambda f: f.drop(columns=["control_1"]), "controls='last'"),
        (lambda f: f.assign(date=f["date"] - np.timedelta64(7, "D")), "on or before"),
        (lambda f: f[f["date"] != f["date"].min()], "continue the history at its frequency W-MON"),
        (lambda f: f.assign(geo=f["geo"].replace("geo_01", "geo_99")), "never saw"),
        (lambda f: f[f["geo"] != "geo_02"], "lacks .date, geo. rows"),
        (lambda f: f.assign(tv=-1.0), "'tv'.*negative"),
        (lambda f: f.assign(control_1=np.nan), "'control_1'"),
        (lambda f: f.iloc[[0, *range(len(f))]], "repeats"),
    ],
)
def test_bad_future_frames_name_the_fix(train, future, change, match):
    with pytest.raises(bm.DataError, match=match):
        future_panel(train.data, change(future))


def test_unknown_controls_held_at_last_value_or_mean(train, future):
    panel = future_panel(train.data, future.drop(columns=["control_1"]), controls="last")
    last = train.data.control_values[-1, :, 0]
    np.testing.assert_array_equal(panel.control_values[..., 0], np.tile(last, (15, 1)))
    panel = future_panel(train.data, future.drop(columns=["control_1"]), controls="mean")
    mean = train.data.control_values.mean(axis=0)[:, 0]
    np.testing.assert_allclose(panel.control_values[0, :, 0], mean)


def test_monthly_history_continues_on_month_starts(make_panel):
    """Months differ in length: the next periods are calendar month starts."""
    data, _, _ = make_panel(n_weeks=24, prepare=_monthly)
    assert data.freq == "MS"
    nxt = next_dates(data, 3)
    assert [d.day for d in nxt] == [1, 1, 1]
    assert nxt[0] == data.dates[-1] + pd.offsets.MonthBegin(1)


def _monthly(df):
    dates = sorted(df["date"].unique())
    month = dict(zip(dates, pd.date_range("2020-01-01", periods=len(dates), freq="MS")))
    return df.assign(date=df["date"].map(month))
