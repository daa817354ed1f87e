"""The window problem: per-draw revenue of a spend plan, with exact gradients.

See the package docstring (``bayes_mmm.optimize``) for the window, flighting, carryover
and the ``A + s * B`` design. :func:`plain_planner` builds the direct-effect
:class:`Planner`; ``bayes_mmm.optimize.factory.planner`` adds the mediated paths when the
spec has mediators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Self

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError, SpecError
from bayes_mmm.kinds import saturation
from bayes_mmm.optimize.kernels import (
    CHUNK,
    LINEAR,
    grouped_curvature,
    grouped_saturation,
    kernel_groups,
    subset_draws,
)
from bayes_mmm.optimize.rf_window import rf_exposures, rf_index, window_rf
from bayes_mmm.response import adstock_weights, baseline_response, make_design
from bayes_mmm.spec import ModelSpec
from bayes_mmm.transforms import adstock, lag_stack

FLIGHTINGS = ("history", "flat")


@dataclass(frozen=True, eq=False)
class Planner:
    """Per-draw revenue of spend plans over a future window, with exact gradients.

    Build it with ``bayes_mmm.optimize.planner`` (or :func:`plain_planner`).

    Attributes
    ----------
    data : MMMData
    spec : ModelSpec
    weeks : int
    flighting : str
    labels : list of str, dims (spend_group,)
        Spend-group labels (``MMMData.group_labels``).
    history_spend : ndarray, dims (geo, spend_group)
        Spend in the last ``weeks`` weeks of history.
    unit_media : ndarray, dims (date, geo, channel)
        Media (original units) bought by one unit of spend in the window, by week.
    base : ndarray, dims (sample, date, geo, channel)
        Scaled, adstocked exposure of window + tail without window spend (history
        carryover and organic media).
    unit : ndarray, dims (sample, date, geo, channel)
        Scaled, adstocked exposure of one unit of spend of the channel's group.
    coef : ndarray, dims (sample, 1, geo, channel)
        ``beta * target_scale / f(1)``: turns saturation into target units.
    sat : tuple of kernels.SaturationGroup
        The saturation parameters, kind by kind (R&F channels: ``kernels.LINEAR``).
    frequency : ndarray, dims (date, geo, rf_channel), or None
        Window frequency of the reach-and-frequency channels (original units; see
        ``optimize.rf_window``); None without them.
    """

    data: MMMData
    spec: ModelSpec
    weeks: int
    flighting: str
    labels: list
    history_spend: np.ndarray
    unit_media: np.ndarray
    base: np.ndarray
    unit: np.ndarray
    coef: np.ndarray
    sat: tuple = field(repr=False)
    frequency: np.ndarray | None = None

    def current(self, budget: float | None = None) -> np.ndarray:
        """The history-proportional plan for ``budget`` (default: the history's own
        window spend), dims (geo, spend_group)."""
        total = self.history_spend.sum()
        return self.history_spend * (1.0 if budget is None else budget / total)

    def media(self, spend: np.ndarray) -> np.ndarray:
        """Window media in original units for ``spend`` (dims (geo, spend_group)), dims
        (date, geo, channel); organic channels keep the last ``weeks`` weeks."""
        d = self.data
        per_channel = np.asarray(spend, dtype=float) @ d.group_matrix.T  # (geo, channel)
        out = self.unit_media * per_channel[None]
        organic = [c for c, g in enumerate(d.channel_group) if g is None]
        out[..., organic] = d.media[-self.weeks :][..., organic]
        return out

    def revenue(self, spend: np.ndarray, grad: bool = False):
        """Media-driven revenue over window + tail, per draw.

        Parameters
        ----------
        spend : ndarray, dims (geo, spend_group)
            One plan for every draw; the plain planner also takes dims (sample, geo,
            spend_group), one plan per draw.

        Returns
        -------
        revenue : ndarray, dims (sample,)
        gradient : ndarray, dims (sample, geo, spend_group), only with ``grad=True``
            d revenue / d spend (the marginal ROI of each cell).
        """
        return self._revenue(spend, grad, cells=False)

    def second_order(self, spend: np.ndarray):
        """Revenue, gradient and curvature per draw, for the structured solver.

        The revenue is separable across (geo, spend group) cells, so its Hessian in the
        cells' spend is diagonal: ``curvature`` is that diagonal, exact (the saturation's
        second derivative, ``kinds.SaturationKind.curvature``).

        Parameters
        ----------
        spend : ndarray, dims (geo, spend_group) or (sample, geo, spend_group)

        Returns
        -------
        revenue : ndarray, dims (sample,)
        gradient, curvature : ndarray, dims (sample, geo, spend_group)
        """
        return self._revenue(spend, True, cells=False, hess=True)

    def weighted_gradient(self, spend: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Gradient of ``weights @ revenue(spend)``, dims (geo, spend_group).

        Only draws with a non-zero weight are evaluated: for a tail utility such as CVaR
        (weight on the worst ``alpha`` share) this costs ``alpha`` of a full pass.

        Parameters
        ----------
        spend : ndarray, dims (geo, spend_group)
        weights : ndarray, dims (sample,)
        """
        idx = np.flatnonzero(weights)
        sub = self if idx.size == weights.size else self.subset(idx)
        _, g = sub.revenue(spend, grad=True)
        return np.einsum("s,sgk->gk", weights[idx], g)

    def cell_revenue(self, spend: np.ndarray) -> np.ndarray:
        """Revenue of each (geo, spend group) cell, dims (sample, geo, spend_group).

        The window problem is separable: a cell's revenue depends on its own spend only
        (organic media count in no cell), so ``cell_revenue(spend).sum((1, 2))`` is
        :meth:`revenue` minus the organic part, and one call evaluates every cell's
        response curve at the spend given to it.
        """
        return self._revenue(spend, False, cells=True)

    def _revenue(self, spend, grad, cells, hess=False):
        m = self.data.group_matrix
        per_channel = np.asarray(spend, dtype=float) @ m.T  # (geo, channel) or (sample, ...)
        shared = per_channel.ndim == 2
        per_channel = per_channel[None, None] if shared else per_channel[:, None]
        n = self.base.shape[0]
        rev = np.empty((n, *self.base.shape[2:-1], m.shape[1])) if cells else np.empty(n)
        g = np.empty((n, *self.base.shape[2:])) if grad else None
        h = np.empty((n, *self.base.shape[2:])) if hess else None
        for i in range(0, n, CHUNK):  # cache-sized chunks of draws
            sl = slice(i, i + CHUNK)
            x = self.base[sl] + (per_channel if shared else per_channel[sl]) * self.unit[sl]
            f, df = grouped_saturation(self.sat, x, sl, grad)
            coef = self.coef[sl, 0]  # (sample, geo, channel)
            by_channel = f.sum(axis=1) * coef
            rev[sl] = by_channel @ m if cells else by_channel.sum(axis=(1, 2))
            if hess:
                d2 = grouped_curvature(self.sat, x, f, df, sl)
                u = self.unit[sl]
                h[sl] = np.einsum("sdgc,sdgc,sdgc->sgc", d2, u, u) * coef
            if grad:
                df *= self.unit[sl]
                g[sl] = df.sum(axis=1) * coef
        if hess:
            return rev, g @ m, h @ m
        return (rev, g @ m) if grad else rev

    def subset(self, index) -> Self:
        """The same problem on a subset of draws (``index`` into the sample dim)."""
        return replace(
            self,
            base=self.base[index],
            unit=self.unit[index],
            coef=self.coef[index],
            sat=subset_draws(self.sat, index),
        )


def marginal_roi(gradient: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Marginal ROI per spend group: the revenue of one more unit of spend, split across
    geos like ``spend``.

    Parameters
    ----------
    gradient : ndarray, dims (sample, geo, spend_group)
        ``Planner.revenue(spend, grad=True)[1]``.
    spend : ndarray, dims (geo, spend_group)
        A group without spend splits its unit evenly across geos.

    Returns
    -------
    ndarray, dims (sample, spend_group)
    """
    tot = spend.sum(axis=0, keepdims=True)
    w = np.where(tot > 0, spend / np.where(tot > 0, tot, 1.0), 1.0 / spend.shape[0])
    return (gradient * w[None]).sum(axis=1)


def plain_planner(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    weeks: int = 13,
    flighting: str = "history",
    rf_frequency="history",
) -> Planner:
    """The direct-effect window problem for posterior (or true) parameter draws.

    Every channel's media are bought by its own spend only (mediators, if any, ignored);
    see ``bayes_mmm.optimize.factory.planner`` for the total-effect planner.

    Parameters
    ----------
    draws : dict of str to ndarray
        Parameters with a leading sample dim: ``alpha`` (sample, channel), ``beta``
        (sample, geo, channel) and the saturation's parameters (sample, channel).
    weeks : int
        Window length; the flighting pattern and cost per exposure come from the last
        ``weeks`` weeks of history.
    flighting : {"history", "flat"}
    rf_frequency : "history" or dict of str to float
        Frequency of the reach-and-frequency channels in the window (``optimize.rf_window``):
        the last weeks' (spend scales reach), or the frequency given per channel
        (``optimize.rf_optimal.resolve_rf_frequency`` turns ``"optimal"`` into one).
    """
    weeks = _check_window(data, weeks, flighting)
    hist_spend = data.spend[-weeks:].sum(axis=0)  # (geo, group)
    if hist_spend.sum() <= 0:
        raise DataError(
            f"No spend in the last {weeks} weeks: the current plan is undefined; choose a "
            "longer `weeks`."
        )
    unit_media = _flighting(data.media[-weeks:], flighting) * _cost_per_exposure(data, weeks)[None]
    frequency = None
    if getattr(data, "rf_channels", ()):
        unit_media, frequency = window_rf(data, unit_media, weeks, flighting, rf_frequency)
    base, unit = _exposures(data, spec, draws, unit_media, frequency)
    sat = kernel_groups(data, spec, draws)
    return Planner(
        data=data,
        spec=spec,
        weeks=weeks,
        flighting=flighting,
        labels=data.group_labels,
        history_spend=hist_spend,
        unit_media=unit_media,
        base=base,
        unit=unit,
        coef=_coefficients(data, draws, sat),
        sat=sat,
        frequency=frequency,
    )


def _check_window(data: MMMData, weeks, flighting: str) -> int:
    """``weeks`` as an int, after checking the window and flighting can be planned."""
    if flighting not in FLIGHTINGS:
        raise SpecError(f"flighting={flighting!r}: choose one of {FLIGHTINGS}.")
    if not isinstance(weeks, int | np.integer) or not 1 <= weeks <= data.n_dates:
        raise DataError(
            f"weeks={weeks!r} must be an integer between 1 and the {data.n_dates} periods "
            "of history (cost per exposure and flighting come from the last `weeks` weeks)."
        )
    if not data.spend_groups:
        raise DataError("The panel has no spend columns (all media organic): nothing to plan.")
    return int(weeks)


def _cost_per_exposure(data: MMMData, weeks: int) -> np.ndarray:
    """Media bought per unit of spend, dims (geo, channel); 0 for organic channels.

    The ratio of the last ``weeks`` weeks, else the geo's whole-history ratio, else the
    panel-wide one.
    """
    m = data.group_matrix  # (channel, group)
    media_w = data.media[-weeks:]
    hist_spend = data.spend[-weeks:].sum(axis=0)
    ratios = []
    for sp, md in (
        (hist_spend, media_w.sum(axis=0)),
        (data.spend.sum(axis=0), data.media.sum(axis=0)),
        (np.broadcast_to(data.spend.sum(axis=(0, 1)), hist_spend.shape), None),
    ):
        md = (
            md if md is not None else np.broadcast_to(data.media.sum(axis=(0, 1)), media_w[0].shape)
        )
        sp_c = sp @ m.T
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios.append(np.where(sp_c > 0, md / sp_c, np.nan))
    ratio = ratios[0]
    for alt in ratios[1:]:
        ratio = np.where(np.isnan(ratio), alt, ratio)
    return np.nan_to_num(ratio) * (m.sum(axis=1) > 0)[None]


def _flighting(media_w: np.ndarray, flighting: str) -> np.ndarray:
    """Each week's share of a channel's window media, dims (date, geo, channel): the last
    weeks' pattern (``"history"``; even where they had no media) or even (``"flat"``)."""
    weeks = len(media_w)
    if flighting == "history":
        msum = media_w.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(msum > 0, media_w / msum, 1.0 / weeks)
    return np.full(media_w.shape, 1.0 / weeks)


def _exposures(data: MMMData, spec: ModelSpec, draws, unit_media: np.ndarray, frequency=None):
    """Scaled, adstocked exposure over window + tail, dims (sample, date, geo, channel):
    without window spend (history carryover and organic media) and of one unit of spend.
    An R&F channel's is ``reach × s(frequency)`` adstocked (``rf_window.rf_exposures``).

    Parameters
    ----------
    unit_media : ndarray, dims (date, geo, channel)
        Media bought by one unit of spend in each window week.
    frequency : ndarray, dims (date, geo, rf_channel), optional
        Window frequency of the R&F channels.
    """
    lag = spec.l_max - 1
    weights = adstock_weights(draws, spec)

    def adstocked(x):
        return adstock(lag_stack(x, spec.l_max, tail=lag), weights)[:, lag:]

    base_in, unit_in = exposure_inputs(data, spec, unit_media)
    base, unit = adstocked(base_in), adstocked(unit_in)
    if frequency is not None:
        index = rf_index(data)
        base[..., index], unit[..., index] = rf_exposures(
            data, spec, draws, base_in, unit_in, frequency
        )
    return base, unit


def exposure_inputs(data: MMMData, spec: ModelSpec, unit_media: np.ndarray):
    """The scaled media the window's exposures adstock, dims (lag + date, geo, channel):
    the last ``l_max - 1`` weeks of history then the window's organic media (``base``),
    and zeros then ``unit_media`` (``unit``). Adstocked with ``l_max - 1`` zero weeks
    appended and the first ``l_max - 1`` dates dropped, they are ``Planner.base`` and
    ``Planner.unit``.

    Parameters
    ----------
    unit_media : ndarray, dims (date, geo, channel)
        Media bought by one unit of spend in each window week.
    """
    weeks, lag = len(unit_media), spec.l_max - 1
    paid = data.group_matrix.sum(axis=1) > 0
    prefix = np.zeros((lag, *data.media.shape[1:]))
    if lag:
        hist = data.media[-lag:]
        prefix[lag - len(hist) :] = hist
    window_base = np.where(paid, 0.0, data.media[-weeks:])
    scale = data.scaling.media[None]
    base = np.concatenate([prefix, window_base]) / scale
    unit = np.concatenate([np.zeros_like(prefix), unit_media]) / scale
    return base, unit


def _coefficients(data: MMMData, draws, sat) -> np.ndarray:
    """``beta * target_scale / f(1)``, dims (sample, 1, geo, channel).

    With a time-varying media effect the coefficient is scaled by the multiplier of the
    last observed period (``media_multiplier[:, -1]``): the plan uses the channel's current
    effectiveness, held over the window, as ``response.hold_last`` does for every design
    past the history. A forecast of the multiplier would extrapolate a GP with a length
    scale of several adstock windows, whose mean reverts to the average (1) within the
    window anyway, while the last level is what the recent data measure."""
    f1 = np.empty((len(draws["beta"]), 1, 1, len(data.channels)))
    for kind, idx, p in sat:  # R&F channels (LINEAR) are normalised in their exposure
        one = np.ones((1, 1, 1, len(idx)))
        f1[..., idx] = 1.0 if kind == LINEAR else saturation(kind, one, **p)
    coef = draws["beta"][:, None] * data.scaling.target[None, None, :, None] / f1
    if "media_multiplier" in draws:
        coef = coef * draws["media_multiplier"][:, -1][:, None, None, :]
    return coef


def window_baseline(plan: Planner, draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Non-media expected revenue over window + tail per draw, dims (sample,): trend and
    seasonality extended past the data, controls held at their last value."""
    data, spec = plan.data, plan.spec
    n = plan.weeks + spec.l_max - 1
    design = make_design(data, spec, tail=n)
    base = baseline_response(design, draws, spec)[:, -n:] * design.target_scale
    return base.sum(axis=(1, 2))
