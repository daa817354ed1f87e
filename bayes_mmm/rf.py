"""Reach and frequency (R&F) channels: ``beta · adstock(reach × saturation(frequency))``.

Video and social are bought and reported as reach (people reached in a period) and
frequency (average exposures per person reached). Following Meridian
(``meridian/model/model.py``, ``Meridian.adstock_hill_rf``; ``meridian/model/adstock_hill.py``)
the saturation acts on *frequency*, before carryover: a period's effective exposure is
``reach × f(frequency)`` and that is what is adstocked. There is no saturation after the
adstock, so the effect is linear in reach at a given frequency (spend buys reach at a fixed
cost per person) and concave in frequency (the tenth exposure to one person is worth less
than the second).

Scaling
-------
Meridian divides reach by the geo's population and then by the channel's median and
leaves frequency raw. Here reach is scaled like any media column (its mean non-zero value
per (geo, channel), ``data.Scaling.media``) and frequency by its mean where reach is
positive (per channel, ``data.Scaling.frequency``). The saturation is normalised to 1 at
scaled frequency 1 (``kinds.unit_saturation``), so ``beta[g, c]`` is the contribution of a
typical period's reach at the channel's typical frequency: the same meaning as for an
impressions channel, and the same identification argument (``bayes_mmm.model``, 1.–2.).
Dividing frequency by a constant only re-expresses the half-saturation ``ec``; the curve
and the optimal frequency in original units are unchanged.

An R&F channel is a channel like any other (dim ``channel``; ``MMMData.media`` holds its
reach), so its ROI, contributions and response curves come from the same counterfactual
path. Its saturation parameters (``ec``/``slope`` for Hill) are those of its channel,
applied to frequency. Spend moves reach at the historical frequency.

Optimal frequency (Meridian's ``Analyzer.optimal_freq``, ``meridian/analysis/analyzer.py``):
at a fixed budget, impressions ``reach × frequency`` are fixed, so choosing a frequency
``f`` sets reach to ``impressions / f`` and the contribution is proportional to
``f(f) / f``. :func:`frequency_grid_roi` evaluates the channel's ROI along a frequency grid
through the counterfactual path, per draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayes_mmm.kinds import SATURATIONS, saturation_groups, unit_saturation
from bayes_mmm.transforms import lag_stack, xp_of


@dataclass(frozen=True)
class RFDesign:
    """Lag stacks of the R&F channels' scaled reach and frequency.

    Attributes
    ----------
    index : tuple of int, dims (rf_channel,)
        Position of each R&F channel in ``channel``.
    reach : array, dims (lag, date, geo, rf_channel)
        Scaled reach (0 before the first date and in the tail).
    frequency : array, dims (lag, date, geo, rf_channel)
        Scaled frequency (1 where reach is 0: its value there is multiplied by 0).
    packed : tensor, dims (channel + rf_channel, lag, date·geo), or None
        In a float32 model graph only: the one shared input behind the media stack, these
        stacks and the fused kernel (:func:`transforms.graph_lag_stacks`): the channel-first
        media stack (an R&F channel's rows are its reach) with the frequency rows after it.
    """

    index: tuple[int, ...]
    reach: np.ndarray
    frequency: np.ndarray
    packed: Any = None


def rf_design(
    reach: np.ndarray, frequency: np.ndarray, index, l_max: int, tail: int = 0
) -> RFDesign:
    """Lag-stack scaled reach and frequency.

    Parameters
    ----------
    reach, frequency : ndarray, dims (date, geo, rf_channel)
        Scaled (``reach / Scaling.media``, ``frequency / Scaling.frequency``).
    index : sequence of int, dims (rf_channel,)
    l_max, tail : int
        As in :func:`bayes_mmm.transforms.lag_stack`.
    """
    freq = np.where(reach > 0, frequency, 1.0)
    freq_stack = lag_stack(freq, l_max, tail=tail)
    reach_stack = lag_stack(reach, l_max, tail=tail)
    freq_stack = np.where(reach_stack > 0, freq_stack, 1.0)
    return RFDesign(index=tuple(int(i) for i in index), reach=reach_stack, frequency=freq_stack)


def frequency_saturation(frequency, params, spec, index):
    """Unit saturation of scaled frequency, each R&F channel with its channel's kind.

    Parameters
    ----------
    frequency : array, dims (lag, date, geo, rf_channel)
    params : mapping
        The saturation parameters of every channel, (..., channel) for a single-kind spec,
        on their mixed dims (``hill_channel``, ``lam_channel``) otherwise.
    spec : ModelSpec
        Resolved to the data's channels (``for_channels``).
    index : sequence of int, dims (rf_channel,)

    Returns
    -------
    array, dims (..., lag, date, geo, rf_channel)
    """
    index = list(index)
    xp = xp_of(frequency, *(params[n] for n in spec.saturation_param_names()))
    if not spec.mixed_saturation:
        sub = {
            n: xp.take(params[n], np.array(index), axis=-1)[..., None, None, None, :]
            for n in SATURATIONS[spec.saturation].names
        }
        return unit_saturation(spec.saturation, frequency, **sub)
    parts = []
    for r, c in enumerate(index):
        for kind, idx, pidx in saturation_groups(list(spec.saturation.values())):
            if c in idx:
                p = pidx[list(idx).index(c)]
                sub = {
                    n: params[n][..., p : p + 1][..., None, None, None, :]
                    for n in SATURATIONS[kind].names
                }
                parts.append(unit_saturation(kind, frequency[..., r : r + 1], **sub))
    return xp.concatenate(parts, axis=-1)


def rf_unit_response(rf: RFDesign, weights, params, spec):
    """``adstock(reach × saturation(frequency))`` of the R&F channels, per unit ``beta``.

    Parameters
    ----------
    rf : RFDesign
    weights : array, dims (..., lag, channel)
        Adstock weights of every channel.

    Returns
    -------
    array, dims (..., date, geo, rf_channel)
    """
    xp = xp_of(weights, rf.reach)
    exposure = rf.reach * frequency_saturation(rf.frequency, params, spec, rf.index)
    w = xp.take(weights, np.array(rf.index), axis=-1)[..., :, None, None, :]
    return (exposure * w).sum(axis=-4)


def merge_rf(unit, rf_unit, index, n_channel: int):
    """Put the R&F channels' response into the channel cube.

    Parameters
    ----------
    unit : array, dims (..., date, geo, channel)
        Unit response of every channel (the R&F channels' entries are replaced).
    rf_unit : array, dims (..., date, geo, rf_channel)

    Returns
    -------
    array, dims (..., date, geo, channel)
    """
    xp = xp_of(unit, rf_unit)
    index = list(index)
    # A constant 0/1 scatter keeps the code identical for numpy and pytensor.
    scatter = np.zeros((len(index), n_channel), dtype=float)
    scatter[np.arange(len(index)), index] = 1.0
    keep = np.ones(n_channel)
    keep[index] = 0.0
    dtype = getattr(rf_unit, "dtype", float)
    placed = xp.tensordot(rf_unit, scatter.astype(dtype), axes=[[-1], [0]])
    return unit * keep.astype(getattr(unit, "dtype", float)) + placed
