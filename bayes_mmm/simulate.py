"""``bm.simulate``: synthetic geo panels with known truth, for recovery checks.

The generative process is the model's own (``bayes_mmm.response``) evaluated at known
parameters, so a correct sampler must recover it: geometric adstock, saturation
normalised at typical exposure, log-normal geo-level channel effects around a channel
mean, geo intercepts and trends, shared yearly seasonality and controls, Gaussian noise
proportional to each geo's size.

Ground truth ROI is the same counterfactual the analysis uses: the channel's revenue
(carryover tail included) divided by its spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.response import baseline_response, make_design, media_response
from bayes_mmm.spec import ModelSpec

CHANNEL_NAMES = (
    "tv",
    "search",
    "social",
    "display",
    "radio",
    "video",
    "ooh",
    "print",
    "email",
    "affiliate",
    "podcast",
    "influencer",
    "retail",
    "cinema",
    "sms",
)


@dataclass(frozen=True)
class Truth:
    """The simulator's ground truth.

    Attributes
    ----------
    params : dict of str to ndarray
        Parameters on the model's scale (``alpha``, ``ec``, ``slope`` (channel), ``beta``
        (geo, channel), ``intercept``, ``trend``, ``sigma`` (geo), ``season`` (fourier),
        ``control_coef`` (control)), with ``geo_size`` (geo) the revenue scale of each geo.
    roi : pd.Series
        True ROI per channel (carryover included).
    roi_by_geo : pd.DataFrame
        True ROI, geo × channel.
    contributions : DataArray, dims (date, geo, channel)
        True channel contributions in target units.
    baseline : DataArray, dims (date, geo)
        True non-media expected target.
    spec : ModelSpec
        The structure the data were generated with.
    """

    params: dict
    roi: pd.Series
    roi_by_geo: pd.DataFrame
    contributions: xr.DataArray
    baseline: xr.DataArray
    spec: ModelSpec


def simulate(
    n_geos: int = 10,
    n_weeks: int = 156,
    n_channels: int = 5,
    n_controls: int = 1,
    noise: float = 0.05,
    seed: int = 0,
    start: str = "2022-01-03",
    spec: ModelSpec | None = None,
    geo_spread: float = 0.2,
) -> tuple[pd.DataFrame, Truth]:
    """Simulate a weekly panel with known truth.

    Parameters
    ----------
    n_geos, n_weeks, n_channels, n_controls : int
    noise : float
        Observation noise as a share of each geo's revenue level.
    seed : int
    spec : ModelSpec, optional
        Structure to simulate from (saturation, ``l_max``, seasonality order).
    geo_spread : float
        Standard deviation of log channel effects across geos.

    Returns
    -------
    frame : DataFrame
        Columns ``date``, ``geo``, one spend column per channel (media are spend),
        ``control_1`` …, and ``revenue``; one row per (date, geo).
    truth : Truth
    """
    spec = spec or ModelSpec()
    rng = np.random.default_rng(seed)
    channels = [
        CHANNEL_NAMES[i] if i < len(CHANNEL_NAMES) else f"ch_{i}" for i in range(n_channels)
    ]
    controls = [f"control_{k + 1}" for k in range(n_controls)]
    geos = [f"geo_{g:02d}" for g in range(n_geos)]
    dates = pd.date_range(start, periods=n_weeks, freq="W-MON")

    geo_size = np.exp(rng.normal(np.log(1e5), 0.6, n_geos))
    spend_share = rng.dirichlet(np.full(n_channels, 3.0)) * 0.2
    spend = np.empty((n_weeks, n_geos, n_channels))
    for c in range(n_channels):
        level = geo_size * spend_share[c] * np.exp(rng.normal(0, 0.2, n_geos))
        pattern = _ar1(rng, n_weeks, n_geos, rho=0.6, sd=0.35)
        if c % 2 == 1:  # flighted: the channel is off in blocks of weeks
            pattern = pattern * _flights(rng, n_weeks, n_geos)
        spend[..., c] = np.round(level * pattern, 2)
    control_values = rng.normal(0.0, 1.0, (n_weeks, n_geos, n_controls)).cumsum(axis=0) * 0.3
    control_values += rng.normal(0, 1, (1, n_geos, n_controls))

    frame = _frame(dates, geos, channels, controls, spend, control_values, geo_size)
    # A provisional panel whose target equals the geo size reproduces the model's scalings
    # with target_scale == geo_size exactly.
    provisional = MMMData.from_frame(
        frame, date="date", target="revenue", media=channels, geo="geo", controls=controls
    )
    params = {
        "alpha": rng.uniform(0.1, 0.6, n_channels),
        "ec": rng.uniform(0.6, 1.6, n_channels),
        "slope": rng.uniform(0.8, 2.0, n_channels),
        "lam": rng.uniform(0.5, 2.0, n_channels),
        "intercept": rng.uniform(0.5, 0.8, n_geos),
        "trend": rng.normal(0.05, 0.05, n_geos),
        "season": rng.normal(0.0, 0.06, 2 * spec.yearly_seasonality),
        "control_coef": rng.normal(0.0, 0.04, n_controls),
        "sigma": np.full(n_geos, noise),
    }
    beta_mu = np.log(rng.uniform(0.04, 0.12, n_channels))
    params["beta"] = np.exp(beta_mu[None, :] + geo_spread * rng.normal(size=(n_geos, n_channels)))
    params["beta_mu"] = beta_mu

    design = make_design(provisional, spec)
    base = baseline_response(design, params, spec)
    media = media_response(design.stack, params, spec)
    y_scaled = base + media.sum(axis=-1) + noise * rng.standard_normal(base.shape)
    frame["revenue"] = np.round((y_scaled * geo_size[None, :]).reshape(-1), 2)

    contributions = media * geo_size[None, :, None]
    tail = make_design(provisional, spec, tail=spec.l_max - 1)
    total = (media_response(tail.stack, params, spec) * geo_size[None, :, None]).sum(axis=0)
    spend_total = spend.sum(axis=0)
    params["geo_size"] = geo_size
    truth = Truth(
        params=params,
        roi=pd.Series(total.sum(0) / spend_total.sum(0), index=channels, name="roi"),
        roi_by_geo=pd.DataFrame(total / spend_total, index=geos, columns=channels),
        contributions=xr.DataArray(
            contributions,
            dims=("date", "geo", "channel"),
            coords={"date": dates, "geo": geos, "channel": channels},
            name="contribution",
        ),
        baseline=xr.DataArray(
            base * geo_size[None, :],
            dims=("date", "geo"),
            coords={"date": dates, "geo": geos},
            name="baseline",
        ),
        spec=spec,
    )
    return frame, truth


def _ar1(rng, n_weeks, n_geos, rho, sd):
    """Positive multiplicative pattern with mean about 1, dims (date, geo)."""
    e = rng.normal(0, sd * np.sqrt(1 - rho**2), (n_weeks, n_geos))
    z = np.empty_like(e)
    z[0] = rng.normal(0, sd, n_geos)
    for t in range(1, n_weeks):
        z[t] = rho * z[t - 1] + e[t]
    return np.exp(z - sd**2 / 2)


def _flights(rng, n_weeks, n_geos, on=0.7):
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


def _frame(dates, geos, channels, controls, spend, control_values, geo_size) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([dates, geos], names=["date", "geo"])
    cols = {ch: spend[..., c].reshape(-1) for c, ch in enumerate(channels)}
    cols |= {k: control_values[..., i].reshape(-1) for i, k in enumerate(controls)}
    cols["revenue"] = np.repeat(geo_size[None, :], len(dates), axis=0).reshape(-1)
    return pd.DataFrame(cols, index=idx).reset_index()
