"""Saturation and slope of the window problem, one saturation kind at a time.

A spec may give channels different saturation kinds. The planner keeps each kind's
parameter draws as a :class:`SaturationGroup` and evaluates the registry's fused kernel
(``kinds.SATURATIONS[kind].kernel``: the curve and its slope in one in-place pass) on that
kind's channels; a single-kind spec is one group and one kernel call. Reach-and-frequency
channels form one more group, of kind ``LINEAR`` (the identity: their window exposure is
already ``reach × s(frequency)``, see ``optimize.rf_window``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.kinds import SATURATIONS, TINY, saturation_groups
from bayes_mmm.spec import ModelSpec

CHUNK = 100  # draws per kernel pass: keeps the (sample, date, geo, channel) tensors cache-sized
LINEAR = "linear"  # the group of reach-and-frequency channels: f(x) = x


class SaturationGroup(NamedTuple):
    """The channels of one saturation kind and their parameter draws.

    Attributes
    ----------
    kind : str
        A key of ``kinds.SATURATIONS``.
    positions : ndarray of int, dims (channel-of-kind,)
        Positions of the kind's channels on the last axis of the evaluated exposure.
    params : dict of str to ndarray, dims (sample, 1, 1, channel-of-kind)
        The kind's parameters, broadcasting against (sample, date, geo, channel-of-kind).
    """

    kind: str
    positions: np.ndarray  # not ``index``, which would shadow ``tuple.index``
    params: dict[str, np.ndarray]


def kernel_groups(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]
) -> tuple[SaturationGroup, ...]:
    """The saturation groups of ``spec`` over ``data.channels``, one per kind in use.

    Parameters
    ----------
    draws : dict of str to ndarray
        Saturation parameters with a leading sample dim, dims (sample, parameter channel).
    """
    rf = [data.channels.index(c) for c in getattr(data, "rf_channels", ())]
    out = []
    for kind, idx, pidx in saturation_groups(spec.saturation_kinds(data.channels)):
        keep = np.isin(idx, rf, invert=True)  # an R&F channel saturates frequency, not here
        if keep.any():
            names = SATURATIONS[kind].names
            params = {n: draws[n][:, pidx[keep]][:, None, None, :] for n in names}
            out.append(SaturationGroup(kind, idx[keep], params))
    if rf:
        out.append(SaturationGroup(LINEAR, np.array(rf), {}))
    return tuple(out)


def _kernel(kind: str, x: np.ndarray, params, grad: bool):
    """The saturation kernel of ``kind`` (``LINEAR``: value ``x``, slope 1)."""
    if kind == LINEAR:
        return x, np.ones_like(x) if grad else None
    return SATURATIONS[kind].kernel(x, params, grad)


def _curvature(kind: str, x, f, df, params) -> np.ndarray:
    """The saturation's second derivative of ``kind`` (``LINEAR``: 0)."""
    if kind == LINEAR:
        return np.zeros_like(x)
    return SATURATIONS[kind].curvature(x, f, df, params)


def grouped_saturation(groups: Sequence[SaturationGroup], x: np.ndarray, sl, grad: bool):
    """Saturation and (when ``grad``) its slope of ``x`` for the draws ``sl``, kind by kind.

    Parameters
    ----------
    groups : sequence of SaturationGroup
        Covering every channel of ``x``.
    x : ndarray, dims (sample, date, geo, channel)
        Exposure of the draws ``sl``; overwritten.
    sl : slice or index
        The draws of ``x`` in the groups' sample dim.

    Returns
    -------
    f : ndarray like ``x``
    df : ndarray like ``x``, or None without ``grad``
    """
    if len(groups) == 1:
        kind, _, p = groups[0]
        return _kernel(kind, x, {k: v[sl] for k, v in p.items()}, grad)
    f = np.empty_like(x)
    df = np.empty_like(x) if grad else None
    for kind, idx, p in groups:
        fk, dfk = _kernel(kind, x[..., idx], {k: v[sl] for k, v in p.items()}, grad)
        f[..., idx] = fk
        if df is not None:  # grad
            df[..., idx] = dfk
    return f, df


def grouped_curvature(groups: Sequence[SaturationGroup], x, f, df, sl) -> np.ndarray:
    """Second derivative of the saturation at ``x`` for the draws ``sl``, kind by kind.

    Parameters
    ----------
    groups : sequence of SaturationGroup
    x, f, df : ndarray, dims (sample, date, geo, channel)
        The exposure :func:`grouped_saturation` was given (after it), and its curve and
        slope there.
    sl : slice or index
        The draws of ``x`` in the groups' sample dim.

    Returns
    -------
    ndarray like ``x``
    """
    out = np.empty_like(x)
    for kind, idx, p in groups:
        params = {k: v[sl] for k, v in p.items()}
        if len(groups) == 1:  # the kernel clamped ``x`` in place
            return _curvature(kind, x, f, df, params)
        xs = np.maximum(x[..., idx], TINY)  # the kernel clamped a copy
        out[..., idx] = _curvature(kind, xs, f[..., idx], df[..., idx], params)
    return out


def restrict(groups: Sequence[SaturationGroup], channels) -> tuple[SaturationGroup, ...]:
    """The groups restricted to ``channels`` (channel indices), re-indexed onto an array
    that holds only those channels, in that order."""
    channels = list(channels)
    out = []
    for kind, idx, p in groups:
        keep = [i for i, c in enumerate(idx) if c in channels]
        if keep:
            pos = np.array([channels.index(idx[i]) for i in keep])
            out.append(SaturationGroup(kind, pos, {k: v[..., keep] for k, v in p.items()}))
    return tuple(out)


def subset_draws(groups: Sequence[SaturationGroup], index) -> tuple[SaturationGroup, ...]:
    """The groups on a subset of draws (``index`` into the sample dim)."""
    return tuple(g._replace(params={k: v[index] for k, v in g.params.items()}) for g in groups)
