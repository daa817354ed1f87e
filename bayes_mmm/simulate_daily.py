"""Simulated daily geo panels with a day-of-week pattern and known truth.

Revenue follows the model's own mean (``response.media_response`` and
``response.baseline_response``) at known parameters: geometric adstock over ``l_max``
days, Hill saturation, log-normal geo coefficients, a day-of-week cycle shared by every
geo (``DOW_PATTERN``, shares of a geo's mean revenue, Monday first) and Gaussian noise
proportional to each geo's size. No trend, no yearly cycle: fit it with
``ModelSpec(l_max=..., trend=False, yearly_seasonality=0)``.

The truth holds each channel's ROI (carryover tail included, original units) and the
day-of-week effect of each weekday, to compare with :func:`weekday_effect` of the fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_mmm.data import MMMData
from bayes_mmm.response import WEEK_DAYS, baseline_response, make_design, media_response
from bayes_mmm.spec import ModelSpec
from bayes_mmm.transforms import fourier_features

#: True day-of-week effect, Monday … Sunday, as a share of a geo's mean revenue.
DOW_PATTERN = np.array([0.04, 0.02, 0.0, 0.01, 0.05, -0.06, -0.06])


@dataclass(frozen=True)
class DailyTruth:
    """Ground truth of :func:`simulate_daily`.

    Attributes
    ----------
    params : dict of str to ndarray
        ``alpha``, ``ec``, ``slope`` (channel), ``beta`` (geo, channel), ``geo_size`` (geo).
    roi : pd.Series
        True ROI per channel.
    weekday : pd.Series
        True day-of-week effect, Monday … Sunday (``DOW_PATTERN``).
    """

    params: dict
    roi: pd.Series
    weekday: pd.Series


def daily_columns(n_channels: int) -> dict:
    """``MMMData.from_frame`` arguments for a :func:`simulate_daily` frame."""
    media = [f"ch{c}" for c in range(n_channels)]
    return dict(
        date="day",
        geo="geo",
        target="revenue",
        media=media,
        spend={m: f"{m}_spend" for m in media},
    )


def simulate_daily(
    n_geos: int = 5,
    n_days: int = 730,
    n_channels: int = 4,
    l_max: int = 28,
    noise: float = 0.05,
    seed: int = 0,
) -> tuple[pd.DataFrame, DailyTruth]:
    """Simulate a daily panel (one row per (day, geo)) with known truth."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_days, freq="D")  # a Monday
    spend = np.where(
        rng.random((n_days, n_geos, n_channels)) < 0.6,
        rng.lognormal(np.log(1e3), 0.7, (n_days, n_geos, n_channels)),
        0.0,
    )
    frame = _frame(dates, spend, rng)
    columns = daily_columns(n_channels)
    placeholder = frame.assign(revenue=1.0 + rng.random(len(frame)))  # scales media only
    provisional = MMMData.from_frame(placeholder, **columns)
    spec = ModelSpec(l_max=l_max, trend=False, yearly_seasonality=0)
    geo_size = np.exp(rng.normal(np.log(2e4), 0.4, n_geos))
    params = {
        "alpha": rng.uniform(0.7, 0.9, n_channels)[None],
        "ec": rng.uniform(0.6, 1.5, n_channels)[None],
        "slope": rng.uniform(1.0, 2.0, n_channels)[None],
        "beta": (
            rng.uniform(0.05, 0.12, n_channels) * np.exp(rng.normal(0, 0.2, (n_geos, n_channels)))
        )[None],
        "weekday": _weekday_coefficients(spec.weekday_seasonality)[None],
        "intercept": np.zeros((1, n_geos)),
    }
    design = make_design(provisional, spec)
    mean = baseline_response(design, params, spec) + media_response(design.stack, params, spec).sum(
        -1
    )
    mean = mean[0] + 1.0 - mean[0].mean(axis=0)
    revenue = (mean + rng.normal(0, noise, mean.shape)) * geo_size[None, :]
    frame["revenue"] = revenue.T.reshape(-1)
    tail = make_design(provisional, spec, tail=l_max - 1)
    total = media_response(tail.stack, params, spec)[0] * geo_size[None, :, None]
    roi = pd.Series(
        total.sum(axis=(0, 1)) / provisional.spend.sum(axis=(0, 1)),
        index=columns["media"],
        name="roi",
    )
    days = pd.Index(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    params = {k: v[0] for k, v in params.items() if k != "intercept"} | {"geo_size": geo_size}
    return frame, DailyTruth(params, roi, pd.Series(DOW_PATTERN, index=days, name="weekday"))


def _weekday_coefficients(order: int) -> np.ndarray:
    """Fourier coefficients (dims (weekday_fourier,)) reproducing ``DOW_PATTERN`` over a
    Monday-first week, by least squares (exact: the pattern has mean 0 and order 3 spans
    every such pattern)."""
    features = fourier_features(np.arange(7.0), WEEK_DAYS, order)
    coef, *_ = np.linalg.lstsq(features, DOW_PATTERN - DOW_PATTERN.mean(), rcond=None)
    return coef


def weekday_effect(data: MMMData, draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Day-of-week effect per draw, Monday … Sunday, share of a geo's mean revenue, dims
    (sample, weekday): ``weekday`` coefficients times the 7-day Fourier basis, each day
    evaluated at its date offset from the panel's first date."""
    offset = np.arange(7.0) - data.dates[0].dayofweek  # day index of Monday … Sunday
    features = fourier_features(offset, WEEK_DAYS, draws["weekday"].shape[-1] // 2)
    return draws["weekday"] @ features.T


def weekday_band(effect: np.ndarray, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous ``prob`` band for the seven-day pattern, each dim (weekday,).

    ``effect`` is ``weekday_effect``'s (sample, weekday) draws. The band is Bonferroni over
    the seven days (per-day quantiles at ``(1 - prob) / 14`` and its complement), so a
    calibrated posterior covers the whole true pattern with probability at least ``prob``;
    seven separate ``prob`` intervals all cover it only about ``prob ** 7`` of the time
    (48% at 0.9).
    """
    tail = (1.0 - prob) / (2 * effect.shape[-1])
    lower, upper = np.quantile(effect, [tail, 1.0 - tail], axis=0)
    return lower, upper


def _frame(dates: pd.DatetimeIndex, spend: np.ndarray, rng) -> pd.DataFrame:
    """Media (impressions at a varying cost) and spend, one row per (day, geo), geo-major."""
    n_days, n_geos, n_channels = spend.shape
    parts = []
    for g in range(n_geos):
        cols = {"day": dates, "geo": f"geo_{g}"}
        for c in range(n_channels):
            cols[f"ch{c}"] = spend[:, g, c] * 100.0 * rng.uniform(0.9, 1.1, n_days)
            cols[f"ch{c}_spend"] = spend[:, g, c]
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True)
