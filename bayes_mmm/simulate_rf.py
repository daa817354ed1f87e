"""Simulated geo panels with a reach-and-frequency channel and known truth.

The panel has ``tv`` (impressions with spend) and ``video`` (reach and frequency with
spend). Revenue follows the model's own mean (``response.media_response`` with the R&F
design, ``bayes_mmm.rf``) at known parameters, plus a per-geo level and Gaussian noise
proportional to each geo's size: no trend, no seasonality, so fit it with
``ModelSpec(trend=False, yearly_seasonality=0)``.

The truth holds each channel's ROI (revenue with the channel, carryover tail included,
minus revenue without it, over its spend, in original units) and the video channel's true
optimal frequency: the argmax over ``frequency.frequency_grid`` of ``f(v / v̄) / v``, the
closed form of the ROI curve at fixed impressions (``bayes_mmm.frequency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_mmm.data import MMMData
from bayes_mmm.frequency import frequency_grid
from bayes_mmm.kinds import unit_saturation
from bayes_mmm.response import make_design, media_response
from bayes_mmm.spec import ModelSpec

RF_TRUTH = {
    "alpha": np.array([0.5, 0.3]),
    "ec": np.array([1.0, 0.7]),
    "slope": np.array([1.5, 2.5]),
    "beta_mean": np.array([0.10, 0.08]),
}


@dataclass(frozen=True)
class RFTruth:
    """Ground truth of :func:`simulate_rf`.

    Attributes
    ----------
    params : dict of str to ndarray
        ``alpha``, ``ec``, ``slope`` (channel), ``beta`` (geo, channel), ``geo_size`` (geo).
    roi : pd.Series
        True ROI per channel (``tv``, ``video``).
    optimal_frequency : float
        The video channel's true optimal frequency (original units).
    """

    params: dict
    roi: pd.Series
    optimal_frequency: float


RF_COLUMNS: dict[str, Any] = dict(  # keyword arguments of MMMData.from_frame
    date="week",
    geo="geo",
    target="revenue",
    media=["tv"],
    spend={"tv": "tv_spend", "video": "video_spend"},
    reach_frequency={"video": ("video_reach", "video_frequency")},
)


def simulate_rf(
    n_geos: int = 5, n_weeks: int = 104, noise: float = 0.04, seed: int = 0, l_max: int = 6
) -> tuple[pd.DataFrame, RFTruth]:
    """Simulate a weekly panel with one impressions and one R&F channel.

    Returns
    -------
    frame : DataFrame
        One row per (week, geo); load it with ``MMMData.from_frame(frame, **RF_COLUMNS)``.
    truth : RFTruth
    """
    rng = np.random.default_rng(seed)
    frame = _inputs(rng, n_geos, n_weeks)
    provisional = MMMData.from_frame(
        frame.assign(revenue=1.0 + rng.random(len(frame))), **RF_COLUMNS
    )
    spec = ModelSpec(l_max=l_max, trend=False, yearly_seasonality=0)
    geo_size = np.exp(rng.normal(np.log(1e5), 0.4, n_geos))
    beta = RF_TRUTH["beta_mean"] * np.exp(rng.normal(0, 0.2, (n_geos, 2)))
    params = {k: RF_TRUTH[k][None] for k in ("alpha", "ec", "slope")} | {"beta": beta[None]}
    design = make_design(provisional, spec)
    media = media_response(design.stack, params, spec, design.rf)[0]  # (date, geo, channel)
    level = 1.0 - media.sum(-1).mean(0)
    scaled = level + media.sum(-1) + rng.normal(0, noise, media.shape[:2])
    frame["revenue"] = (scaled * geo_size[None, :]).T.reshape(-1)
    tail = make_design(provisional, spec, tail=l_max - 1)
    total = media_response(tail.stack, params, spec, tail.rf)[0] * geo_size[None, :, None]
    spend = provisional.spend.sum(axis=(0, 1))
    roi = pd.Series(total.sum(axis=(0, 1)) / spend, index=["tv", "video"], name="roi")
    grid = frequency_grid(provisional, "video")
    v = grid / provisional.scaling.frequency[0]
    curve = unit_saturation(
        "hill", v[None, None, :], ec=RF_TRUTH["ec"][1], slope=RF_TRUTH["slope"][1]
    )
    best = float(grid[np.argmax(curve[0, 0] / grid)])
    truth_params = {k: RF_TRUTH[k] for k in ("alpha", "ec", "slope")}
    return frame, RFTruth({**truth_params, "beta": beta, "geo_size": geo_size}, roi, best)


def _inputs(rng, n_geos: int, n_weeks: int) -> pd.DataFrame:
    """Media, reach, frequency and spend, one row per (week, geo), geo-major."""
    dates = pd.date_range("2022-01-03", periods=n_weeks, freq="W-MON")
    parts = []
    for g in range(n_geos):
        on = rng.random(n_weeks) < 0.75
        reach = np.where(on, rng.lognormal(np.log(3e4), 0.5, n_weeks), 0.0)
        freq = np.where(on, rng.uniform(1.0, 7.0, n_weeks), 0.0)
        tv = np.where(rng.random(n_weeks) < 0.7, rng.lognormal(np.log(1e5), 0.9, n_weeks), 0.0)
        cpm = rng.uniform(0.9, 1.1, n_weeks)
        parts.append(
            pd.DataFrame(
                {
                    "week": dates,
                    "geo": f"geo_{g}",
                    "tv": tv,
                    "tv_spend": tv * 0.01 * cpm,
                    "video_reach": reach,
                    "video_frequency": freq,
                    "video_spend": reach * freq * 0.02 * cpm,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
