"""Refresh: the new panel's checks, the change report's flags, and a warm refit."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

import bayes_mmm as bm
from bayes_mmm.refresh import change_report, check_extends, flag_threshold, new_weeks_lift
from bayes_mmm.warmstart import WARM_TUNE, initial_point


def _with_beta(fit, factor: np.ndarray, narrow: float | None = None) -> bm.Fit:
    """``fit``'s draws with each channel's ``beta`` multiplied by ``factor`` (channel,);
    with ``narrow``, the draws' spread around the posterior mean is multiplied by
    ``narrow`` and only the mean by ``factor``."""
    post = fit.idata["posterior"].to_dataset()
    factor = xr.DataArray(factor, dims="channel")
    beta = post["beta"] * factor
    if narrow is not None:
        mean = post["beta"].mean(("chain", "draw"))
        beta = mean * factor + narrow * (post["beta"] - mean)
    idata = xr.DataTree.from_dict(
        {
            "posterior": post.assign(beta=beta),
            "sample_stats": fit.idata["sample_stats"].to_dataset(),
        }
    )
    return bm.Fit(data=fit.data, spec=fit.spec, idata=idata, meta=fit.meta)


def test_the_change_report_flags_only_the_channel_that_moved(tiny_fit):
    """ROI is linear in ``beta``: doubling one channel's ``beta`` moves that
    channel's ROI by its mean (over 3 posterior SDs here), and no other channel's."""
    same = change_report(tiny_fit, tiny_fit)
    np.testing.assert_allclose(same["shift"], 0.0, atol=1e-12)
    assert not same["flagged"].any()
    moved = change_report(tiny_fit, _with_beta(tiny_fit, np.array([1.0, 2.0, 1.0])))
    assert moved["flagged"].tolist() == [False, True, False]
    np.testing.assert_allclose(moved.loc["search", "after"], 2.0 * moved.loc["search", "before"])
    assert moved.loc["search", "shift_sd"] > moved.attrs["flag_sd"]


def test_a_move_inside_the_old_interval_is_flagged_when_new_weeks_narrowed_it(tiny_fit):
    """New weeks that agree with the old posterior move its mean by about
    ``sqrt(var_before - var_after)``. Here every channel's posterior narrows to 0.85 of
    its width (new weeks worth about 40% of the old ones' information) and ``search``
    also moves by 1.5 old posterior SDs, inside the old 90% interval: about 2.8 SDs of a
    consistent move, a conflict of the new weeks with the old posterior, flagged; the
    channels that only narrowed are not."""
    same = change_report(tiny_fit, tiny_fit)
    sd = (same["before_upper"] - same["before_lower"]) / (2 * 1.645)
    step = 1.0 + 1.5 * sd["search"] / same.loc["search", "before"]
    moved = change_report(tiny_fit, _with_beta(tiny_fit, np.array([1.0, step, 1.0]), 0.85))
    assert moved["flagged"].tolist() == [False, True, False]
    half_width = (moved["before_upper"] - moved["before"]).loc["search"]
    assert moved.loc["search", "shift"] < half_width
    assert (moved["shift_sd"].abs().drop("search") < 1.0).all()


def test_a_small_shift_is_not_flagged_when_sampled_variances_hide_the_narrowing(tiny_fit):
    """The first 52 weeks' fit refreshed with 8 more: a move of 0.3 old SDs whose posterior
    did not narrow (as a noisy variance estimate can show) is scored against the narrowing
    8 of 60 periods give, not against the Monte Carlo error alone."""
    old = bm.Fit(
        data=tiny_fit.data.truncate(52),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )
    same = change_report(old, old)
    sd = (same["before_upper"] - same["before_lower"]) / (2 * 1.645)
    step = 1.0 + 0.3 * sd["search"] / same.loc["search", "before"]
    moved = change_report(old, _with_beta(tiny_fit, np.array([1.0, step, 1.0])))
    assert not moved["flagged"].any()
    assert 0.3 < moved.loc["search", "shift_sd"] < 1.5


def test_a_channel_whose_effect_tripled_in_the_new_weeks_is_flagged(tiny_fit, sim_frame):
    """``tiny_fit``'s draws read as a fit of the first 45 weeks; in weeks 46-60 the revenue
    gains twice search's true contribution (its effect tripled there; 15 weeks of 3 geos
    are too few to flag a doubling against this posterior). The lift test of the new weeks
    flags search and nothing else; with the observed revenue it flags nothing."""
    old = bm.Fit(data=tiny_fit.data.truncate(45), spec=tiny_fit.spec, idata=tiny_fit.idata, meta={})
    data = tiny_fit.data
    target = data.target.copy()
    target[45:] += 2.0 * sim_frame[1].contributions.sel(channel="search").values[45:]
    changed = replace(data, target=target)
    threshold = flag_threshold(3)
    same, moved = new_weeks_lift(old, data), new_weeks_lift(old, changed)
    assert (same["lift_sd"].abs() < threshold).all()
    assert moved.loc["search", "lift_sd"] > threshold
    assert (moved["lift_sd"].drop("search").abs() < threshold).all()
    assert moved.loc["search", "lift"] - same.loc["search", "lift"] > 1.0
    refreshed = bm.Fit(data=changed, spec=tiny_fit.spec, idata=tiny_fit.idata, meta={})
    report = change_report(old, refreshed)
    assert report["flagged"].tolist() == [False, True, False]
    assert {"lift", "lift_lower", "lift_upper", "lift_sd"} <= set(report.columns)


@pytest.mark.parametrize("n_channels", [1, 3, 5, 12])
def test_the_flag_threshold_holds_the_family_wise_error(n_channels):
    """With independent standard normal scores, some channel is flagged 9-10% of the
    time, whatever the number of channels."""
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((200_000, n_channels))
    any_flag = (np.abs(scores) > flag_threshold(n_channels)).any(axis=1).mean()
    assert 0.088 < any_flag < 0.102


def test_a_refresh_panel_must_extend_the_old_one(tiny_fit, make_panel):
    data = tiny_fit.data
    check_extends(data.truncate(40), data)  # new weeks appended: fine
    with pytest.raises(bm.DataError, match="must start with"):
        check_extends(data, data.truncate(40))
    other, _, _ = make_panel(n_geos=4)
    with pytest.raises(bm.DataError, match="geos"):
        check_extends(data, other)


def test_initial_point_is_the_posterior_mean(tiny_fit):
    point = initial_point(tiny_fit)
    beta = tiny_fit.idata["posterior"]["beta"].values
    np.testing.assert_allclose(point["beta"], beta.mean(axis=(0, 1)))


@pytest.mark.sampling
def test_a_warm_refresh_refits_and_stores_its_report(tmp_path, make_panel):
    data, _, _ = make_panel(n_weeks=60, seed=3)
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        old = bm.fit(data.truncate(48), spec, draws=100, tune=200, chains=2, random_seed=1)
        new = old.refresh(data, random_seed=2, progress=False)
    assert new.meta["init"] == "warm" and new.meta["tune"] == WARM_TUNE
    assert new.data.n_dates == 60
    table = new.refresh_report()
    assert list(table.index) == list(data.group_labels)
    assert new.meta["refresh"]["new_dates"] == 12
    # the report travels with the bundle
    again = bm.load(new.save(tmp_path / "refreshed"))
    assert again.refresh_report().equals(table)


@pytest.mark.sampling
def test_a_warm_start_begins_in_the_old_posterior(tiny_fit):
    """With 10 tuning steps a chain started at the posterior mean is already where the
    old posterior is: every draw of the intercept lies within its range widened by
    half its width."""
    from bayes_mmm.warmstart import warm_sample

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        warm = warm_sample(tiny_fit, tiny_fit.data, tune=10, draws=10, chains=2, random_seed=3)
    assert warm.meta["init"] == "warm" and warm.meta["tune"] == 10
    old = tiny_fit.idata["posterior"]["intercept"].values.reshape(-1, 3)
    lo, hi = old.min(axis=0), old.max(axis=0)
    pad = 0.5 * (hi - lo)
    new = warm.idata["posterior"]["intercept"].values.reshape(-1, 3)
    assert ((new >= lo - pad) & (new <= hi + pad)).all()
