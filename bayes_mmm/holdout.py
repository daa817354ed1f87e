"""Holdout: fit on all but the last periods and score the forecast of them (MAPE, CRPS,
coverage).

Design choice: the mean function is evaluated on the *full* panel's dates through
``forecast.forecast_design``, the one design of unseen periods: the *training* panel's
scaling (media, target and control scales, adstocked controls lagged after that scaling),
because the draws are on the training fit's scale, and time measured in units of the
training span, so the trend extrapolates linearly at its fitted slope.

This module samples again (:func:`holdout`), so it sits above the analyses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError
from bayes_mmm.forecast import forecast_design
from bayes_mmm.posterior import Posterior, as_posterior, chunked, to_sample_array
from bayes_mmm.ppc import COVERAGE_PROBS, coverage, crps_draws
from bayes_mmm.response import expected_response
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


def forecast_expected(train: Posterior, full_data: MMMData, chunk: int = 250) -> np.ndarray:
    """Expected target of ``full_data``'s dates under the training posterior's draws,
    target units.

    The design is ``forecast.forecast_design`` of ``full_data`` (the training panel's
    scales, time in units of the training span), so on the training dates this equals
    ``results.expected_target(train)``.

    Returns
    -------
    ndarray, dims (sample, date, geo)
    """
    post = as_posterior(train)
    design = forecast_design(post, full_data)
    values = post.draws.values
    scale = design.target_scale
    return chunked(values, lambda c: expected_response(design, c, post.spec), chunk) * scale


def holdout_forecast(
    train: Posterior, full_data: MMMData, random_seed: int | None = 0, chunk: int = 250
) -> Holdout:
    """Forecast the periods of ``full_data`` that the training posterior did not see.

    The draws of ``train`` are applied to ``forecast.forecast_design`` of ``full_data``
    (see the module docstring).
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
