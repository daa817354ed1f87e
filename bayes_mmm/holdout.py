"""Holdout: fit on all but the last periods and score the forecast of them (MAPE, CRPS,
coverage).

Design choice: the mean function is evaluated on the *full* panel's dates, with the
*training* panel's scaling (media, target and control scales), because the draws are on
the training fit's scale. The trend is time / span of the training dates; evaluated on
full-panel time it is ``trend * span_full / span_train`` times the full panel's rescaled
time, so the trend draws are rescaled by that ratio and extrapolate linearly.

This module samples again (:func:`holdout`), so it sits above the analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError
from bayes_mmm.posterior import Posterior, as_posterior, chunked, to_sample_array
from bayes_mmm.ppc import COVERAGE_PROBS, coverage, crps_draws
from bayes_mmm.response import expected_response, make_design
from bayes_mmm.results import predictive_noise
from bayes_mmm.sample import sample


@dataclass(frozen=True)
class Holdout:
    """A forecast of the last ``weeks`` periods by a fit that did not see them.

    Attributes
    ----------
    weeks : int
    expected : DataArray, dims (chain, draw, date, geo)
        Expected target on the holdout dates, target units.
    predictive : DataArray, dims (chain, draw, date, geo)
        Posterior predictive draws on the holdout dates (expected + noise).
    observed : DataArray, dims (date, geo)
    metrics : Series
        ``mape`` (of the posterior-mean forecast), ``crps`` (target units, mean over
        observations), ``crps_rel`` (CRPS / mean |observed|), ``coverage_50``,
        ``coverage_90``.
    train_fit : Posterior or None
        The training posterior.
    """

    weeks: int
    expected: xr.DataArray
    predictive: xr.DataArray
    observed: xr.DataArray
    metrics: pd.Series
    train_fit: object = None


def _span(dates) -> float:
    return max(float((dates[-1] - dates[0]).days), 1.0)


def forecast_expected(train: Posterior, full_data: MMMData, chunk: int = 250) -> np.ndarray:
    """Expected target of ``full_data``'s dates under the training posterior's draws,
    target units.

    The design is built from ``full_data`` with the training panel's media, target and
    control scales, and the trend draws are rescaled from the training span to the full
    span, so on the training dates this equals ``results.expected_target(train)``.

    Returns
    -------
    ndarray, dims (sample, date, geo)
    """
    post = as_posterior(train)
    spec, tsc, fsc = post.spec, post.data.scaling, full_data.scaling
    design = make_design(full_data, spec)
    design = replace(
        design,
        stack=design.stack * (fsc.media / tsc.media)[None, None],
        controls=(full_data.control_values - tsc.control_center) / tsc.control_scale,
        target_scale=tsc.target,
    )
    values = dict(post.draws.values)
    if "trend" in values:
        values["trend"] = values["trend"] * _span(full_data.dates) / _span(post.data.dates)
    return chunked(values, lambda c: expected_response(design, c, spec), chunk) * tsc.target


def holdout_forecast(
    train: Posterior, full_data: MMMData, random_seed: int | None = 0, chunk: int = 250
) -> Holdout:
    """Forecast the periods of ``full_data`` that the training posterior did not see.

    The draws of ``train`` are applied to a design built from ``full_data`` with the
    training panel's scaling, and the trend draws rescaled to the full span (see the
    module docstring).
    """
    post = as_posterior(train)
    n_train = post.data.n_dates
    weeks = full_data.n_dates - n_train
    if weeks < 1 or not full_data.dates[:n_train].equals(post.data.dates):
        raise DataError(
            "The holdout panel must extend the training panel: same first "
            f"{n_train} dates and at least one more (got {full_data.n_dates} dates)."
        )
    mu = forecast_expected(post, full_data, chunk)[:, n_train:]
    values, shape = post.draws
    rng = np.random.default_rng(random_seed)
    pred = predictive_noise(mu, values, post.spec, post.data.scaling.target, rng)
    obs = full_data.target[n_train:]
    coords = {"date": full_data.dates[n_train:], "geo": list(full_data.geos)}
    return Holdout(
        weeks=weeks,
        expected=to_sample_array(mu, shape, ("date", "geo"), coords, "expected_target"),
        predictive=to_sample_array(pred, shape, ("date", "geo"), coords, "posterior_predictive"),
        observed=xr.DataArray(obs, dims=("date", "geo"), coords=coords, name="observed"),
        metrics=_metrics(mu, pred, obs),
        train_fit=train,
    )


def _metrics(mu: np.ndarray, pred: np.ndarray, obs: np.ndarray) -> pd.Series:
    """MAPE of the mean forecast, CRPS (absolute and relative) and coverage; ``mu`` and
    ``pred`` dims (sample, date, geo), ``obs`` dims (date, geo)."""
    crps = float(crps_draws(pred, obs).mean())
    return pd.Series(
        {
            "mape": float(np.mean(np.abs(mu.mean(axis=0) - obs) / np.abs(obs))),
            "crps": crps,
            "crps_rel": float(crps / np.abs(obs).mean()),
            **{f"coverage_{round(p * 100)}": coverage(pred, obs, p) for p in COVERAGE_PROBS},
        },
        name="holdout",
    )


def holdout(
    data: MMMData, spec=None, weeks: int = 13, random_seed: int | None = 0, **fit_kwargs
) -> Holdout:
    """Fit on all but the last ``weeks`` periods and forecast them.

    ``fit_kwargs`` go to the sampler (draws, tune, chains, progress, ...; see ``bm.fit``).
    """
    if not 1 <= weeks < data.n_dates - 4:
        raise DataError(
            f"weeks={weeks}: a holdout needs at least 1 period and leaves at least 5 of "
            f"{data.n_dates} for training."
        )
    train_fit = sample(
        data.truncate(data.n_dates - weeks), spec, random_seed=random_seed, **fit_kwargs
    )
    return holdout_forecast(train_fit, data, random_seed=random_seed)
