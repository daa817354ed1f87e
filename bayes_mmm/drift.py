"""Drifting truths for the simulator: a slowly moving baseline and a seasonal media
multiplier (pure numpy).

They feed ``bm.simulate(baseline_drift=..., media_seasonality=...)`` and are built
independently of the model's HSGP (``bayes_mmm.hsgp``), so a recovery check of the
time-varying model compares it with a truth the model's own code did not produce. Both
curves follow the model's conventions: the baseline drift has mean 0 over the history in
every geo (the geo's level stays its mean), and the media multiplier has mean 1 over the
history for every channel (the coefficient stays the average effect).
"""

from __future__ import annotations

import numpy as np

#: Period of the media multiplier's cycle, in weeks (a year).
SEASON_WEEKS = 52.0


def baseline_drift(
    rng: np.random.Generator, n_dates: int, n_geos: int, size: float, length: float = 26.0
) -> np.ndarray:
    """A smooth random drift of each geo's baseline.

    White noise smoothed by a Gaussian kernel of ``length`` periods, then shifted to mean 0
    and scaled to standard deviation ``size`` over the history, geo by geo.

    Parameters
    ----------
    rng : Generator
    n_dates, n_geos : int
    size : float
        Standard deviation of the drift, as a share of the geo's mean target.
    length : float
        Kernel width in periods: the drift's time scale.

    Returns
    -------
    ndarray, dims (date, geo)
    """
    if size <= 0:
        return np.zeros((n_dates, n_geos))
    pad = int(3 * length)
    noise = rng.standard_normal((n_dates + 2 * pad, n_geos))
    lags = np.arange(-pad, pad + 1)
    kernel = np.exp(-0.5 * (lags / length) ** 2)
    smooth = np.stack(
        [np.convolve(noise[:, g], kernel, mode="valid") for g in range(n_geos)], axis=1
    )
    smooth = smooth - smooth.mean(axis=0, keepdims=True)
    return size * smooth / smooth.std(axis=0, keepdims=True)


def media_seasonality(
    rng: np.random.Generator, n_dates: int, n_channels: int, size: float
) -> np.ndarray:
    """A yearly cycle of each channel's effectiveness.

    ``exp(size · sin(2π t / 52 + phase_c))`` with a random phase per channel, divided by
    its mean over the history.

    Parameters
    ----------
    rng : Generator
    n_dates, n_channels : int
    size : float
        Amplitude of the log multiplier (0.3: effectiveness swings about ±35%).

    Returns
    -------
    ndarray, dims (date, channel)
        Positive, mean 1 over the history per channel.
    """
    if size <= 0:
        return np.ones((n_dates, n_channels))
    phase = rng.uniform(0.0, 2.0 * np.pi, n_channels)
    t = np.arange(n_dates, dtype=float)[:, None]
    mult = np.exp(size * np.sin(2.0 * np.pi * t / SEASON_WEEKS + phase[None, :]))
    return mult / mult.mean(axis=0, keepdims=True)


def drifts(seed: int, data, baseline: float, seasonality: float) -> dict[str, np.ndarray]:
    """The simulator's drifting truths for a panel shaped like ``data`` (an ``MMMData``).

    Randomness comes from the stream ``(seed, 2)``, so panels without drift are unchanged.

    Parameters
    ----------
    baseline : float
        Size of :func:`baseline_drift` (0: none).
    seasonality : float
        Size of :func:`media_seasonality` (0: none).

    Returns
    -------
    dict
        ``tv_intercept`` (date, geo) and ``media_multiplier`` (date, channel), each only
        when asked for: the model's own time-varying terms, so the true ROI includes the
        multiplier (held at its last value over the carryover tail, as the analysis does).
    """
    rng = np.random.default_rng([seed, 2])
    out = {}
    if baseline > 0:
        out["tv_intercept"] = baseline_drift(rng, data.n_dates, len(data.geos), baseline)
    if seasonality > 0:
        n = len(data.channels)
        out["media_multiplier"] = media_seasonality(rng, data.n_dates, n, seasonality)
    return out


def ar1(rng, n_weeks, n_geos, rho, sd):
    """Positive multiplicative pattern with mean about 1, dims (date, geo)."""
    e = rng.normal(0, sd * np.sqrt(1 - rho**2), (n_weeks, n_geos))
    z = np.empty_like(e)
    z[0] = rng.normal(0, sd, n_geos)
    for t in range(1, n_weeks):
        z[t] = rho * z[t - 1] + e[t]
    return np.exp(z - sd**2 / 2)


def flights(rng, n_weeks, n_geos, on=0.7):
    """0/1 flighting blocks of 2–6 weeks, dims (date, geo)."""
    out = np.zeros((n_weeks, n_geos))
    for g in range(n_geos):
        t = 0
        while t < n_weeks:
            length = int(rng.integers(2, 7))
            out[t : t + length, g] = float(rng.random() < on)
            t += length
    out[0] = 1.0
    return out
