"""The window problem: per-draw revenue of a spend plan, with exact gradients.

See the package docstring (``bayes_mmm.optimize``) for the window, flighting, carryover
and the ``A + s * B`` design.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError, SpecError
from bayes_mmm.kinds import SATURATIONS, saturation, saturation_groups
from bayes_mmm.response import baseline_response, make_design
from bayes_mmm.spec import ModelSpec
from bayes_mmm.transforms import adstock, geometric_weights, lag_stack

FLIGHTINGS = ("history", "flat")
CHUNK = 100


@dataclass(frozen=True, eq=False)
class Planner:
    """Per-draw revenue of spend plans over a future window, with exact gradients.

    Build it with :func:`planner`.

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

        Returns
        -------
        revenue : ndarray, dims (sample,)
        gradient : ndarray, dims (sample, geo, spend_group), only with ``grad=True``
            d revenue / d spend (the marginal ROI of each cell).
        """
        return self._revenue(spend, grad, cells=False)

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

    def _revenue(self, spend, grad, cells):
        m = self.data.group_matrix
        per_channel = (np.asarray(spend, dtype=float) @ m.T)[None, None]  # (1, 1, geo, channel)
        n = self.base.shape[0]
        rev = np.empty((n, *self.base.shape[2:-1], m.shape[1])) if cells else np.empty(n)
        g = np.empty((n, *self.base.shape[2:])) if grad else None
        for i in range(0, n, CHUNK):  # cache-sized chunks of draws
            sl = slice(i, i + CHUNK)
            x = self.base[sl] + per_channel * self.unit[sl]
            f, df = _grouped_saturation(self.sat, x, sl, grad)
            coef = self.coef[sl, 0]  # (sample, geo, channel)
            by_channel = f.sum(axis=1) * coef
            rev[sl] = by_channel @ m if cells else by_channel.sum(axis=(1, 2))
            if grad:
                df *= self.unit[sl]
                g[sl] = df.sum(axis=1) * coef
        return (rev, g @ m) if grad else rev

    def subset(self, index) -> Planner:
        """The same problem on a subset of draws (``index`` into the sample dim)."""
        sat = tuple((kind, idx, {k: v[index] for k, v in p.items()}) for kind, idx, p in self.sat)
        return replace(
            self, base=self.base[index], unit=self.unit[index], coef=self.coef[index], sat=sat
        )


def _saturation_groups(data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]):
    """Saturation parameters per kind: tuples (kind, channel index, params) with params
    expanded to (sample, 1, 1, channel-of-kind); one tuple for a single-kind spec."""
    out = []
    for kind, idx, pidx in saturation_groups(spec.saturation_kinds(data.channels)):
        names = SATURATIONS[kind].names
        out.append((kind, idx, {n: draws[n][:, pidx][:, None, None, :] for n in names}))
    return tuple(out)


def _grouped_saturation(groups, x, sl, grad):
    """Saturation (and slope) of ``x`` (sample, date, geo, channel) for draws ``sl``, kind
    by kind; ``x`` is overwritten."""
    if len(groups) == 1:
        kind, _, p = groups[0]
        return _saturation_and_slope(kind, x, {k: v[sl] for k, v in p.items()}, grad)
    f = np.empty_like(x)
    df = np.empty_like(x) if grad else None
    for kind, idx, p in groups:
        fk, dfk = _saturation_and_slope(kind, x[..., idx], {k: v[sl] for k, v in p.items()}, grad)
        f[..., idx] = fk
        if grad:
            df[..., idx] = dfk
    return f, df


def _saturation_and_slope(kind, x, sat, grad):
    """Saturation and (when ``grad``) its derivative, the registry's kernel for ``kind``."""
    return SATURATIONS[kind].kernel(x, sat, grad)


def planner(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    weeks: int = 13,
    flighting: str = "history",
    mediated: bool = True,
) -> Planner:
    """Precompute the window problem for posterior (or true) parameter draws.

    Parameters
    ----------
    draws : dict of str to ndarray
        Parameters with a leading sample dim: ``alpha`` (sample, channel), ``beta``
        (sample, geo, channel) and the saturation's parameters (sample, channel).
    weeks : int
        Window length; the flighting pattern and cost per exposure come from the last
        ``weeks`` weeks of history.
    flighting : {"history", "flat"}
    mediated : bool
        When ``spec.mediators`` is non-empty, return the total-effect
        ``mediated.MediatedPlanner`` (upstream channels valued direct + through the
        mediator); ``False`` gives the plain, direct-effect planner.
    """
    if flighting not in FLIGHTINGS:
        raise SpecError(f"flighting={flighting!r}: choose one of {FLIGHTINGS}.")
    if not isinstance(weeks, int | np.integer) or not 1 <= weeks <= data.n_dates:
        raise DataError(
            f"weeks={weeks!r} must be an integer between 1 and the {data.n_dates} periods "
            "of history (cost per exposure and flighting come from the last `weeks` weeks)."
        )
    if not data.spend_groups:
        raise DataError("The panel has no spend columns (all media organic): nothing to plan.")
    weeks, lag = int(weeks), spec.l_max - 1
    m = data.group_matrix  # (channel, group)
    media_w, spend_w = data.media[-weeks:], data.spend[-weeks:]
    hist_spend = spend_w.sum(axis=0)  # (geo, group)
    if hist_spend.sum() <= 0:
        raise DataError(
            f"No spend in the last {weeks} weeks: the current plan is undefined; choose a "
            "longer `weeks`."
        )
    # cost per exposure: window ratio, else the geo's whole-history ratio, else panel-wide
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
    ratio = np.nan_to_num(ratio) * (m.sum(axis=1) > 0)[None]
    msum = media_w.sum(axis=0)
    if flighting == "history":
        with np.errstate(divide="ignore", invalid="ignore"):
            pattern = np.where(msum > 0, media_w / msum, 1.0 / weeks)
    else:
        pattern = np.full(media_w.shape, 1.0 / weeks)
    unit_media = pattern * ratio[None]  # (date, geo, channel)

    paid = m.sum(axis=1) > 0
    prefix = np.zeros((lag, *data.media.shape[1:]))
    if lag:
        hist = data.media[-lag:]
        prefix[lag - len(hist) :] = hist
    window_base = np.where(paid, 0.0, media_w)
    scale = data.scaling.media[None]
    weights = geometric_weights(draws["alpha"], spec.l_max)

    def adstocked(x):
        return adstock(lag_stack(x / scale, spec.l_max, tail=lag), weights)[:, lag:]

    base = adstocked(np.concatenate([prefix, window_base]))
    unit = adstocked(np.concatenate([np.zeros_like(prefix), unit_media]))
    sat = _saturation_groups(data, spec, draws)
    f1 = np.empty((len(draws["alpha"]), 1, 1, len(data.channels)))
    for kind, idx, p in sat:
        f1[..., idx] = saturation(kind, np.ones((1, 1, 1, len(idx))), **p)
    coef = draws["beta"][:, None] * data.scaling.target[None, None, :, None] / f1
    plan = Planner(
        data=data,
        spec=spec,
        weeks=weeks,
        flighting=flighting,
        labels=data.group_labels,
        history_spend=hist_spend,
        unit_media=unit_media,
        base=base,
        unit=unit,
        coef=coef,
        sat=sat,
    )
    if mediated and spec.mediators:
        from bayes_mmm.optimize.mediated import mediate  # imports this module

        return mediate(plan, draws)
    return plan


def window_baseline(plan: Planner, draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """Non-media expected revenue over window + tail per draw, dims (sample,): trend and
    seasonality extended past the data, controls held at their last value."""
    data, spec = plan.data, plan.spec
    n = plan.weeks + spec.l_max - 1
    design = make_design(data, spec, tail=n)
    base = baseline_response(design, draws, spec)[:, -n:] * design.target_scale
    return base.sum(axis=(1, 2))
