"""Reach-and-frequency (R&F) channels in the window problem.

An R&F channel's effect is ``beta · adstock(reach × s(frequency))`` (``bayes_mmm.rf``,
``s`` the unit saturation of scaled frequency): at a given frequency in each week it is
*linear* in reach. Spend buys reach, with the frequency set by ``rf_frequency``:

- ``"history"`` (default): each window week and geo keeps the frequency of the matching
  week of the last ``weeks`` weeks (with ``"flat"`` flighting, or in a week without reach,
  the geo's reach-weighted mean frequency of those weeks; else the channel's mean), and
  spend scales reach: ``reach = reach_hist × spend / spend_hist`` per geo and week (the
  last weeks' cost per person reached).
- a mapping ``{channel: frequency}``: every window week runs at that frequency.
  Impressions are bought at the last weeks' cost per impression and flighted like them,
  and ``reach = impressions / frequency``. Channels it leaves out keep ``"history"``.
- ``"optimal"``: the mapping of each channel's optimal frequency (the argmax of the
  posterior-mean ROI curve at fixed impressions, Meridian's ``optimal_freq``), resolved
  from the posterior by the entry points (``optimize.rf_optimal``) before the planner is
  built: the planner itself takes ``"history"`` or a mapping, so that this layer needs no
  analysis.

The window's exposure of an R&F channel, per draw, is then ``reach_scaled ×
s(frequency_scaled)`` adstocked: history carryover for ``Planner.base`` and one unit of
spend for ``Planner.unit``, in the channel's slot. The planner's saturation of R&F channels
is the identity (:data:`LINEAR`: value ``x``, slope 1, curvature 0) and their coefficient
``beta × target_scale``, so the revenue stays ``sum coef · f(base + s · unit)`` and the
gradients, the curvature and the separability the solvers use hold unchanged: an R&F
cell's curve is a straight line whose slope is its ROI. A plan therefore moves R&F spend
to a bound or to zero unless bounds hold it (as in Meridian, whose R&F response is also
linear in reach at fixed frequency).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.response import adstock_weights
from bayes_mmm.rf import frequency_saturation, rf_design, rf_unit_response
from bayes_mmm.spec import ModelSpec

LINEAR = "linear"  # the planner's saturation of R&F channels: the identity
RF_FREQUENCIES = ("history", "optimal")  # "optimal": resolved by optimize.rf_optimal
CHUNK = 100  # draws per pass: the (sample, lag, date, geo) stacks stay cache-sized


def rf_index(data: MMMData) -> list[int]:
    """Positions of the R&F channels in ``data.channels``, dims (rf_channel,)."""
    return [data.channels.index(c) for c in getattr(data, "rf_channels", ())]


def check_rf_frequency(data: MMMData, rf_frequency, resolved: bool = False) -> None:
    """Raise ``SpecError`` for an ``rf_frequency`` that is not ``"history"``,
    ``"optimal"`` (unless ``resolved``: the planner's own argument) or a mapping of R&F
    channels to frequencies of at least 1."""
    if isinstance(rf_frequency, str):
        if resolved and rf_frequency == "optimal":
            raise SpecError(
                'rf_frequency="optimal" is resolved from a posterior by optimize(), '
                'what_if() and response_curves(); a planner takes "history" or '
                "{channel: frequency} (optimize.rf_optimal.resolve_rf_frequency gives it)."
            )
        if rf_frequency not in RF_FREQUENCIES:
            raise SpecError(
                f"rf_frequency={rf_frequency!r}: choose one of {RF_FREQUENCIES} or give "
                "{channel: frequency}."
            )
        return
    if not isinstance(rf_frequency, Mapping):
        raise SpecError(
            f"rf_frequency={rf_frequency!r}: choose one of {RF_FREQUENCIES} or give "
            "{channel: frequency}."
        )
    rf = tuple(getattr(data, "rf_channels", ()))
    for channel, value in rf_frequency.items():
        if channel not in rf:
            raise SpecError(
                f"rf_frequency names '{channel}', which is not a reach-and-frequency channel "
                f"(those are {list(rf)})."
            )
        if not np.isfinite(value) or value < 1:
            raise SpecError(
                f"rf_frequency['{channel}'] = {value!r}: a frequency (exposures per person "
                "reached) is at least 1."
            )


def history_frequency(data: MMMData, weeks: int, flighting: str) -> np.ndarray:
    """Frequency of each window week at ``"history"``, dims (date, geo, rf_channel).

    The matching week of the last ``weeks`` weeks where it had reach (``"history"``
    flighting); otherwise the geo's reach-weighted mean frequency of those weeks, or the
    channel's mean frequency (``Scaling.frequency``) where the geo had no reach.
    """
    assert data.frequency is not None  # a panel with R&F channels has frequencies
    reach = data.media[-weeks:][..., rf_index(data)]
    freq = data.frequency[-weeks:]
    total = reach.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total > 0, (reach * freq).sum(axis=0) / total, np.nan)
    mean = np.where(np.isnan(mean), data.scaling.frequency[None], mean)  # (geo, rf)
    if flighting == "flat":
        return np.broadcast_to(mean, freq.shape).copy()
    return np.where(reach > 0, freq, mean[None])


def window_rf(
    data: MMMData,
    unit_media: np.ndarray,
    weeks: int,
    flighting: str,
    rf_frequency,
) -> tuple[np.ndarray, np.ndarray]:
    """Media per unit of spend and frequency of the window, R&F channels set by
    ``rf_frequency``: ``"history"`` or ``{channel: frequency}`` (module docstring).

    Parameters
    ----------
    unit_media : ndarray, dims (date, geo, channel)
        Media per unit of spend at the last weeks' cost per exposure and flighting (for an
        R&F channel, its reach).

    Returns
    -------
    unit_media : ndarray, dims (date, geo, channel)
        With the R&F channels' reach per unit of spend at their window frequency.
    frequency : ndarray, dims (date, geo, rf_channel)
        Original units.
    """
    check_rf_frequency(data, rf_frequency, resolved=True)
    freq = history_frequency(data, weeks, flighting)
    if isinstance(rf_frequency, str):  # "history"
        return unit_media, freq
    unit_media = unit_media.copy()
    for r, channel in enumerate(data.rf_channels):
        if channel in rf_frequency:
            c = data.channels.index(channel)
            value = float(rf_frequency[channel])
            unit_media[..., c] *= freq[..., r] / value  # same impressions, reach at ``value``
            freq[..., r] = value
    return unit_media, freq


def rf_exposures(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    base_in: np.ndarray,
    unit_in: np.ndarray,
    frequency: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Adstocked exposure ``reach × s(frequency)`` of the R&F channels over window + tail,
    without window spend and of one unit of spend, dims (sample, date, geo, rf_channel).

    Parameters
    ----------
    base_in, unit_in : ndarray, dims (lag + date, geo, channel)
        Scaled media (``window.exposure_inputs``): history then window.
    frequency : ndarray, dims (date, geo, rf_channel)
        Window frequency (original units); the ``l_max - 1`` weeks before it keep theirs.
    """
    spec = spec.for_channels(data.channels)
    lag, index = spec.l_max - 1, rf_index(data)
    freq = input_frequency(data, spec, frequency) / data.scaling.frequency
    n = len(draws["beta"])
    out = []
    for reach in (base_in[..., index], unit_in[..., index]):
        design = rf_design(reach, freq, index, spec.l_max, tail=lag)
        parts = []
        for i in range(0, n, CHUNK):
            chunk = {k: np.asarray(v)[i : i + CHUNK] for k, v in draws.items()}
            weights = adstock_weights(chunk, spec)
            parts.append(rf_unit_response(design, weights, chunk, spec)[:, lag:])
        out.append(np.concatenate(parts))
    return out[0], out[1]


def frequency_gain(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray], frequency: np.ndarray
) -> np.ndarray:
    """``s(frequency / Scaling.frequency)`` per draw for every channel (1 for a channel
    that is not R&F): the factor that turns scaled reach into exposure before adstock.

    Parameters
    ----------
    frequency : ndarray, dims (date, geo, rf_channel)
        Original units.

    Returns
    -------
    ndarray, dims (sample, date, geo, channel)
    """
    spec = spec.for_channels(data.channels)
    scaled = np.asarray(frequency, dtype=float)[None] / data.scaling.frequency
    rf = np.asarray(frequency_saturation(scaled, draws, spec, rf_index(data)))[:, 0]
    out = np.ones((*rf.shape[:-1], len(data.channels)))
    out[..., rf_index(data)] = rf
    return out


def input_frequency(data: MMMData, spec: ModelSpec, frequency: np.ndarray) -> np.ndarray:
    """The frequency behind ``window.exposure_inputs``: the last ``l_max - 1`` weeks of
    history then the window's ``frequency``, dims (lag + date, geo, rf_channel)."""
    assert data.frequency is not None  # a panel with R&F channels has frequencies
    lag = spec.l_max - 1
    prefix = np.ones((lag, *frequency.shape[1:]))
    if lag:
        hist = data.frequency[-lag:]
        prefix[lag - len(hist) :] = hist
    return np.concatenate([prefix, frequency])
