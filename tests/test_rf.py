"""Reach-and-frequency channels: input checks, the response against a loop written here,
numpy/graph parity and the optimal frequency against its closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_mmm import DataError
from bayes_mmm.analysis import channel_contribution_draws
from bayes_mmm.data import MMMData
from bayes_mmm.frequency import frequency_grid, frequency_roi_draws
from bayes_mmm.model import build_model
from bayes_mmm.simulate_rf import RF_COLUMNS, simulate_rf
from bayes_mmm.spec import ModelSpec

L_MAX = 4


def rf_frame(n_geos: int = 3, n_weeks: int = 60, seed: int = 0) -> pd.DataFrame:
    """One impressions channel ``tv`` and one R&F channel ``video`` (reach, frequency)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_weeks, freq="W-MON")
    rows = []
    for g in range(n_geos):
        on = rng.random(n_weeks) < 0.7
        reach = np.where(on, rng.uniform(1e4, 5e4, n_weeks), 0.0)
        freq = np.where(on, rng.uniform(1.0, 6.0, n_weeks), 0.0)
        tv = rng.uniform(0, 1e5, n_weeks)
        rows.append(
            pd.DataFrame(
                {
                    "week": dates,
                    "geo": f"g{g}",
                    "revenue": rng.uniform(8e4, 1.2e5, n_weeks),
                    "tv": tv,
                    "tv_spend": tv * 0.01,
                    "video_reach": reach,
                    "video_frequency": freq,
                    "video_spend": reach * freq * 0.02,
                    "population": 1e6,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def load(df: pd.DataFrame, **kw) -> MMMData:
    return MMMData.from_frame(df, **{**RF_COLUMNS, **kw})


@pytest.fixture(scope="module")
def panel() -> MMMData:
    return load(rf_frame())


def random_draws(n_geos: int, n: int = 3, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "alpha": rng.uniform(0.2, 0.7, (n, 2)),
        "ec": rng.uniform(0.5, 2.0, (n, 2)),
        "slope": rng.uniform(0.8, 2.5, (n, 2)),
        "beta": rng.uniform(0.02, 0.2, (n, n_geos, 2)),
    }


def test_panel_holds_reach_as_media_and_frequency_apart(panel):
    df = rf_frame()
    assert panel.channels == ("tv", "video")
    assert panel.rf_channels == ("video",)
    assert panel.frequency.shape == (60, 3, 1)
    first = df[df.geo == "g1"].sort_values("week")
    np.testing.assert_allclose(panel.media[:, 1, 1], first.video_reach)
    np.testing.assert_allclose(panel.frequency[:, 1, 0], first.video_frequency)
    on = df.video_reach > 0
    assert panel.scaling.frequency[0] == pytest.approx(df.video_frequency[on].mean())
    back = MMMData.from_dataset(panel.to_dataset())
    np.testing.assert_array_equal(back.frequency, panel.frequency)
    assert back.rf_channels == panel.rf_channels
    assert back.data_hash == panel.data_hash
    assert panel.truncate(30).frequency.shape == (30, 3, 1)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.assign(video_reach=np.where(d.index == 5, -1.0, d.video_reach)), "negative"),
        (
            lambda d: d.assign(video_frequency=np.where(d.video_reach > 0, 0.5, d.video_frequency)),
            "below 1",
        ),
        (lambda d: d.drop(columns="video_frequency"), "Missing column"),
        (
            lambda d: d.assign(video_spend=np.where(d.video_reach == 0, 5.0, d.video_spend)),
            "spend without reach",
        ),
        (lambda d: d.assign(video_reach=d.video_reach * 100), "population"),
    ],
)
def test_bad_rf_input_raises_data_error_naming_the_column(change, match):
    with pytest.raises(DataError, match=match):
        load(change(rf_frame()), population="population")


def test_reach_without_frequency_and_rf_without_spend_raise():
    with pytest.raises(DataError, match="reach without frequency"):
        load(rf_frame(), reach_frequency={"video": "video_reach"})
    with pytest.raises(DataError, match="no spend column"):
        load(rf_frame(), spend={"tv": "tv_spend"})


def test_frequency_slightly_below_one_is_rounding_and_accepted():
    df = rf_frame()
    df.loc[df.video_reach > 0, "video_frequency"] = df.video_frequency.clip(lower=0.98)
    df.loc[3, "video_frequency"] = 0.98 if df.loc[3, "video_reach"] > 0 else 0.0
    assert load(df).rf_channels == ("video",)


def loop_contribution(data: MMMData, d: dict, s: int, l_max: int) -> np.ndarray:
    """Scaled contribution ``beta · Σ_l w_l reach[t-l] hill(freq[t-l]) / hill(1)`` of the
    R&F channel and ``beta · hill(Σ_l w_l x[t-l]) / hill(1)`` of ``tv``, written
    directly, in target units, dims (date, geo, channel)."""
    sc = data.scaling

    def unit_hill(x, ec, slope):
        x = np.asarray(x, dtype=float)
        h = np.where(x > 0, x**slope / (x**slope + ec**slope), 0.0)
        return h / (1.0 / (1.0 + ec**slope))

    n_t, n_g = data.n_dates, len(data.geos)
    out = np.zeros((n_t, n_g, 2))
    for c in range(2):
        w = d["alpha"][s, c] ** np.arange(l_max)
        w = w / w.sum()
        ec, slope = d["ec"][s, c], d["slope"][s, c]
        for g in range(n_g):
            x = data.media[:, g, c] / sc.media[g, c]
            if c == 1:
                f = data.frequency[:, g, 0] / sc.frequency[0]
                x = x * unit_hill(f, ec, slope)
            for t in range(n_t):
                ad = sum(w[lag] * x[t - lag] for lag in range(l_max) if t - lag >= 0)
                effect = ad if c == 1 else unit_hill(ad, ec, slope)
                out[t, g, c] = d["beta"][s, g, c] * effect * sc.target[g]
    return out


def test_rf_response_matches_a_direct_loop(panel):
    draws = random_draws(len(panel.geos))
    spec = ModelSpec(l_max=L_MAX)
    got = channel_contribution_draws(panel, spec, draws)
    for s in range(3):
        np.testing.assert_allclose(got[s], loop_contribution(panel, draws, s, L_MAX), rtol=1e-10)


@pytest.mark.sampling
@pytest.mark.parametrize("float32", [False, True])
def test_graph_and_numpy_agree_for_rf(panel, float32):
    spec = ModelSpec(l_max=L_MAX, float32=float32)
    model = build_model(panel, spec)
    names = ["alpha", "ec", "slope", "beta"]
    fn = model.compile_fn(
        [model["channel_contribution"], *(model[n] for n in names)],
        inputs=model.value_vars,
        point_fn=True,
        on_unused_input="ignore",
    )
    contribution, *values = fn(model.initial_point())
    draws = {n: np.asarray(v, dtype=float)[None] for n, v in zip(names, values)}
    expected = channel_contribution_draws(panel, spec, draws)[0]
    np.testing.assert_allclose(contribution, expected, rtol=1e-4 if float32 else 1e-10)


def test_optimal_frequency_matches_its_closed_form(panel):
    """At fixed impressions the ROI curve is ∝ hill(v / v̄) / v (module docstring of
    ``bayes_mmm.frequency``): its argmax is computed here without the analysis path."""
    draws = random_draws(len(panel.geos), n=4, seed=3)
    draws["slope"][:, 1] = [1.5, 2.0, 2.5, 3.0]  # interior optimum needs slope > 1
    spec = ModelSpec(l_max=L_MAX)
    grid = frequency_grid(panel, "video")
    curve = frequency_roi_draws(panel, spec, draws, (1, 4), "video", grid)
    assert curve.dims == ("chain", "draw", "frequency")
    vbar = panel.scaling.frequency[0]
    for s in range(4):
        ec, slope = draws["ec"][s, 1], draws["slope"][s, 1]
        ratio = (grid / vbar) ** slope / ((grid / vbar) ** slope + ec**slope) / grid
        got = curve.values[0, s]
        np.testing.assert_allclose(got / got.max(), ratio / ratio.max(), rtol=1e-9)
        assert grid[got.argmax()] == grid[ratio.argmax()]


def test_optimizer_plans_rf_channels_linearly(panel):
    """The planner takes R&F channels (``optimize.rf_window``; tested in
    ``tests/optimize/test_rf_plan.py``): their saturation there is the identity."""
    from bayes_mmm.optimize.factory import planner
    from bayes_mmm.optimize.kernels import LINEAR

    plan = planner(panel, ModelSpec(l_max=L_MAX), random_draws(len(panel.geos)))
    kinds = {kind: list(idx) for kind, idx, _ in plan.sat}
    assert kinds[LINEAR] == [panel.channels.index("video")]
    assert plan.frequency.shape == (13, len(panel.geos), 1)


def test_simulated_rf_truth_is_consistent():
    frame, truth = simulate_rf(n_geos=3, n_weeks=60, seed=2)
    data = MMMData.from_frame(frame, **RF_COLUMNS)
    assert data.rf_channels == ("video",)
    assert (truth.roi > 0).all()
    # x* = ec · (slope - 1)^(1/slope) maximises hill(x)/x: the grid optimum sits next to it.
    ec, slope = truth.params["ec"][1], truth.params["slope"][1]
    exact = ec * (slope - 1) ** (1 / slope) * data.scaling.frequency[0]
    assert abs(truth.optimal_frequency - exact) <= 0.051


@pytest.mark.slow  # a real fit: minutes on a busy 2-core machine
@pytest.mark.sampling
def test_rf_recovery_covers_true_roi_and_optimal_frequency():
    import bayes_mmm as bm

    frame, truth = simulate_rf(n_geos=5, n_weeks=104, seed=0)
    data = MMMData.from_frame(frame, **RF_COLUMNS)
    spec = ModelSpec(l_max=6, trend=False, yearly_seasonality=0)
    fit = bm.fit(data, spec, draws=1000, tune=1000, chains=2, random_seed=1, progress=False)
    assert fit.posterior.converged
    roi = fit.roi()
    for channel in ("tv", "video"):
        assert roi.loc[channel, "lower"] <= truth.roi[channel] <= roi.loc[channel, "upper"]
    best = fit.optimal_frequency().loc["video"]
    assert best["lower"] - 0.1 <= truth.optimal_frequency <= best["upper"] + 0.1


def test_optimal_frequency_table_summarises_the_per_draw_argmax(panel):
    import xarray as xr

    from bayes_mmm.frequency import optimal_frequency
    from bayes_mmm.posterior import Posterior

    draws = random_draws(len(panel.geos), n=6, seed=4)
    draws["slope"][:, 1] = 2.0
    dims = {"alpha": ("channel",), "ec": ("channel",), "slope": ("channel",)}
    dims["beta"] = ("geo", "channel")
    posterior = xr.Dataset(
        {k: (("chain", "draw", *dims[k]), v.reshape(2, 3, *v.shape[1:])) for k, v in draws.items()},
        coords={"geo": list(panel.geos), "channel": list(panel.channels)},
    )
    post = Posterior(panel, ModelSpec(l_max=L_MAX), xr.DataTree.from_dict({"posterior": posterior}))
    table = optimal_frequency(post)
    vbar = panel.scaling.frequency[0]
    ec = draws["ec"][:, 1]
    exact = ec * (2.0 - 1) ** (1 / 2.0) * vbar  # argmax of hill(v/v̄)/v at slope 2
    grid = frequency_grid(panel, "video")
    on_grid = grid[np.abs(grid[:, None] - np.minimum(exact, grid[-1])[None]).argmin(0)]
    assert table.loc["video", "mean"] == pytest.approx(on_grid.mean(), abs=0.051)
    assert (
        table.loc["video", "lower"] <= table.loc["video", "median"] <= table.loc["video", "upper"]
    )
    assert table.loc["video", "historical"] == pytest.approx(vbar)
