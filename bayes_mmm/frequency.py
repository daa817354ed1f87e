"""Optimal frequency of reach-and-frequency channels, per posterior draw.

Meridian's ``Analyzer.optimal_freq`` (``meridian/analysis/analyzer.py``) holds each R&F
channel's impressions (reach × frequency) fixed, so its spend is fixed too, sets the
frequency to each value of a grid with reach = impressions / frequency, and reports the
frequency of highest ROI. The same counterfactual runs here through the analysis path
(``analysis.channel_contribution_draws``: carryover tail included), per draw, so the
optimal frequency comes with an interval: the argmax of each draw's ROI curve. The argmax
of the posterior-mean curve (Meridian's point value) is reported next to it.

At a fixed frequency the R&F effect is linear in reach (``bayes_mmm.rf``): the ROI curve
is ``C · f(v / v̄) / v`` for frequency ``v``, with ``f`` the channel's unit saturation and
``C`` a per-draw constant, which tests use as an independent check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.analysis import channel_contribution_draws, summarize
from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior
from bayes_mmm.spec import ModelSpec

GRID_STEP = 0.1  # frequency grid spacing, as Meridian's default


def frequency_grid(data: MMMData, channel: str, step: float = GRID_STEP) -> np.ndarray:
    """Frequencies from 1 to the channel's highest observed frequency, ``step`` apart."""
    r = data.rf_channels.index(channel)
    assert data.frequency is not None  # a panel with R&F channels has frequencies
    top = max(float(data.frequency[..., r].max()), 1.0 + step)
    return np.round(np.arange(1.0, top + step / 2, step), 6)


def frequency_roi_draws(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    shape: tuple[int, ...],
    channel: str,
    grid: Sequence[float] | None = None,
) -> xr.DataArray:
    """ROI of R&F ``channel`` with its frequency set to each value of ``grid`` at fixed
    impressions (reach = observed reach × observed frequency / frequency).

    Returns
    -------
    DataArray, dims (chain, draw, frequency)
    """
    if channel not in data.rf_channels:
        raise SpecError(
            f"'{channel}' is not a reach-and-frequency channel (those are "
            f"{list(data.rf_channels)})."
        )
    values = frequency_grid(data, channel) if grid is None else np.asarray(grid, dtype=float)
    r, c = data.rf_channels.index(channel), data.channels.index(channel)
    assert data.frequency is not None  # a panel with R&F channels has frequencies
    spend = data.spend[..., data.spend_groups.index(data.channel_group[c])].sum()
    impressions = data.media[..., c] * data.frequency[..., r]
    out = []
    for value in values:
        media = data.media.copy()
        media[..., c] = impressions / value
        freq = data.frequency.copy()
        freq[..., r] = np.where(media[..., c] > 0, value, 1.0)
        total = channel_contribution_draws(
            data,
            spec,
            draws,
            media=media,
            frequency=freq,
            tail=spec.l_max - 1,
            reduce=lambda x: x[..., c].sum(axis=(1, 2)),
        )
        out.append(total / spend)
    roi = np.stack(out, axis=-1).reshape(*shape, len(values))
    return xr.DataArray(
        roi, dims=(*SAMPLE_DIMS, "frequency"), coords={"frequency": values}, name="roi"
    )


def optimal_frequency(
    post: Posterior, hdi_prob: float = 0.9, grid: Sequence[float] | None = None
) -> pd.DataFrame:
    """Optimal frequency of each R&F channel.

    Returns
    -------
    DataFrame indexed by R&F channel, with ``mean``, ``median``, ``lower``, ``upper`` of
    the per-draw optimal frequency, ``at_mean`` (the argmax of the posterior-mean ROI
    curve), ``roi_at_optimum`` (posterior-mean ROI there) and ``historical`` (the mean
    observed frequency where reach > 0).
    """
    data = post.data
    if not data.rf_channels:
        raise SpecError("The panel has no reach-and-frequency channels.")
    values, shape = post.draws
    curves = [
        frequency_roi_draws(data, post.spec, values, shape, channel, grid)
        for channel in data.rf_channels
    ]
    best = xr.concat(
        [c["frequency"][c.argmax("frequency")].drop_vars("frequency") for c in curves],
        dim=xr.DataArray(list(data.rf_channels), dims="rf_channel", name="rf_channel"),
    )
    table = summarize(best.rename("optimal_frequency"), hdi_prob)
    means = [c.mean(SAMPLE_DIMS) for c in curves]
    table["at_mean"] = [float(m["frequency"][int(m.argmax("frequency"))]) for m in means]
    table["roi_at_optimum"] = [float(m.max()) for m in means]
    table["historical"] = data.scaling.frequency
    table.attrs["hdi_prob"] = hdi_prob
    return table
