"""Plots: each returns a Figure built from the fit's own results, readable at scale."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

import bayes_mmm as bm
from bayes_mmm import optimize, plot


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


@pytest.fixture(scope="module")
def big_fit(tiny_fit, make_panel):
    """A 40-geo × 8-channel fit whose draws are the tiny fit's, tiled over geos and
    channels (real draws, shaped like a large panel; for layout checks only)."""
    data, _, _ = make_panel(n_geos=40, n_channels=8, seed=2)
    post = tiny_fit.idata["posterior"].to_dataset()
    gi = np.arange(40) % 3
    ci = np.arange(8) % 3
    out = {}
    for name, da in post.data_vars.items():
        if "geo" in da.dims:
            da = da.isel(geo=gi).assign_coords(geo=list(data.geos))
        if "channel" in da.dims:
            da = da.isel(channel=ci).assign_coords(channel=list(data.channels))
        out[name] = da
    groups = {k: tiny_fit.idata[k].to_dataset() for k in ("sample_stats",)}
    groups["posterior"] = xr.Dataset(out)
    return bm.Fit(
        data=data, spec=tiny_fit.spec, idata=xr.DataTree.from_dict(groups), meta=tiny_fit.meta
    )


def test_model_fit_bands_cover_the_data(tiny_fit):
    fig = plot.model_fit(tiny_fit, top=2)
    assert isinstance(fig, Figure)
    axes = _visible_axes(fig)
    assert next(ax.get_title() for ax in axes) == "All geos"
    assert len(axes) == 3
    band = axes[0].collections[0].get_paths()[0].vertices[:, 1]
    total = tiny_fit.data.target.sum(axis=1)
    assert band.min() < total.min() and band.max() > total.max()


def test_contributions_and_waterfall_add_up(tiny_fit):
    fig = plot.contributions_over_time(tiny_fit)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[:4] == ["baseline", "tv", "search", "social"]
    observed = fig.axes[0].lines[0].get_ydata()  # the observed total over all geos
    np.testing.assert_allclose(observed, tiny_fit.data.target.sum(axis=1))
    fig = plot.decomposition_waterfall(tiny_fit)
    bars = fig.axes[0].patches
    baseline = tiny_fit.baseline().mean(("chain", "draw")).sum().item()
    assert bars[0].get_height() == pytest.approx(baseline, rel=1e-9)
    total = tiny_fit.expected_target().mean(("chain", "draw")).sum().item()
    assert bars[-1].get_height() == pytest.approx(total, rel=1e-9)
    assert sum(b.get_height() for b in bars[:-1]) == pytest.approx(total, rel=1e-9)


def test_roi_forest_matches_roi_table(tiny_fit):
    fig = plot.roi_forest(tiny_fit)
    table = tiny_fit.roi().sort_values("median")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == list(table.index)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), table["median"])


def test_response_curves_pass_through_observed_contribution(tiny_fit):
    curves = plot.response_curve_draws(tiny_fit, factors=[0.0, 1.0, 2.0])
    assert curves.dims == ("chain", "draw", "factor", "channel")
    assert np.all(curves.sel(factor=0.0) == 0)
    mean = curves.mean(("chain", "draw"))
    assert (mean.sel(factor=2.0) > mean.sel(factor=1.0)).all()  # more media, more revenue
    # Diminishing returns (Hill, concave at typical exposure here): 2x media < 2x effect.
    assert (mean.sel(factor=2.0) < 2 * mean.sel(factor=1.0)).all()
    fig = plot.response_curves(tiny_fit, curves)
    assert len(_visible_axes(fig)) == 3
    median = curves.median(("chain", "draw"))
    for ax, channel in zip(_visible_axes(fig), tiny_fit.data.channels):
        assert ax.get_title() == channel
        np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.0, 1.0, 2.0])
        np.testing.assert_allclose(ax.lines[0].get_ydata(), median.sel(channel=channel))


def test_response_curves_thin_draws_evenly_per_chain(tiny_fit):
    full = plot.response_curve_draws(tiny_fit, factors=[1.0, 2.0], max_draws=None)
    thin = plot.response_curve_draws(tiny_fit, factors=[1.0, 2.0], max_draws=50)
    assert full.sizes["chain"] * full.sizes["draw"] > 50
    assert thin.sizes["chain"] * thin.sizes["draw"] <= 50
    assert thin.sizes["chain"] == full.sizes["chain"]  # every chain keeps draws
    step = -(-full.sizes["draw"] * full.sizes["chain"] // 50)
    np.testing.assert_allclose(thin.values, full.values[:, ::step], rtol=1e-12)


def test_adstock_weights_sum_to_one(tiny_fit):
    fig = plot.adstock_decay(tiny_fit)
    axes = _visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["tv", "search", "social"]
    heights = [p.get_height() for p in axes[0].patches]
    assert len(heights) == tiny_fit.spec.l_max
    assert heights == sorted(heights, reverse=True)  # geometric decay
    # Each draw's geometric weights alpha**lag / Σ alpha**k sum to one; the bars are their
    # posterior medians, channel by channel.
    alpha = tiny_fit.idata["posterior"]["alpha"]
    lags = np.arange(tiny_fit.spec.l_max)
    for ax, channel in zip(axes, ["tv", "search", "social"]):
        a = alpha.sel(channel=channel).values.reshape(-1, 1)
        weights = a**lags / (a**lags).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
        bars = [p.get_height() for p in ax.patches]
        np.testing.assert_allclose(bars, np.median(weights, axis=0), rtol=1e-10)


def test_prior_posterior_and_budget_plots(tiny_fit):
    shift = pd.DataFrame(
        {"sd_ratio": [0.1, 0.9], "shift": [2.0, 0.1], "informed": [True, False]}, index=["a", "b"]
    )
    fig = plot.prior_posterior(shift)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # One scatter per group at (sd_ratio, shift), each parameter named, break-even at sd 1.
    points = [np.asarray(c.get_offsets()).tolist() for c in ax.collections]
    assert points == [[[0.9, 0.1]], [[0.1, 2.0]]]
    assert ax.get_legend_handles_labels()[1] == ["mostly prior", "informed by data"]
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b"]
    assert [list(line.get_xdata()) for line in ax.lines] == [[1.0, 1.0]]
    plan = optimize.optimize(
        tiny_fit,
        budget=float(tiny_fit.data.spend[-4:].sum()),
        weeks=4,
        allow_unconverged=True,
        n_starts=1,
    )
    fig = plot.budget(plan)
    assert "P(plan beats current)" in fig.axes[1].get_title()
    assert f"{float(plan.prob_better):.0%}" in fig.axes[1].get_title()
    # Left: current then planned spend per channel; right: a histogram of every uplift draw.
    bars = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(bars, [*plan.table["current"], *plan.table["optimal"]])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(plan.table.index)
    counts = sum(p.get_height() for p in fig.axes[1].patches)
    assert counts == np.asarray(plan.uplift).size


def test_arviz_diagnostic_plots(tiny_fit):
    alpha = tiny_fit.idata["posterior"]["alpha"]
    fig = plot.trace(tiny_fit, ["alpha"])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == [f"alpha\n{c}" for c in tiny_fit.data.channels]
    for ax, channel in zip(fig.axes, tiny_fit.data.channels):
        assert len(ax.lines) == 2  # one trace per chain, every draw
        for chain, line in enumerate(ax.lines):
            np.testing.assert_array_equal(line.get_xdata(), np.arange(100))
            np.testing.assert_allclose(line.get_ydata(), alpha.sel(channel=channel)[chain])
    fig = plot.rank(tiny_fit, ["alpha"])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == [f"alpha\n{c}" for c in tiny_fit.data.channels]
    assert all(len(ax.lines) == 2 for ax in fig.axes)  # one rank curve per chain


def test_plots_stay_readable_at_40_geos_8_channels(big_fit):
    fig = plot.model_fit(big_fit)
    assert len(_visible_axes(fig)) == 6  # all geos + the 5 largest, not 40 panels
    fig = plot.roi_heatmap(big_fit)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (40, 8)
    assert len(fig.axes[0].texts) == 0  # no 320 overlapping annotations
    fig = plot.response_curves(big_fit, plot.response_curve_draws(big_fit, [0, 1, 2]))
    assert len(_visible_axes(fig)) == 8
    w, h = fig.get_size_inches()
    assert w <= 16 and h <= 8  # 4 columns × 2 rows of small multiples
    fig = plot.contributions_over_time(big_fit)
    assert len(fig.axes) == 1
