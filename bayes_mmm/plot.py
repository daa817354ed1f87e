"""Plots: results in, ``matplotlib.figure.Figure`` out.

Every function takes a ``Fit`` (or a result computed from one) and returns a Figure;
nothing is shown or saved here. Numbers come from the same paths as the tables
(``Fit.expected_target``, ``Fit.contributions``, ``analysis.channel_contribution_draws``,
``kinds.ADSTOCKS``), never from a second implementation.

Readability at scale (40 geos × 8 channels): time series are summed over geos and shown
for the ``top_geos`` largest geos only; ROI by geo is a heatmap rather than a forest;
per-channel panels are small multiples on a grid of at most four columns.

Bands are equal-tailed posterior intervals of probability ``prob`` (default 0.9).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from bayes_mmm import results
from bayes_mmm.analysis import channel_contribution_draws
from bayes_mmm.kinds import transform_parameters
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior
from bayes_mmm.response import adstock_weights

MAX_COLS = 4
OBSERVED = "#222222"
BAND = "#4c72b0"


def _band(da: xr.DataArray, prob: float) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    q = da.quantile([(1 - prob) / 2, 0.5, (1 + prob) / 2], dim=SAMPLE_DIMS)
    return q.isel(quantile=0), q.isel(quantile=1), q.isel(quantile=2)


def _grid(n: int, width: float = 3.6, height: float = 2.6) -> tuple[Figure, np.flatiter]:
    cols = min(n, MAX_COLS)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def top_geos(posterior: Posterior, n: int) -> list[str]:
    """The ``n`` geos with the largest total target."""
    post = as_posterior(posterior)
    total = post.data.target.sum(axis=0)
    order = np.argsort(-total)[:n]
    return [post.data.geos[i] for i in order]


def model_fit(
    posterior: Posterior, prob: float = 0.9, top: int = 5, random_seed: int | None = 0
) -> Figure:
    """Observed target against the posterior predictive band: all geos summed, then the
    ``top`` largest geos.

    Uses ``fit.posterior_predictive``, dims (chain, draw, date, geo).
    """
    post = as_posterior(posterior)
    pred = results.posterior_predictive(post, random_seed=random_seed)
    obs = xr.DataArray(
        post.data.target,
        dims=("date", "geo"),
        coords={"date": post.data.dates, "geo": list(post.data.geos)},
    )
    geos = top_geos(post, top) if len(post.data.geos) > 1 else []
    panels = [("All geos", pred.sum("geo"), obs.sum("geo"))]
    panels += [(g, pred.sel(geo=g), obs.sel(geo=g)) for g in geos]
    fig, axes = _grid(len(panels), width=4.5)
    for ax, (title, p, o) in zip(axes, panels):
        lo, mid, hi = _band(p, prob)
        ax.fill_between(
            o["date"].values, lo, hi, color=BAND, alpha=0.3, label=f"{prob:.0%} predictive interval"
        )
        ax.plot(o["date"].values, mid, color=BAND, lw=1, label="model (median)")
        ax.plot(o["date"].values, o, color=OBSERVED, lw=0.9, label="observed")
        ax.set_title(title)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Model fit: observed {post.data.target_name} vs. model")
    return fig


def contributions_over_time(posterior: Posterior) -> Figure:
    """Baseline and channel contributions over time (posterior mean, summed over geos),
    stacked."""
    post = as_posterior(posterior)
    contrib = results.mean_contributions(post).sum("geo")  # (date, channel)
    base = results.baseline(post).mean(SAMPLE_DIMS).sum("geo")
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    dates = contrib["date"].values
    layers = [base.values] + [contrib.sel(channel=c).values for c in contrib["channel"].values]
    labels = ["baseline"] + [str(c) for c in contrib["channel"].values]
    ax.stackplot(dates, *layers, labels=labels, alpha=0.85)
    ax.plot(dates, post.data.target.sum(axis=1), color=OBSERVED, lw=1, label="observed")
    ax.set_ylabel(post.data.target_name)
    ax.legend(fontsize=7, ncol=min(len(labels) + 1, 5), loc="upper left")
    ax.set_title("Contributions over time (posterior mean, all geos)")
    return fig


def decomposition_waterfall(posterior: Posterior) -> Figure:
    """Total target split into baseline and each channel (posterior mean, all dates and
    geos), as a waterfall."""
    post = as_posterior(posterior)
    parts = {"baseline": float(results.baseline(post).mean(SAMPLE_DIMS).sum())}
    contrib = results.mean_contributions(post).sum(("date", "geo"))
    parts.update({str(c): float(contrib.sel(channel=c)) for c in contrib["channel"].values})
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(parts) + 2), 4), layout="constrained")
    bottom = 0.0
    for i, (name, value) in enumerate(parts.items()):
        ax.bar(i, value, bottom=bottom, color="#999999" if name == "baseline" else BAND)
        bottom += value
    ax.bar(len(parts), bottom, color=OBSERVED, alpha=0.8)
    ax.set_xticks(range(len(parts) + 1), [*parts, "total (model)"], rotation=30)
    ax.set_ylabel(post.data.target_name)
    ax.set_title("Decomposition of the modelled total")
    return fig


def roi_forest(posterior: Posterior, hdi_prob: float = 0.9) -> Figure:
    """ROI by channel: median with its HDI (a forest), channels sorted by median."""
    post = as_posterior(posterior)
    table = results.roi(post, hdi_prob=hdi_prob).sort_values("median")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.5), layout="constrained")
    y = np.arange(len(table))
    ax.hlines(y, table["lower"], table["upper"], color=BAND, lw=3)
    ax.plot(table["median"], y, "o", color=OBSERVED)
    ax.axvline(1.0, color="#c44e52", ls="--", lw=1, label="break-even (ROI = 1)")
    ax.set_yticks(y, table.index)
    ax.set_xlabel(f"ROI (revenue per unit spend), median and {hdi_prob:.0%} HDI")
    ax.legend(fontsize=8)
    return fig


def roi_heatmap(posterior: Posterior) -> Figure:
    """Median ROI by geo × channel as a heatmap (rows: geos, largest first)."""
    post = as_posterior(posterior)
    med = results.roi_draws(post, by="geo").median(SAMPLE_DIMS)  # (geo, channel)
    med = med.sel(geo=top_geos(post, len(post.data.geos)))
    n_geo, n_ch = med.shape
    fig, ax = plt.subplots(figsize=(1.1 * n_ch + 3, 0.28 * n_geo + 1.8), layout="constrained")
    im = ax.imshow(med.values, aspect="auto", cmap="viridis")
    ax.set_xticks(range(n_ch), med["channel"].values, rotation=30)
    ax.set_yticks(range(n_geo), med["geo"].values, fontsize=7 if n_geo > 15 else 9)
    if n_geo * n_ch <= 120:
        for (i, j), v in np.ndenumerate(med.values):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(im, ax=ax, label="median ROI")
    ax.set_title("ROI by geo and channel (median)")
    return fig


def response_curve_draws(
    posterior: Posterior, factors=None, max_draws: int | None = 1000
) -> xr.DataArray:
    """Total contribution of each channel when all its media are scaled by a factor.

    The model is additive across channels, so scaling every channel by the same factor
    at once gives each channel's own curve.

    Parameters
    ----------
    max_draws : int or None
        Thin each chain evenly so that at most this many draws are used (None: all). The
        curves cost one full media response per factor and draw; for a figure's band, 1000
        draws put the Monte Carlo error of a 90% band edge well below the band's width.

    Returns
    -------
    DataArray, dims (chain, draw, factor, channel), target units over all dates and geos
    (carryover tail included).
    """
    post = as_posterior(posterior)
    factors = np.linspace(0, 2, 11) if factors is None else np.asarray(factors, float)
    draws, shape = post.draws
    step = 1 if max_draws is None else max(1, -(-shape[0] * shape[1] // max_draws))
    if step > 1:
        keep = np.arange(shape[0] * shape[1]).reshape(shape)[:, ::step]
        draws = {k: v[keep.ravel()] for k, v in draws.items()}
        shape = keep.shape
    out = [
        channel_contribution_draws(
            post.data,
            post.spec,
            draws,
            media=post.data.media * f,
            tail=post.spec.l_max - 1,
            reduce=lambda x: x.sum(axis=(1, 2)),
        )
        for f in factors
    ]  # each (sample, channel)
    arr = np.stack(out, axis=1).reshape(*shape, len(factors), -1)
    return xr.DataArray(
        arr,
        dims=(*SAMPLE_DIMS, "factor", "channel"),
        coords={"factor": factors, "channel": list(post.data.channels)},
        name="response",
    )


def response_curves(
    posterior: Posterior, curves: xr.DataArray | None = None, prob: float = 0.9
) -> Figure:
    """Response curves with bands: total contribution against media scaled 0–2× the
    observed plan, one small multiple per channel; the dot marks the observed plan."""
    post = as_posterior(posterior)
    curves = response_curve_draws(post) if curves is None else curves
    lo, mid, hi = _band(curves, prob)
    channels = [str(c) for c in curves["channel"].values]
    fig, axes = _grid(len(channels))
    x = curves["factor"].values
    for ax, c in zip(axes, channels):
        ax.fill_between(x, lo.sel(channel=c), hi.sel(channel=c), color=BAND, alpha=0.3)
        ax.plot(x, mid.sel(channel=c), color=BAND)
        ax.plot(1.0, float(mid.sel(channel=c).interp(factor=1.0)), "o", color=OBSERVED)
        ax.set_title(c)
        ax.set_xlabel("media × observed")
    fig.suptitle(f"Response curves: contribution vs. media level ({prob:.0%} band)")
    return fig


def adstock_decay(posterior: Posterior, prob: float = 0.9) -> Figure:
    """Share of an exposure's effect in each week after it (the adstock weights)."""
    post = as_posterior(posterior)
    spec = post.spec.for_channels(post.data.channels)
    params = {
        n: post.idata["posterior"][n].transpose(*SAMPLE_DIMS, ...).values
        for n in spec.adstock_param_names()
    }
    w = adstock_weights(params, spec)  # (chain, draw, lag, channel)
    da = xr.DataArray(
        w, dims=(*SAMPLE_DIMS, "lag", "channel"), coords={"channel": list(post.data.channels)}
    )
    lo, mid, hi = _band(da, prob)
    channels = [str(c) for c in da["channel"].values]
    fig, axes = _grid(len(channels), width=3.2, height=2.3)
    lags = np.arange(post.spec.l_max)
    for ax, c in zip(axes, channels):
        ax.bar(lags, mid.sel(channel=c), color=BAND, alpha=0.7)
        ax.errorbar(
            lags,
            mid.sel(channel=c),
            yerr=[mid.sel(channel=c) - lo.sel(channel=c), hi.sel(channel=c) - mid.sel(channel=c)],
            fmt="none",
            color=OBSERVED,
        )
        ax.set_title(c)
        ax.set_xlabel("weeks after exposure")
    fig.suptitle("Adstock: how long an exposure keeps working")
    return fig


def prior_posterior(shift: pd.DataFrame) -> Figure:
    """Posterior sd / prior sd against the shift of the mean (in prior sd units), one dot
    per scalar parameter (``diagnostics.prior_posterior_shift``). Left: informed by the
    data; far from 0 horizontally: the data moved it."""
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    informed = shift["informed"].to_numpy(bool)
    ax.scatter(
        shift["sd_ratio"][~informed],
        shift["shift"][~informed],
        s=14,
        color="#999999",
        label="mostly prior",
    )
    ax.scatter(
        shift["sd_ratio"][informed],
        shift["shift"][informed],
        s=14,
        color=BAND,
        label="informed by data",
    )
    labelled = shift.reindex(shift["shift"].abs().sort_values().index[-8:])
    for name, row in labelled.iterrows():
        ax.annotate(name, (row["sd_ratio"], row["shift"]), fontsize=6)
    ax.axvline(1.0, color="#c44e52", ls=":", lw=1)
    ax.set_xlabel("posterior sd / prior sd")
    ax.set_ylabel("(posterior mean − prior mean) / prior sd")
    ax.legend(fontsize=8)
    ax.set_title("What the data taught the model")
    return fig


def budget(plan) -> Figure:
    """A budget plan (duck-typed: ``.table`` with ``current`` and ``optimal`` columns and
    ``.uplift`` dims (chain, draw)): spend before/after and the uplift distribution."""
    table = plan.table
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    x = np.arange(len(table))
    ax1.bar(x - 0.2, table["current"], 0.4, label="current", color="#999999")
    ax1.bar(x + 0.2, table["optimal"], 0.4, label="plan", color=BAND)
    ax1.set_xticks(x, [str(i) for i in table.index], rotation=30)
    ax1.set_ylabel("spend")
    ax1.legend(fontsize=8)
    ax1.set_title("Spend: current vs. plan")
    uplift = np.asarray(plan.uplift).reshape(-1)
    ax2.hist(uplift, bins=40, color=BAND, alpha=0.8)
    ax2.axvline(0, color="#c44e52", lw=1)
    ax2.set_xlabel("revenue uplift of the plan")
    ax2.set_title(f"P(plan beats current) = {float(plan.prob_better):.0%}")
    return fig


def _arviz_figure(pc) -> Figure:
    return pc.viz["figure"].item()


def diagnostic_var_names(posterior: Posterior) -> list[str]:
    """Channel-level parameters: few enough to draw for any number of geos."""
    post = as_posterior(posterior).idata["posterior"]
    names = (*transform_parameters(), "beta_mu", "beta_sigma")
    return [n for n in names if n in post]


def trace(posterior: Posterior, var_names=None) -> Figure:
    """Trace plot (``arviz.plot_trace``) of channel-level parameters."""
    post = as_posterior(posterior)
    import arviz as az

    names = var_names or diagnostic_var_names(post)
    return _arviz_figure(az.plot_trace(post.idata, var_names=names, backend="matplotlib"))


def rank(posterior: Posterior, var_names=None) -> Figure:
    """Rank plot (``arviz.plot_rank``) of channel-level parameters: flat when chains mix."""
    post = as_posterior(posterior)
    import arviz as az

    names = var_names or diagnostic_var_names(post)
    return _arviz_figure(az.plot_rank(post.idata, var_names=names, backend="matplotlib"))


# ---------------------------------------------------------------------- looking forward
def forecast_fan(
    posterior: Posterior, forecast: xr.Dataset, probs=(0.5, 0.9), history: int = 52
) -> Figure:
    """Fan chart of a forecast, all geos summed: the last ``history`` observed periods,
    then the posterior predictive's median and nested central intervals.

    Parameters
    ----------
    forecast : Dataset
        ``forecast.predict(..., as_xarray=True)``: ``predictive`` dims (chain, draw, date,
        geo).
    """
    post = as_posterior(posterior)
    data = post.data
    pred = forecast["predictive"].sum("geo")
    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    ax.plot(
        data.dates[-history:],
        data.target[-history:].sum(axis=1),
        color=OBSERVED,
        lw=0.9,
        label="observed",
    )
    dates = pred["date"].values
    for prob in sorted(probs, reverse=True):
        lo, _, hi = _band(pred, prob)
        ax.fill_between(dates, lo, hi, color=BAND, alpha=0.25, label=f"{prob:.0%} interval")
    ax.plot(dates, _band(pred, 0.5)[1], color=BAND, lw=1.2, label="forecast (median)")
    if "observed" in forecast:
        ax.plot(dates, forecast["observed"].sum("geo"), "o", ms=3, color=OBSERVED)
    ax.axvline(data.dates[-1], color="#888888", ls=":", lw=1)
    ax.set_ylabel(data.target_name)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"Forecast of {data.target_name}, all geos")
    return fig


def scenarios(comparison) -> Figure:
    """Each scenario's revenue with its interval, and its uplift over the reference
    (``forecast.compare_scenarios``)."""
    t = comparison.table
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.45 * len(t) + 1.8), layout="constrained")
    y = np.arange(len(t))
    for ax, col in zip(axes, ("revenue", "uplift")):
        ax.hlines(y, t[f"{col}_lower"], t[f"{col}_upper"], color=BAND, lw=3)
        ax.plot(t[col], y, "o", color=OBSERVED)
        ax.set_yticks(y, t.index)
        ax.set_xlabel(f"{col} (mean, {t.attrs['interval']})", fontsize=8)
    axes[1].axvline(0.0, color="#c44e52", ls="--", lw=1)
    axes[1].set_title(f"vs. {comparison.reference}", fontsize=9)
    return fig


def cv_roi(roi: pd.DataFrame) -> Figure:
    """ROI per channel across cross-validation folds (``CVResult.roi``): one panel per
    channel, the fold's mean and interval against its training window."""
    channels = list(roi.index.get_level_values("channel").unique())
    fig, axes = _grid(len(channels))
    for ax, c in zip(axes, channels):
        sub = roi.xs(c, level="channel")
        x = np.arange(len(sub))
        ax.vlines(x, sub["lower"], sub["upper"], color=BAND, lw=3)
        ax.plot(x, sub["mean"], "o", color=OBSERVED)
        ax.set_xticks(x, sub.index, fontsize=7)
        ax.set_title(c)
    fig.suptitle(f"ROI by fold (mean, {roi.attrs.get('hdi_prob', 0.9):.0%} HDI)")
    return fig


def time_varying(posterior: Posterior, prob: float = 0.9) -> Figure | None:
    """The latent curves of a time-varying spec with their bands: the baseline drift
    (``tv_intercept`` in target units, summed over geos) and the media multiplier of each
    time-varying channel (``media_multiplier``, mean 1 over the history). None for a
    static spec."""
    post = as_posterior(posterior)
    draws = post.idata["posterior"].to_dataset()
    names = [n for n in ("tv_intercept", "media_multiplier") if n in draws]
    if not names:
        return None
    panels = []
    if "tv_intercept" in draws:
        scale = xr.DataArray(post.data.scaling.target, dims="geo", coords={"geo": draws["geo"]})
        drift = (draws["tv_intercept"] * scale).sum("geo")
        panels.append(("Baseline drift (all geos)", drift, post.data.target_name, 0.0))
    if "media_multiplier" in draws:
        names, index = post.spec.media_processes(post.data.channels)
        for name in names:
            k = list(index).index(names.index(name))  # a channel that carries the process
            curve = draws["media_multiplier"].isel(channel=k)
            label = "all channels" if name == "all" else name
            panels.append((f"Media multiplier: {label}", curve, "multiplier", 1.0))
    fig, axes = _grid(len(panels), width=4.5)
    for ax, (title, da, ylabel, ref) in zip(axes, panels):
        lo, mid, hi = _band(da, prob)
        dates = da["date"].values
        ax.fill_between(dates, lo, hi, color=BAND, alpha=0.3, label=f"{prob:.0%} interval")
        ax.plot(dates, mid, color=BAND, lw=1, label="median")
        ax.axhline(ref, color=OBSERVED, lw=0.6, ls=":")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Time-varying effects (posterior)")
    return fig


def sbc_ranks(result, bins: int = 10) -> Figure:
    """SBC rank histograms (``bm.sbc``'s ``SBCResult``): one panel per quantity, with the
    central 99% range of a bin's count under uniform ranks (binomial) in grey. A title in
    red marks a quantity that fails the uniformity test."""
    from scipy import stats

    quantities = list(result.ranks.columns)
    fig, axes = _grid(len(quantities), width=2.6, height=2.0)
    n = len(result.ranks)
    lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / bins)
    edges = np.linspace(0, result.n_rank_draws + 1, bins + 1)
    for ax, q in zip(axes, quantities):
        ax.hist(result.ranks[q], bins=edges, color=BAND, alpha=0.8)
        ax.axhspan(lo, hi, color="grey", alpha=0.3, zorder=3)
        ok = bool(result.tests.loc[q, "uniform"])
        ax.set_title(q, fontsize=8, color=OBSERVED if ok else "red")
        ax.set_xticks([])
        ax.tick_params(labelsize=6)
    fig.suptitle(f"SBC rank histograms ({n} datasets; grey: 99% range of a uniform bin)")
    return fig


def sbc_ecdf(result, prob: float = 0.99, seed: int = 0) -> Figure:
    """SBC rank ECDFs minus the uniform CDF, with the simultaneous ``prob`` band of a
    uniform sample of the same size (Säilynoja, Bürkner & Vehtari 2022, computed by
    ``arviz_stats.ecdf_utils.ecdf_pit``). Ranks ``r`` in 0 … L become continuous PIT
    values ``(r + U) / (L + 1)`` with ``U`` uniform on [0, 1), which are uniform exactly
    when the ranks are. A curve that leaves the band is mis-calibrated: above zero at the
    left means ranks pile up low (the posterior sits above the truth), a ∩ shape means
    over-dispersed (too-wide) posteriors, a ∪ shape too-narrow ones."""
    from arviz_stats.ecdf_utils import ecdf_pit

    rng = np.random.default_rng(seed)
    quantities = list(result.ranks.columns)
    fig, axes = _grid(len(quantities), width=2.6, height=2.0)
    for ax, q in zip(axes, quantities):
        ranks = result.ranks[q].to_numpy(dtype=float)
        pit = (ranks + rng.uniform(size=ranks.size)) / (result.n_rank_draws + 1)
        x, ecdf, lower, upper = ecdf_pit(pit, prob, 1000, rng=np.random.default_rng(seed))
        ax.fill_between(x, lower - x, upper - x, color="grey", alpha=0.3, step="post")
        ax.step(x, ecdf - x, where="post", color=BAND, lw=1)
        ax.axhline(0, color=OBSERVED, lw=0.5, ls=":")
        ok = bool(result.tests.loc[q, "uniform"])
        ax.set_title(q, fontsize=8, color=OBSERVED if ok else "red")
        ax.tick_params(labelsize=6)
    fig.suptitle(
        f"SBC rank ECDF − uniform ({len(result.ranks)} datasets; grey: simultaneous "
        f"{prob:.0%} band)"
    )
    return fig
