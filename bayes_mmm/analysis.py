"""Contributions, ROI and the decomposition: numpy on posterior draws, xarray outside.

One counterfactual path (``channel_contribution_draws``) feeds everything: the response
of each channel to a given media plan, per draw, in target units. Because the model is
additive across channels, removing a channel removes exactly its contribution, so

- ``contributions``: the response to observed media, over the observed dates;
- ``roi``: (revenue with the channel's spend − revenue without it) / spend, with the
  carryover tail of in-window spend (``l_max - 1`` periods after the last date) included.

These functions work on numpy draws (``Posterior.draws``) and on the truth of a simulation
alike; ``bayes_mmm.results`` wraps them for a ``Posterior`` with named dims. Draws are
processed in chunks, so the full (chain, draw, date, geo, channel) tensor is only
materialised when a caller asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.posterior import CHUNK, SAMPLE_DIMS, chunked
from bayes_mmm.response import baseline_response, make_design, media_response
from bayes_mmm.spec import ModelSpec


def channel_contribution_draws(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    media: np.ndarray | None = None,
    tail: int = 0,
    reduce: Callable[[np.ndarray], np.ndarray] | None = None,
    chunk: int = CHUNK,
    frequency: np.ndarray | None = None,
) -> np.ndarray:
    """Per-draw channel contributions in target units for a media plan.

    Parameters
    ----------
    media : ndarray, dims (date, geo, channel), optional
        Media in original units (default: observed).
    tail : int
        Zero-media periods appended to catch carryover after the last date.
    reduce : callable, optional
        Applied to each chunk of shape (sample, date, geo, channel), e.g. a sum over date,
        so that the full tensor is never held in memory.
    chunk : int
        Draws per chunk.
    frequency : ndarray, dims (date, geo, rf_channel), optional
        Frequency of the reach-and-frequency channels (default: observed); their reach is
        their entry of ``media``.

    Returns
    -------
    ndarray, dims (sample, date, geo, channel), or whatever ``reduce`` returns per sample.
    """
    design = make_design(data, spec, media=media, tail=tail, frequency=frequency)
    scale = design.target_scale[None, None, :, None]

    def one(chunk):
        out = media_response(design.stack, chunk, spec, design.rf) * scale
        return reduce(out) if reduce is not None else out

    return chunked(draws, one, chunk)


def baseline_draws(data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Non-media expected target per draw in target units, dims (sample, date, geo)."""
    design = make_design(data, spec)
    return chunked(
        draws, lambda c: baseline_response(design, c, spec) * design.target_scale[None, None, :]
    )


def expected_target_draws(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Expected target per draw (baseline + every channel) in target units, dims (sample,
    date, geo). The channels are summed chunk by chunk, so the per-channel (sample, date,
    geo, channel) tensor is never held (on a 40-geo panel it is over 1 GB)."""
    media = channel_contribution_draws(data, spec, draws, reduce=lambda x: x.sum(axis=-1))
    return baseline_draws(data, spec, draws) + media


def mean_contributions(data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]):
    """Posterior mean of the channel contributions, dims (date, geo, channel), summed chunk
    by chunk (never the full (sample, date, geo, channel) tensor)."""
    n = next(iter(draws.values())).shape[0]
    sums = channel_contribution_draws(
        data, spec, draws, reduce=lambda x: x.sum(axis=0, keepdims=True)
    )
    return sums.sum(axis=0) / n


def roi_draws(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray], shape, by: str | None = None
) -> xr.DataArray:
    """ROI per spend group, per draw: incremental revenue (carryover included) / spend.

    Returns
    -------
    DataArray, dims (chain, draw, channel) or (chain, draw, geo, channel) with ``by="geo"``,
    or (chain, draw, <geo_group column>, channel) with ``by`` the name of the panel's
    geo-group column (e.g. ``"brand"``); the ``channel`` coordinate holds spend-group
    labels (``MMMData.group_labels``).
    """
    group = data.source_columns.get("geo_group", "") if data.geo_group else ""
    if by not in (None, "geo") and not (group and by == group):
        levels = ["geo", group] if group else ["geo"]
        raise SpecError(f"by={by!r}: use None or one of {levels}.")
    total = channel_contribution_draws(
        data, spec, draws, tail=spec.l_max - 1, reduce=lambda x: x.sum(axis=1)
    )  # (sample, geo, channel)
    incr = total @ data.group_matrix  # (sample, geo, spend_group)
    spend = data.spend.sum(axis=0)  # (geo, spend_group)
    labels = data.group_labels
    dims: tuple[str, ...]
    if by == "geo":
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(spend > 0, incr / spend, np.nan)
        dims, coords = ("geo", "channel"), {"geo": list(data.geos), "channel": labels}
    elif by is not None:
        names, member = data.group_membership()
        value = np.einsum("sgk,gb->sbk", incr, member) / (member.T @ spend)
        dims, coords = (by, "channel"), {by: names, "channel": labels}
    else:
        value = incr.sum(axis=1) / spend.sum(axis=0)
        dims, coords = ("channel",), {"channel": labels}
    value = value.reshape(*shape, *value.shape[1:])
    return xr.DataArray(value, dims=(*SAMPLE_DIMS, *dims), coords=coords, name="roi")


def summarize(da: xr.DataArray, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Mean, median and highest-density interval of ``da`` over (chain, draw).

    Returns
    -------
    DataFrame with columns ``mean``, ``median``, ``lower``, ``upper`` indexed by the
    remaining dims; ``df.attrs["hdi_prob"]`` records the interval's probability.
    """
    hdi = az.hdi(da, prob=hdi_prob)
    out = xr.Dataset(
        {
            "mean": da.mean(SAMPLE_DIMS),
            "median": da.median(SAMPLE_DIMS),
            "lower": hdi.sel(ci_bound="lower", drop=True),
            "upper": hdi.sel(ci_bound="upper", drop=True),
        }
    )
    df = out.to_dataframe()[["mean", "median", "lower", "upper"]]
    df.attrs["hdi_prob"] = hdi_prob
    return df
