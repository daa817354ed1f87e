"""The simulators: the seed-000 schema (spend groups, organic media, a holiday), true ROI
as the analysis counterfactual at the true parameters, and the seed-003 drivers panel."""

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import analysis
from bayes_mmm.simulate import SEED003_UPSTREAM, simulate_drivers

SEED_COLUMNS = [
    "facebook_spend", "google_spend", "tiktok_spend", "instagram_spend", "snapchat_spend",
    "social_followers", "average_price", "promotions", "emails_send", "sms_send", "revenue",
]  # fmt: skip


def test_simulator_produces_the_seed_schema(seed_panel):
    df, truth, data, _ = seed_panel
    assert {"fb_spend", "google_spend", "yt_organic", "holiday"} <= set(df.columns)
    assert data.spend_groups == ("fb_spend", "google_spend")
    assert data.channel_group[-1] is None  # organic: no spend
    assert list(truth.roi.index) == data.group_labels == ["fb", "google_spend"]
    assert list(truth.contributions.channel.values) == list(data.channels)
    surge = truth.params["event_coef"][:, 0]
    assert surge.shape == (3,) and np.ptp(surge) > 0.01  # one surge size per geo
    # Holiday weeks (around Dec 25 / Jan 1) only.
    months = df.loc[df.holiday > 0, "date"].dt.month.unique()
    assert set(months) <= {12, 1} and df.holiday.sum() > 0


def test_true_group_roi_is_the_analysis_counterfactual_at_the_true_parameters(seed_panel):
    """The simulator's truth and ``analysis.roi_draws`` agree when fed the true parameters:
    shared spend gives one ROI for the group, computed from all its channels."""
    _, truth, data, spec = seed_panel
    resolved = spec.for_channels(data.channels)
    draws = {k: np.asarray(v)[None] for k, v in truth.params.items()}
    # True effects are shares of the geo's size; the model's are shares of its mean revenue.
    draws["beta"] = draws["beta"] * (truth.params["geo_size"] / data.scaling.target)[:, None]
    roi = analysis.roi_draws(data, resolved, draws, (1, 1))
    np.testing.assert_allclose(roi.values[0, 0], truth.roi.to_numpy(), rtol=1e-3)
    # and by hand: the group's channels' revenue over the group's spend
    members = [1, 2, 3]
    total = truth.contributions.sum(("date", "geo")).values
    by_hand = total[members].sum() / data.spend[..., 1].sum()
    assert truth.roi["google_spend"] >= by_hand  # the carryover tail adds revenue
    assert truth.roi["google_spend"] == pytest.approx(by_hand, rel=0.05)


def test_simulated_panel_has_the_seed_columns_and_a_mediation_path(drivers_panel):
    data, _, truth, _ = drivers_panel
    frame, *_ = simulate_drivers(n_weeks=104, seed=11)
    assert set(SEED_COLUMNS) <= set(frame.columns) and len(frame) == 104
    assert data.national
    for u in SEED003_UPSTREAM:
        label = f"{u}->google_spend"
        direct, indirect, total = (truth.loc[f"{label} {e}", "value"] for e in
                                   ("direct", "indirect", "total"))  # fmt: skip
        assert indirect > 0 and total == pytest.approx(direct + indirect)
    assert truth.loc["average_price", "value"] < 0


def test_event_truth_is_on_the_models_scale():
    """``Truth.event_effect`` is what the model's ``event_coef`` means: the revenue added in
    a holiday week as a share of the geo's mean revenue. The truth here comes from the
    frames alone: the same panel simulated with a negligible surge differs only in the
    holiday weeks (same noise), by the surge in revenue units."""
    kwargs = dict(n_geos=3, n_weeks=60, n_controls=0, seed=7)
    df, truth = bm.simulate(holiday_effect=0.3, **kwargs)
    flat, _ = bm.simulate(holiday_effect=1e-9, **kwargs)
    surge = (df["revenue"] - flat["revenue"])[df["holiday"] > 0].groupby(df["geo"]).mean()
    expected = surge / df.groupby("geo")["revenue"].mean()
    np.testing.assert_allclose(truth.event_effect["holiday"], expected, rtol=1e-4)
    # The generator's own scale (a share of the revenue level before media) is another one.
    assert not np.allclose(truth.params["event_coef"][:, 0], expected, rtol=0.02)


def test_shipped_seed000_truth_gives_the_holiday_on_both_scales():
    """``holiday_effect`` × each geo's mean revenue is ``holiday_revenue`` in the shipped
    seed-000 truth."""
    truth = bm.datasets.read_csv("seed000_truth.csv")
    panel = bm.datasets.read_csv("seed000_geo_panel.csv")
    effect = truth[truth.quantity == "holiday_effect"].set_index("name")["value"]
    revenue = truth[truth.quantity == "holiday_revenue"].set_index("name")["value"]
    mean = panel.groupby("GEO")["REVENUE"].mean()
    np.testing.assert_allclose(effect * mean, revenue.loc[effect.index], rtol=1e-9)


def test_alpha_range_changes_the_carryover_alone():
    """``alpha_range`` maps the same uniform draw onto a new range: spend, controls and
    every other true parameter are the default panel's, and the revenue differs only
    through carryover."""
    kwargs = {"n_geos": 2, "n_weeks": 40, "n_channels": 3, "seed": 5}
    df, truth = bm.simulate(**kwargs)
    df0, truth0 = bm.simulate(alpha_range=(0.0, 0.05), **kwargs)
    df_same, truth_same = bm.simulate(alpha_range=(0.1, 0.6), **kwargs)
    alpha, alpha0 = truth.params["alpha"], truth0.params["alpha"]
    # the uniform draw u on (0.1, 0.6) lands at the same relative place in (0, 0.05)
    np.testing.assert_allclose(alpha0, (alpha - 0.1) / 0.5 * 0.05, rtol=1e-12)
    assert ((alpha0 >= 0) & (alpha0 <= 0.05)).all()
    np.testing.assert_allclose(truth_same.params["alpha"], alpha, rtol=1e-12)
    assert df_same.equals(df)  # the declared range itself gives the default panel
    for name in ("ec", "slope", "beta", "intercept", "sigma"):
        np.testing.assert_array_equal(truth0.params[name], truth.params[name])
    media = ["tv", "search", "social", "control_1"]
    pd.testing.assert_frame_equal(df0[media], df[media])
    assert not np.allclose(df0["revenue"], df["revenue"])
    # almost no carryover: the weeks a flighted channel is off earn (almost) nothing,
    # where the default panel's carryover earns them half an on-week's contribution
    off = df0["search"].to_numpy().reshape(40, 2) == 0
    assert off.any()

    def dark_share(t):
        contrib = t.contributions.sel(channel="search").values
        return contrib[off].max() / contrib[~off].mean()

    assert dark_share(truth0) < 0.05 and dark_share(truth) > 0.3


def test_alpha_range_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="alpha_range"):
        bm.simulate(n_geos=1, n_weeks=20, n_channels=2, alpha_range=(0.2, 1.0))
