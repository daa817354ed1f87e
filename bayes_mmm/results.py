"""A posterior's results in target units, with named dims: contributions, baseline,
expected target, ROI draws and table, and the posterior predictive.

Each function takes a :class:`~bayes_mmm.posterior.Posterior` (or the ``Fit`` facade
around one) and wraps ``bayes_mmm.analysis``'s numpy computation on its draws as xarray,
keeping ``chain`` and ``draw`` so that an interval can be taken of anything derived.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm import analysis
from bayes_mmm.posterior import Posterior, as_posterior, to_sample_array
from bayes_mmm.spec import ModelSpec


def _date_geo(post: Posterior) -> dict:
    return {"date": post.data.dates, "geo": list(post.data.geos)}


def contributions(posterior: Posterior) -> xr.DataArray:
    """Channel contributions in target units, dims (chain, draw, date, geo, channel)."""
    post = as_posterior(posterior)
    values, shape = post.draws
    d = post.data
    out = analysis.channel_contribution_draws(d, post.spec, values)
    coords = {**_date_geo(post), "channel": list(d.channels)}
    return to_sample_array(out, shape, ("date", "geo", "channel"), coords, "contribution")


def baseline(posterior: Posterior) -> xr.DataArray:
    """Non-media expected target (intercept, trend, seasonality, controls, events) in
    target units, dims (chain, draw, date, geo)."""
    post = as_posterior(posterior)
    values, shape = post.draws
    out = analysis.baseline_draws(post.data, post.spec, values)
    return to_sample_array(out, shape, ("date", "geo"), _date_geo(post), "baseline")


def mean_contributions(posterior: Posterior) -> xr.DataArray:
    """Posterior mean of the channel contributions in target units, dims (date, geo,
    channel); computed chunk by chunk, unlike ``contributions(...).mean(...)``."""
    post = as_posterior(posterior)
    d = post.data
    return xr.DataArray(
        analysis.mean_contributions(d, post.spec, post.draws.values),
        dims=("date", "geo", "channel"),
        coords={**_date_geo(post), "channel": list(d.channels)},
        name="contribution",
    )


def expected_target(posterior: Posterior) -> xr.DataArray:
    """Expected target (baseline + all contributions), dims (chain, draw, date, geo)."""
    post = as_posterior(posterior)
    values, shape = post.draws
    out = analysis.expected_target_draws(post.data, post.spec, values)
    return to_sample_array(out, shape, ("date", "geo"), _date_geo(post), "expected_target")


def roi_draws(posterior: Posterior, by: str | None = None) -> xr.DataArray:
    """ROI per draw: dims (chain, draw, channel), or (chain, draw, geo, channel).

    Computed once per ``by`` and kept with the posterior (it is small): the report, plots
    and tables all ask for it.
    """
    post = as_posterior(posterior)
    key = ("roi_draws", by)
    if key not in post.memo:
        values, shape = post.draws
        post.memo[key] = analysis.roi_draws(post.data, post.spec, values, shape, by=by)
    return post.memo[key]


def roi(posterior: Posterior, hdi_prob: float = 0.9, by: str | None = None) -> pd.DataFrame:
    """ROI per channel (spend group) with its HDI.

    Parameters
    ----------
    hdi_prob : float
        Probability mass of the highest-density interval.
    by : {None, "geo"} or str
        ``"geo"`` gives a (geo, channel) index (for a brand × geo panel, a (brand/geo unit,
        channel) one); the name of the panel's geo-group column (e.g. ``"brand"``) gives
        one row per group and channel.

    Returns
    -------
    DataFrame with ``mean``, ``median``, ``lower``, ``upper``, and ``spend``;
    ``attrs["warning"]`` holds the convergence verdict when a gate fails.
    """
    post = as_posterior(posterior)
    table = analysis.summarize(roi_draws(post, by=by), hdi_prob)
    spend = post.data.spend.sum(axis=0)  # (geo, group)
    if by not in (None, "geo"):  # a geo-group level, e.g. brand
        spend = post.data.group_membership()[1].T @ spend
    table["spend"] = spend.reshape(-1) if by is not None else spend.sum(axis=0)
    if not post.converged:
        table.attrs["warning"] = post.convergence.message()
    return table


def predictive_noise(
    mu: np.ndarray, values: dict, spec: ModelSpec, target_scale: np.ndarray, rng
) -> np.ndarray:
    """Draws of the observed target around ``mu`` under the likelihood (Normal or
    Student-t), in target units.

    Parameters
    ----------
    mu : ndarray, dims (sample, date, geo)
        Expected target, target units.
    values : dict of str to ndarray
        Posterior draws, dims (sample, ...): ``sigma`` (sample, geo) and, for Student-t,
        ``nu`` (sample,).
    target_scale : ndarray, dims (geo,)

    Returns
    -------
    ndarray, dims (sample, date, geo): ``mu`` plus noise.
    """
    sigma = values["sigma"][:, None, :] * target_scale
    if spec.likelihood == "student_t":
        noise = rng.standard_t(values["nu"].reshape(-1, 1, 1), size=mu.shape)
    else:
        noise = rng.standard_normal(mu.shape)
    return mu + sigma * noise


def posterior_predictive(
    posterior: Posterior, random_seed: int | None = None, expected: xr.DataArray | None = None
) -> xr.DataArray:
    """Posterior predictive target in target units, dims (chain, draw, date, geo).

    ``expected`` (:func:`expected_target`) may be passed when the caller already has it,
    so the media response is not computed twice.
    """
    post = as_posterior(posterior)
    values, shape = post.draws
    mu = (expected_target(post) if expected is None else expected).values
    flat = mu.reshape(-1, *mu.shape[2:])
    rng = np.random.default_rng(random_seed)
    pred = predictive_noise(flat, values, post.spec, post.data.scaling.target, rng)
    return to_sample_array(pred, shape, ("date", "geo"), _date_geo(post), "posterior_predictive")
