"""Budget plans as week-by-week future frames, so that a plan can be forecast.

:func:`plan_weeks` spreads a plan's window spend (per spend group, or per geo and spend
group) over the weeks after the history exactly as the optimizer's planner does: spend is
split across geos like the last ``weeks`` weeks of history, turned into media with each
channel's cost per exposure of those weeks, and flighted like them (``"history"``) or
evenly (``"flat"``); organic channels keep the media of the last ``weeks`` weeks; a
reach-and-frequency channel's spend buys reach at the window frequency of
``optimize.rf_window`` (``rf_frequency``: ``"history"`` or ``{channel: frequency}``).
:func:`plan_frame` writes the result in the training frame's format, which
``bayes_mmm.forecast.predict`` and ``compare_scenarios`` read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError
from bayes_mmm.forecast import next_dates
from bayes_mmm.optimize.rf_window import window_rf
from bayes_mmm.optimize.window import _check_window, _cost_per_exposure, _flighting
from bayes_mmm.rf_input import rf_source_columns


def _cells(data: MMMData, spend, weeks: int) -> np.ndarray:
    """A plan's window spend as dims (geo, spend_group)."""
    spend = getattr(spend, "spend", spend)  # an Allocation's optimal plan
    labels = data.group_labels
    if isinstance(spend, pd.DataFrame):
        frame = spend.reindex(index=list(data.geos), columns=labels)
        if frame.isna().any().any():
            raise DataError(
                f"The plan needs a row per geo {list(data.geos)} and a column per spend group "
                f"{labels}; got rows {list(spend.index)} and columns {list(spend.columns)}."
            )
        return frame.to_numpy(float)
    series = pd.Series(spend, dtype=float)
    missing = [k for k in labels if k not in series.index]
    if missing:
        raise DataError(f"The plan lacks spend groups {missing} (it needs {labels}).")
    hist = data.spend[-weeks:].sum(axis=0)  # (geo, group)
    total = hist.sum(axis=0)
    share = np.where(total > 0, hist / np.where(total > 0, total, 1.0), 1.0 / len(data.geos))
    return share * series[labels].to_numpy()[None]


def plan_weeks(
    data: MMMData, spend, weeks: int = 13, flighting: str = "history", rf_frequency="history"
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """A plan's window spend spread over the ``weeks`` periods after the history.

    Parameters
    ----------
    data : MMMData
        The fitted panel.
    spend : Allocation, Series (spend group) or DataFrame (geo × spend group)
        Window spend; a Series is split across geos as in the last ``weeks`` weeks.
    weeks : int
    flighting : {"history", "flat"}
    rf_frequency : "history" or dict of str to float
        Window frequency of the R&F channels (``optimize.rf_window``).

    Returns
    -------
    dates : DatetimeIndex, dims (date,)
    media : ndarray, dims (date, geo, channel)
    spend : ndarray, dims (date, geo, spend_group)
    """
    dates, media, weekly, _ = _plan_arrays(data, spend, weeks, flighting, rf_frequency)
    return dates, media, weekly


def _plan_arrays(data: MMMData, spend, weeks, flighting: str, rf_frequency):
    """:func:`plan_weeks`'s arrays and the R&F channels' window frequency, dims (date, geo,
    rf_channel) (None without them)."""
    weeks = _check_window(data, weeks, flighting)
    cells = _cells(data, spend, weeks)
    share = _flighting(data.media[-weeks:], flighting)  # (date, geo, channel), sums to 1
    per_channel = cells @ data.group_matrix.T  # (geo, channel)
    unit = share * _cost_per_exposure(data, weeks)[None]
    frequency = None
    if data.rf_channels:
        unit, frequency = window_rf(data, unit, weeks, flighting, rf_frequency)
    media = unit * per_channel[None]
    organic = [c for c, g in enumerate(data.channel_group) if g is None]
    media[..., organic] = data.media[-weeks:][..., organic]
    members = data.group_matrix / np.maximum(data.group_matrix.sum(axis=0), 1.0)
    weekly = (share @ members) * cells[None]  # (date, geo, group)
    return next_dates(data, weeks), media, weekly, frequency


def plan_frame(
    data: MMMData, spend, weeks: int = 13, flighting: str = "history", rf_frequency="history"
):
    """A plan as a future frame in the training frame's format (:func:`plan_weeks`).

    The frame has the date and geo columns, every media and spend column, each R&F
    channel's reach (under the channel's name and its reach column) and frequency column,
    and the event columns (0). Controls are not part of a budget plan: add their future values, or
    forecast with ``controls="last"`` or ``"mean"``.

    Returns
    -------
    DataFrame, one row per (date, geo).
    """
    dates, media, weekly, frequency = _plan_arrays(data, spend, weeks, flighting, rf_frequency)
    date_col = data.source_columns.get("date") or "date"
    geo_col = data.source_columns.get("geo") or None
    idx = pd.MultiIndex.from_product([dates, list(data.geos)], names=[date_col, "__geo__"])
    cols: dict[str, np.ndarray | float] = {
        c: media[..., k].reshape(-1) for k, c in enumerate(data.channels)
    }
    for k, g in enumerate(data.spend_groups):
        cols[g] = weekly[..., k].reshape(-1)
    for r, channel in enumerate(data.rf_channels):
        reach_col, freq_col = rf_source_columns(data.source_columns, channel)
        cols[reach_col] = cols[channel]
        cols[freq_col] = frequency[..., r].reshape(-1)
    for e in data.events:
        cols[e] = 0.0
    frame = pd.DataFrame(cols, index=idx).reset_index()
    if geo_col:
        return frame.rename(columns={"__geo__": geo_col})
    return frame.drop(columns="__geo__")
