"""``MMMData``: building a panel from a frame, its scaling, round trips, spend groups,
events and holidays, geo groups, population, and the errors that name the bad input."""

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm

MEDIA = ["tv", "search", "social"]


@pytest.fixture
def frame(sim_frame):
    return sim_frame[0].copy()


def make(df, **kw):
    args = dict(date="date", target="revenue", media=MEDIA, geo="geo", controls=["control_1"])
    args.update(kw)
    return bm.MMMData.from_frame(df, **args)


def test_roundtrip_shapes_and_scaling(frame):
    data = make(frame)
    assert data.media.shape == (60, 3, 3)
    assert data.target.shape == (60, 3)
    assert data.freq.startswith("W")
    sc = data.scaling
    # scaled media has mean 1 over non-zero weeks in every (geo, channel)
    x = data.media / sc.media[None]
    for g in range(3):
        for c in range(3):
            nz = x[:, g, c][x[:, g, c] > 0]
            assert np.isclose(nz.mean(), 1.0)
    np.testing.assert_allclose((data.target / sc.target).mean(axis=0), 1.0)
    back = data.to_frame()
    np.testing.assert_allclose(back["tv"].to_numpy(), frame.sort_values(["date", "geo"])["tv"])
    again = bm.MMMData.from_dataset(data.to_dataset())
    assert again.data_hash == data.data_hash


def test_input_frame_untouched(frame):
    before = frame.copy(deep=True)
    shuffled = frame.sample(frac=1.0, random_state=0)
    snapshot = shuffled.copy(deep=True)
    make(shuffled)
    pd.testing.assert_frame_equal(shuffled, snapshot)
    pd.testing.assert_frame_equal(frame, before)


def test_unsorted_rows_give_same_panel(frame):
    a = make(frame)
    b = make(frame.sample(frac=1.0, random_state=1))
    assert a.data_hash == b.data_hash


def test_national_data_has_one_geo(frame):
    nat = frame[frame.geo == "geo_00"].drop(columns="geo")
    data = bm.MMMData.from_frame(nat, date="date", target="revenue", media=MEDIA)
    assert data.geos == ("national",) and data.national


def test_spend_groups_and_organic(frame):
    df = frame.rename(columns={"tv": "tv_imp", "search": "search_imp", "social": "organic_imp"})
    df["paid_spend"] = df["tv_imp"] * 0.01 + df["search_imp"] * 0.02
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=["tv_imp", "search_imp"],
        geo="geo",
        spend={"tv_imp": "paid_spend", "search_imp": "paid_spend"},
        organic=["organic_imp"],
    )
    assert data.spend_groups == ("paid_spend",)
    assert data.channel_group == ("paid_spend", "paid_spend", None)
    assert data.paid_channels == ("tv_imp", "search_imp")
    np.testing.assert_array_equal(data.group_matrix, [[1], [1], [0]])


@pytest.mark.parametrize(
    "mutate, kwargs, words",
    [
        (lambda d: d.drop(columns="tv"), {}, ["'tv'", "Missing"]),
        (
            lambda d: d.rename(columns={"search": "serach"}),
            {},
            ["'search'", "did you mean", "serach"],
        ),
        (
            lambda d: d.assign(tv=d.tv.astype(object).where(d.index != 4, "1,000")),
            {},
            ["'tv'", "non-numeric", "row 4", "'1,000'"],
        ),
        (lambda d: d.assign(tv=d.tv.where(d.index != 7, np.nan)), {}, ["'tv'", "NaN", "row 7"]),
        (
            lambda d: d.assign(search=d.search.where(d.index != 2, np.inf)),
            {},
            ["'search'", "infinite"],
        ),
        (
            lambda d: d.assign(social=d.social.where(d.index != 5, -3.0)),
            {},
            ["'social'", "negative", "row 5"],
        ),
        (lambda d: pd.concat([d, d.iloc[[10]]]), {}, ["Duplicate", "(date, geo)", "row 10"]),
        (
            lambda d: d[~((d.geo == "geo_01") & (d.date == d.date.iloc[30]))],
            {},
            ["geo_01", "missing periods"],
        ),
        (
            lambda d: d[~((d.geo == "geo_02") & (d.date < d.date.iloc[9]))],
            {},
            ["different date ranges", "geo_02"],
        ),
        (lambda d: d[d.date != d.date.unique()[20]], {}, ["not evenly spaced"]),
        (lambda d: d.assign(tv=0.0), {}, ["'tv'", "zero in every row"]),
        (lambda d: d.assign(control_1=2.0), {}, ["'control_1'", "constant"]),
        (lambda d: d.assign(date="not a date"), {}, ["'date'", "not dates"]),
        (lambda d: d, {"media": ["tv", "tv"]}, ["'tv'", "twice"]),
        (lambda d: d, {"spend": {"tv": "tv"}}, ["search", "no spend column"]),
        (lambda d: d.assign(revenue=-d.revenue), {}, ["'revenue'", "mean ≤ 0"]),
    ],
)
def test_bad_input_raises_data_error_naming_the_problem(frame, mutate, kwargs, words):
    with pytest.raises(bm.DataError) as info:
        make(mutate(frame), **kwargs)
    assert isinstance(info.value, ValueError)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_too_short_for_l_max(frame):
    short = frame[frame.date < frame.date.unique()[10]]
    data = make(short)
    with pytest.raises(bm.DataError, match="periods"):
        bm.build_model(data, bm.ModelSpec(l_max=8))


def test_group_labels_name_one_channel_groups_after_the_channel(frame):
    df = frame.assign(tv_cost=frame.tv * 2.0, digital=frame.search + frame.social)
    data = make(df, media=["tv", "search"], spend={"tv": "tv_cost", "search": "search"})
    assert data.spend_groups == ("tv_cost", "search")
    assert data.group_labels == ["tv", "search"]  # one channel each: the channel's name
    shared = make(
        df,
        media=["tv", "search", "social"],
        spend={"tv": "tv_cost", "search": "digital", "social": "digital"},
    )
    assert shared.spend_groups == ("tv_cost", "digital")
    assert shared.group_labels == ["tv", "digital"]  # two channels: the spend column's name
    organic = make(df, media=["tv"], organic=["search"], spend={"tv": "tv_cost"})
    assert organic.group_labels == ["tv"]  # organic media have no spend group
    assert make(frame).group_labels == MEDIA  # media are their own spend


def test_group_labels_label_the_simulated_true_roi(make_panel):
    groups = {"video": ["tv", "social"], "search": ["search"]}
    data, truth, _ = make_panel(
        n_geos=2,
        n_weeks=30,
        seed=1,
        spend_groups=groups,
        media=MEDIA,
        from_frame={"spend": {m: g for g, members in groups.items() for m in members}},
    )
    assert data.group_labels == ["video", "search"]
    assert list(truth.roi.index) == data.group_labels


def test_truncate_keeps_the_first_periods_of_every_dated_array(frame):
    df = frame.assign(
        promo=(frame.index % 5 == 0).astype(float),
        pop=frame.geo.map({"geo_00": 1e3, "geo_01": 4e3, "geo_02": 2e3}),
    )
    data = make(df, events=["promo"], population="pop")
    short = data.truncate(20)
    assert short.n_dates == 20 and short.dates.equals(data.dates[:20])
    for name in ("target", "media", "spend", "control_values", "event_values"):
        np.testing.assert_array_equal(getattr(short, name), getattr(data, name)[:20])
    np.testing.assert_array_equal(short.population, data.population)  # per geo: kept whole
    assert (short.geos, short.channels, short.events) == (data.geos, data.channels, data.events)
    # the same panel as one built from the frame's first 20 periods
    first = df[df.date.isin(data.dates[:20])]
    assert short.data_hash == make(first, events=["promo"], population="pop").data_hash
    assert short.data_hash != data.data_hash
    assert data.truncate(data.n_dates).data_hash == data.data_hash
    # scales come from the kept periods only
    np.testing.assert_allclose(
        short.scaling.control_center, data.control_values[:20].reshape(-1, 1).mean(0)
    )


@pytest.mark.parametrize("n_dates", [0, -3, 61])
def test_truncate_refuses_a_length_outside_the_panel(frame, n_dates):
    with pytest.raises(bm.DataError, match=rf"^Cannot keep {n_dates} of 60 periods\.$"):
        make(frame).truncate(n_dates)


def test_holiday_calendar_becomes_event_columns(frame):
    calendar = pd.DataFrame(
        {
            "ds": ["2022-12-25", "2023-01-01", "2022-12-25", "2022-11-24", "1999-01-01"],
            "holiday": ["Christmas", "New Year", "Christmas", "Thanksgiving", "New Year"],
            "country": ["US", "US", "DE", "US", "US"],
        }
    )
    data = bm.MMMData.from_frame(
        frame,
        date="date",
        target="revenue",
        media=MEDIA,
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
            frame,
            date="date",
            target="revenue",
            media=MEDIA,
            geo="geo",
            holidays=calendar,
            country="FR",
        )


def test_event_column_errors_name_the_column(frame):
    with pytest.raises(bm.DataError, match="'promo'"):
        bm.MMMData.from_frame(
            frame, date="date", target="revenue", media=MEDIA, geo="geo", events=["promo"]
        )
    with pytest.raises(bm.DataError, match="'tv'"):
        bm.MMMData.from_frame(
            frame, date="date", target="revenue", media=MEDIA, geo="geo", events=["tv"]
        )


def test_events_survive_the_dataset_roundtrip(event_panel):
    back = bm.MMMData.from_dataset(event_panel.to_dataset())
    assert back.events == event_panel.events
    np.testing.assert_array_equal(back.event_values, event_panel.event_values)
    assert back.data_hash == event_panel.data_hash


def test_geo_group_must_be_constant_within_a_geo(region_frame):
    bad = region_frame.copy()
    bad.loc[bad.index[5], "region"] = "east" if bad.loc[bad.index[5], "region"] != "east" else "x"
    geo = bad.loc[bad.index[5], "geo"]
    with pytest.raises(bm.DataError, match=f"'region'.*{geo}"):
        bm.MMMData.from_frame(
            bad, date="date", target="revenue", media=MEDIA, geo="geo", geo_group="region"
        )


@pytest.mark.sampling
def test_population_sets_the_target_scale_per_capita(region_frame):
    df = region_frame.copy()
    pop = {"geo_00": 1e5, "geo_01": 2e5, "geo_02": 5e4, "geo_03": 1e5}
    df["pop"] = df["geo"].map(pop)
    data = bm.MMMData.from_frame(
        df, date="date", target="revenue", media=MEDIA, geo="geo", population="pop"
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
            bad, date="date", target="revenue", media=MEDIA, geo="geo", population="pop"
        )
