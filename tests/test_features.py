"""Per-channel saturation, events / holidays, and the seed-000 simulator options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import analysis, datasets
from bayes_mmm.model import parameter_names
from bayes_mmm.response import baseline_response, make_design, media_response

CHANNELS = ["tv", "search", "social"]
MIXED = {"search": "log", "social": "neg_exp"}


@pytest.fixture(scope="module")
def event_data():
    df, _ = bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3)
    df["xmas"] = ((df.date.dt.month == 12) & (df.date.dt.day >= 18)).astype(float)
    return bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=CHANNELS,
        geo="geo",
        controls=["control_1"],
        events=["xmas"],
    )


def _graph_values(model, names, seed=0):
    """Values of ``names`` at a jittered initial point (so no parameter sits at a default)."""
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    fn = model.compile_fn(
        [model[n] for n in names],
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    return dict(zip(names, fn(point)))


# ---------------------------------------------------------------------- spec
def test_mixed_saturation_spec_roundtrips_and_resolves(tmp_path):
    spec = bm.ModelSpec(saturation=MIXED)
    assert bm.ModelSpec.from_dict(spec.to_dict()) == spec
    spec.to_toml(tmp_path / "s.toml")
    assert bm.ModelSpec.from_toml(tmp_path / "s.toml") == spec
    resolved = spec.for_channels(CHANNELS)
    assert list(resolved.saturation.items()) == [
        ("tv", "hill"),
        ("search", "log"),
        ("social", "neg_exp"),
    ]
    assert resolved.saturation_param_names() == ("ec", "slope", "lam")
    # One kind for every channel collapses to the plain string (default layout).
    assert bm.ModelSpec(saturation={"tv": "log", "search": "log", "social": "log"}).for_channels(
        CHANNELS
    ) == bm.ModelSpec(saturation="log")


def test_bad_saturation_mapping_is_a_spec_error():
    with pytest.raises(bm.SpecError, match="'logistic'"):
        bm.ModelSpec(saturation={"tv": "logistic"})
    with pytest.raises(bm.SpecError, match=r"\['radio'\]"):
        bm.ModelSpec(saturation={"radio": "log"}).for_channels(CHANNELS)


# ---------------------------------------------------------------------- mixed saturation
def test_mixed_saturation_samples_only_the_parameters_each_kind_uses(event_data):
    spec = bm.ModelSpec(saturation=MIXED)
    model = bm.build_model(event_data, spec)
    dims = model.named_vars_to_dims
    assert dims["ec"] == ("hill_channel",) and dims["slope"] == ("hill_channel",)
    assert dims["lam"] == ("lam_channel",)
    assert model.coords["hill_channel"] == ("tv",)
    assert model.coords["lam_channel"] == ("search", "social")
    names = parameter_names(event_data, spec)
    assert {"ec", "slope", "lam"} <= set(names)
    assert "lam" not in parameter_names(event_data, bm.ModelSpec())


@pytest.mark.parametrize("float32, rtol", [(False, 1e-10), (True, 1e-5)])
def test_mixed_saturation_graph_and_numpy_contributions_agree(event_data, float32, rtol):
    spec = bm.ModelSpec(saturation={"tv": "log", "social": "neg_exp"}, float32=float32)
    model = bm.build_model(event_data, spec)  # search: Hill
    names = ["alpha", "ec", "slope", "lam", "beta", "channel_contribution"]
    values = _graph_values(model, names)
    params = {n: values[n][None] for n in names[:-1]}
    resolved = spec.for_channels(event_data.channels)
    numpy_contrib = analysis.channel_contribution_draws(event_data, resolved, params)[0]
    np.testing.assert_allclose(numpy_contrib, values["channel_contribution"], rtol=rtol)
    # Each channel really uses its own kind: log is unbounded, neg_exp and Hill are not.
    design = make_design(event_data, resolved, media=event_data.media * 50)
    big = media_response(design.stack, params, resolved)[0] / params["beta"][0][None]
    ratio = big.max(axis=(0, 1))
    assert ratio[0] > 3.0  # tv, log: keeps growing at 50× typical exposure
    assert ratio[2] < 1.0 / (1.0 - np.exp(-params["lam"][0, 1])) + 1e-9  # neg_exp ceiling


def test_mixed_spec_must_match_the_media():
    spec = bm.ModelSpec(saturation={"tv": "log", "search": "hill"})  # not resolved: 2 of 3
    params = {"alpha": np.full((1, 3), 0.3), "beta": np.ones((1, 1, 3))}
    with pytest.raises(bm.SpecError, match="for_channels"):
        media_response(np.ones((8, 5, 1, 3)), params, spec)


# ---------------------------------------------------------------------- events
def test_events_become_per_geo_hierarchical_baseline_terms(event_data):
    assert event_data.events == ("xmas",)
    assert event_data.event_values.shape == (60, 3, 1)
    spec = bm.ModelSpec()  # float64: exact
    model = bm.build_model(event_data, spec)
    assert model.named_vars_to_dims["event_coef"] == ("geo", "event")
    assert model["event_coef"] in model.free_RVs  # centred: data pin each geo's surge
    assert {"event_coef", "event_mu", "event_sigma"} <= set(parameter_names(event_data, spec))
    names = ["alpha", "ec", "slope", "beta", "intercept", "level", "trend", "season"]
    names += ["control_coef", "event_coef"]
    values = _graph_values(model, names, seed=1)
    params = {n: v[None] for n, v in values.items()}
    assert np.ptp(values["event_coef"]) > 0  # one size per geo
    # The graph derives the intercept so that the mean of the full numpy mean is the level:
    # this holds only if the numpy baseline includes the events exactly as the graph does.
    design = make_design(event_data, spec)
    mean = baseline_response(design, params, spec) + media_response(design.stack, params, spec).sum(
        -1
    )
    np.testing.assert_allclose(mean[0].mean(axis=0), values["level"], rtol=1e-10)
    without = baseline_response(design, {**params, "event_coef": 0 * params["event_coef"]}, spec)
    xmas = event_data.event_values[..., 0] > 0
    diff = (mean[0] - media_response(design.stack, params, spec).sum(-1)[0]) - without[0]
    np.testing.assert_allclose(
        diff[xmas], np.broadcast_to(values["event_coef"][:, 0], diff.shape)[xmas]
    )
    np.testing.assert_allclose(diff[~xmas], 0.0, atol=1e-12)


def test_holiday_calendar_becomes_event_columns(sim_frame):
    df, _ = sim_frame
    calendar = pd.DataFrame(
        {
            "ds": ["2022-12-25", "2023-01-01", "2022-12-25", "2022-11-24", "1999-01-01"],
            "holiday": ["Christmas", "New Year", "Christmas", "Thanksgiving", "New Year"],
            "country": ["US", "US", "DE", "US", "US"],
        }
    )
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=CHANNELS,
        geo="geo",
        holidays=calendar,
        country="US",
    )
    assert data.events == ("holiday:Christmas", "holiday:New Year", "holiday:Thanksgiving")
    hits = {e: data.dates[data.event_values[:, 0, k] > 0] for k, e in enumerate(data.events)}
    # Weekly periods start on Mondays: each holiday lands in the week containing it.
    assert list(hits["holiday:Christmas"]) == [pd.Timestamp("2022-12-19")]
    assert list(hits["holiday:New Year"]) == [pd.Timestamp("2022-12-26")]
    assert list(hits["holiday:Thanksgiving"]) == [pd.Timestamp("2022-11-21")]
    assert (data.event_values == data.event_values[:, :1]).all()  # same in every geo
    with pytest.raises(bm.DataError, match="country='FR'"):
        bm.MMMData.from_frame(
            df,
            date="date",
            target="revenue",
            media=CHANNELS,
            geo="geo",
            holidays=calendar,
            country="FR",
        )


def test_event_column_errors_name_the_column(sim_frame):
    df, _ = sim_frame
    with pytest.raises(bm.DataError, match="'promo'"):
        bm.MMMData.from_frame(
            df, date="date", target="revenue", media=CHANNELS, geo="geo", events=["promo"]
        )
    with pytest.raises(bm.DataError, match="'tv'"):
        bm.MMMData.from_frame(
            df, date="date", target="revenue", media=CHANNELS, geo="geo", events=["tv"]
        )


def test_events_survive_the_dataset_roundtrip(event_data):
    back = bm.MMMData.from_dataset(event_data.to_dataset())
    assert back.events == event_data.events
    np.testing.assert_array_equal(back.event_values, event_data.event_values)
    assert back.data_hash == event_data.data_hash


# ---------------------------------------------------------------------- simulator
SEED_GROUPS = {"fb_spend": ["fb"], "google_spend": ["google", "email", "yt_paid"]}


@pytest.fixture(scope="module")
def seed_sim():
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1, saturation={"email": "log"})
    df, truth = bm.simulate(
        n_geos=3,
        n_weeks=60,
        n_controls=0,
        seed=5,
        spec=spec,
        channels=["fb", "google", "email", "yt_paid"],
        spend_groups=SEED_GROUPS,
        organic=["yt_organic"],
        holiday_effect=0.3,
    )
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        geo="geo",
        media=["fb", "google", "email", "yt_paid"],
        spend={m: g for g, ms in SEED_GROUPS.items() for m in ms},
        organic=["yt_organic"],
        events=["holiday"],
    )
    return df, truth, data, spec


def test_simulator_produces_the_seed_schema(seed_sim):
    df, truth, data, _ = seed_sim
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


def test_true_group_roi_is_the_analysis_counterfactual_at_the_true_parameters(seed_sim):
    """The simulator's truth and ``analysis.roi_draws`` agree when fed the true parameters:
    shared spend gives one ROI for the group, computed from all its channels."""
    _, truth, data, spec = seed_sim
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


@pytest.mark.slow  # ~20 s alone, minutes on a busy 2-core machine (numba compile)
def test_fit_with_mixed_saturation_and_events_roundtrips(seed_sim, tmp_path):
    """A real (tiny, unconverged) fit: ROI per spend group and the bundle keep the events."""
    _, _, data, spec = seed_sim
    fit = bm.fit(data, spec, draws=60, tune=60, chains=1, random_seed=2, progress=False)
    assert fit.spec.saturation == {
        "fb": "hill",
        "google": "hill",
        "email": "log",
        "yt_paid": "hill",
        "yt_organic": "hill",
    }
    roi = fit.roi()
    assert list(roi.index) == ["fb", "google_spend"]
    assert (roi["upper"] > roi["lower"]).all()
    loaded = bm.load(fit.save(tmp_path / "b"))
    assert loaded.data.events == ("holiday",)
    pd.testing.assert_frame_equal(loaded.roi(), roi)
    assert loaded.idata["posterior"]["event_coef"].dims[-2:] == ("geo", "event")


# ---------------------------------------------------------------------- geo groups
@pytest.fixture(scope="module")
def grouped():
    df, _ = bm.simulate(n_geos=4, n_weeks=60, n_channels=3, seed=4)
    df["region"] = df["geo"].map(
        {"geo_00": "north", "geo_01": "north", "geo_02": "south", "geo_03": "south"}
    )
    return df


def test_geo_groups_add_a_non_centred_group_level(grouped):
    data = bm.MMMData.from_frame(
        grouped, date="date", target="revenue", media=CHANNELS, geo="geo", geo_group="region"
    )
    assert data.geo_group == ("north", "north", "south", "south")
    back = bm.MMMData.from_dataset(data.to_dataset())
    assert back.geo_group == data.geo_group and back.data_hash == data.data_hash
    model = bm.build_model(data, bm.ModelSpec())
    assert model.named_vars_to_dims["group_z"] == ("geo_group", "channel")
    assert model.coords["geo_group"] == ("north", "south")
    assert {"group_sigma", "group_z"} <= set(parameter_names(data, bm.ModelSpec()))
    values = _graph_values(
        model, ["beta_mu", "beta_sigma", "beta_z", "group_sigma", "group_z", "beta"]
    )
    log_beta = (
        values["beta_mu"][None]
        + values["group_sigma"][None] * values["group_z"][[0, 0, 1, 1]]
        + values["beta_sigma"][None] * values["beta_z"]
    )
    np.testing.assert_allclose(values["beta"], np.exp(log_beta), rtol=1e-10)
    # Pooled models and panels without groups keep the two-level layout.
    assert "group_z" not in bm.build_model(data, bm.ModelSpec(pooling="pooled")).named_vars
    plain = bm.MMMData.from_frame(grouped, date="date", target="revenue", media=CHANNELS, geo="geo")
    assert "group_z" not in bm.build_model(plain, bm.ModelSpec()).named_vars


def test_geo_group_must_be_constant_within_a_geo(grouped):
    bad = grouped.copy()
    bad.loc[bad.index[5], "region"] = "east" if bad.loc[bad.index[5], "region"] != "east" else "x"
    geo = bad.loc[bad.index[5], "geo"]
    with pytest.raises(bm.DataError, match=f"'region'.*{geo}"):
        bm.MMMData.from_frame(
            bad, date="date", target="revenue", media=CHANNELS, geo="geo", geo_group="region"
        )


# ---------------------------------------------------------------------- population
def test_population_sets_the_target_scale_per_capita(grouped):
    df = grouped.copy()
    pop = {"geo_00": 1e5, "geo_01": 2e5, "geo_02": 5e4, "geo_03": 1e5}
    df["pop"] = df["geo"].map(pop)
    data = bm.MMMData.from_frame(
        df, date="date", target="revenue", media=CHANNELS, geo="geo", population="pop"
    )
    np.testing.assert_allclose(data.population, [pop[g] for g in data.geos])
    per_capita = data.target.sum() / (data.n_dates * data.population.sum())
    np.testing.assert_allclose(data.scaling.target, data.population * per_capita)
    # Scaled target levels are each geo's per-capita revenue relative to the panel.
    levels = (data.target / data.scaling.target).mean(axis=0)
    own = data.target.mean(axis=0) / data.population
    np.testing.assert_allclose(levels, own / per_capita)
    back = bm.MMMData.from_dataset(data.to_dataset())
    np.testing.assert_allclose(back.scaling.target, data.scaling.target)
    assert back.data_hash == data.data_hash
    model = bm.build_model(data, bm.ModelSpec())
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    bad = df.copy()
    bad.loc[bad.index[0], "pop"] = 7.0
    with pytest.raises(bm.DataError, match=r"'pop'.*geo_00"):
        bm.MMMData.from_frame(
            bad, date="date", target="revenue", media=CHANNELS, geo="geo", population="pop"
        )


# ---------------------------------------------------------------------- shipped seed data
def test_shipped_seed000_panel_loads_with_its_spend_groups():
    df = datasets.read_csv("seed000_geo_panel.csv")
    truth = datasets.read_csv("seed000_truth.csv")
    paid = ["FB_IMP", "GOOGLE_IMP", "EMAIL_IMP", "AFF_IMP", "YT_PAID_IMP"]
    spend = {m: "GOOGLE_SPEND" for m in ["GOOGLE_IMP", "EMAIL_IMP", "YT_PAID_IMP"]}
    data = bm.MMMData.from_frame(
        df,
        date="DATE",
        target="REVENUE",
        geo="GEO",
        media=paid,
        spend={**spend, "FB_IMP": "FB_SPEND", "AFF_IMP": "AFF_SPEND"},
        organic=["YT_ORGANIC_IMP"],
        events=["HOLIDAY"],
    )
    assert (len(data.geos), data.n_dates) == (20, 156)
    roi = truth[truth.quantity == "roi"]
    assert list(roi.name) == data.group_labels == ["FB_IMP", "GOOGLE_SPEND", "AFF_IMP"]
    assert (roi.value > 0).all()
    surge = truth[truth.quantity == "holiday_effect"].value
    assert len(surge) == 20 and surge.std() > 0.05  # the surge differs by geo


def test_optimizer_never_gives_organic_media_a_budget(seed_sim):
    """With organic media present, budget goes to spend groups only, and the
    organic channel keeps its history whatever the budget."""
    from bayes_mmm import optimize as opt

    _, truth, data, spec = seed_sim
    spec = spec.for_channels(data.channels)
    draws = {k: np.asarray(v)[None] for k, v in truth.params.items()}
    plan = opt.planner(data, spec, draws, weeks=13)
    assert plan.labels == ["fb", "google_spend"]
    organic = data.channels.index("yt_organic")
    for factor in (0.5, 2.0):
        alloc = opt.allocate(plan, factor * plan.current().sum(), (1, 1))
        assert list(alloc.spend.index) == ["fb", "google_spend"]
        np.testing.assert_allclose(alloc.spend.sum(), factor * plan.current().sum(), rtol=1e-9)
        media = plan.media(plan.current() * factor)
        np.testing.assert_array_equal(media[..., organic], data.media[-13:, :, organic])
