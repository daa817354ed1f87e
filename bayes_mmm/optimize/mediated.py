"""Total-effect planning: the window problem when upstream channels move a mediator.

With ``ModelSpec(mediators={m: [u, ...]})`` the fitted mediator equation (``model``:
``mediator / typical = level + trend + sum_p mediator_coef[p] * unit_response_u(p)``) says
that spending on an upstream channel ``u`` raises the mediator's media (e.g. social ads
trigger extra search). The plain :class:`~bayes_mmm.optimize.window.Planner` treats every
channel's media as bought by its own spend only, so it values ``u`` by its direct effect.
:class:`MediatedPlanner` adds the indirect path, per posterior draw:

- **Induced media.** For a plan ``s`` (dims (geo, spend_group)) the mediator's scaled
  media in window + tail are ``y_m = max(a_m(s) + Δ_m(s), 0)`` with ``a_m`` the media its
  own planned spend buys (``Planner.media``; organic mediators keep their last weeks) and

  ``Δ_m[t, g] = sum_{p into m} mediator_coef[p] * (r_u(p)(s)[t, g] - r_u(p)(ref)[t, g])``,

  where ``r_u = f_u(x_u) / f_u(1)`` is the upstream channel's adstocked, saturated unit
  response over window + tail (history carryover included) — exactly the regressor of the
  mediator equation.
- **Reference plan.** ``ref`` is the history's own window spend (``Planner.current()``).
  The mediator's planned media come from its cost per exposure in the last ``weeks`` weeks,
  a period in which upstream spend was at that level: the search activity that history's
  social spend induced is already inside the mediator's media per unit of spend. Only the
  upstream *change* from history induces extra (or less) mediator media. Hence the current
  plan reproduces the plain planner exactly, and a plan that keeps upstream spend at
  history values but moves the mediator's own spend is valued as by the plain planner.
- **Clipping.** Media cannot be negative: cutting upstream spend below history removes at
  most the mediator's planned media in a week (``max(·, 0)``; the same floor as
  ``mediation.effect_draws``). Induced media in the tail weeks (``a_m = 0``) can therefore
  only be positive. The gradient is the one-sided derivative at the kink.
- **Horizon.** Induced media are adstocked with the mediator's own carryover within window
  + tail (``l_max - 1`` weeks after the window), like everything the planner counts; the
  mediator carryover of media induced in the tail itself is cut at the horizon.

Revenue is the plain planner's with the mediator's exposure raised by the adstocked induced
media, so an upstream channel's marginal ROI is its **total effect** (direct + through the
mediator) per unit of spend. The mediator's own marginal ROI is its direct one (plus the
clipping term). Its gradient is exact (chain rule through the mediator's saturation, its
adstock, the clip and the upstream saturation, the registry's fused kernels by way of
``kernels.grouped_saturation``), never finite differences.

``cell_revenue`` (used only for the optimizer's envelope start) is not separable here:
each upstream cell gets its direct revenue plus the mediator revenue its own path induces
with the other paths at reference, so the cells sum to the revenue only up to the
paths' interaction through the mediator's saturation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from bayes_mmm.errors import SpecError
from bayes_mmm.optimize.kernels import CHUNK, grouped_saturation, restrict
from bayes_mmm.optimize.window import Planner
from bayes_mmm.response import adstock_weights, path_matrix


def _carry(x, w):
    """Adstock along the date axis within the horizon.

    Parameters
    ----------
    x : ndarray, dims (sample, date, geo, mediator)
    w : ndarray, dims (sample, lag, mediator)

    Returns
    -------
    ndarray like ``x``: ``out[:, t] = sum_l w[:, l] * x[:, t - l]``.
    """
    out = np.zeros_like(x)
    n = x.shape[1]
    for lag in range(min(w.shape[1], n)):
        out[:, lag:] += w[:, lag, None, None, :] * x[:, : n - lag]
    return out


def _carry_adjoint(g, w):
    """Transpose of :func:`_carry`: ``out[:, t] = sum_l w[:, l] * g[:, t + l]``."""
    out = np.zeros_like(g)
    n = g.shape[1]
    for lag in range(min(w.shape[1], n)):
        out[:, : n - lag] += w[:, lag, None, None, :] * g[:, lag:]
    return out


@dataclass(frozen=True, eq=False, kw_only=True)
class MediatedPlanner(Planner):
    """A :class:`Planner` whose revenue includes media induced in mediators by upstream
    spend (see the module docstring). Build it with :func:`mediate`.

    Attributes (beyond ``Planner``'s)
    ---------------------------------
    mediator_index : ndarray of int, dims (mediator,)
        Channel index of each mediator (``spec.mediators`` order).
    upstream_index : ndarray of int, dims (upstream,)
        Channel index of each distinct upstream channel.
    path_upstream : ndarray of int, dims (path,)
        Position of each path's upstream channel in ``upstream_index``.
    path_to_mediator : ndarray, dims (path, mediator)
        0/1 (``response.path_matrix``).
    path_coef : ndarray, dims (sample, path)
        ``mediator_coef / f_u(1)``: turns the upstream saturation into scaled mediator media.
    reference : ndarray, dims (sample, date, geo, path)
        Upstream saturation ``f_u(x_u)`` under the reference plan (window + tail).
    mediator_unit : ndarray, dims (date, geo, mediator)
        Scaled mediator media bought by one unit of its spend group's spend (0 in the tail).
    mediator_weights : ndarray, dims (sample, lag, mediator)
        The mediators' geometric adstock weights.
    """

    mediator_index: np.ndarray
    upstream_index: np.ndarray
    path_upstream: np.ndarray
    path_to_mediator: np.ndarray
    path_coef: np.ndarray
    reference: np.ndarray
    mediator_unit: np.ndarray
    mediator_weights: np.ndarray

    def _planned(self, spend) -> np.ndarray:
        """Scaled media the mediators' own plan buys, dims (date, geo, mediator), window +
        tail (organic mediators keep their last weeks; 0 in the tail)."""
        meds = self.mediator_index
        window = self.media(spend)[..., meds] / self.data.scaling.media[None, :, meds]
        out = np.zeros(self.mediator_unit.shape)
        out[: self.weeks] = window
        return out

    def _revenue(self, spend, grad, cells):
        m = self.data.group_matrix
        per_channel = (np.asarray(spend, dtype=float) @ m.T)[None, None]  # (1, 1, geo, channel)
        planned = self._planned(spend)[None]  # (1, date, geo, mediator)
        meds, ups = self.mediator_index, self.upstream_index
        up_sat = restrict(self.sat, ups)
        n = self.base.shape[0]
        rev = np.empty((n, *self.base.shape[2:-1], m.shape[1])) if cells else np.empty(n)
        g = np.empty((n, *self.base.shape[2:])) if grad else None
        for i in range(0, n, CHUNK):
            sl = slice(i, i + CHUNK)
            x = self.base[sl] + per_channel * self.unit[sl]
            fu, dfu = grouped_saturation(up_sat, x[..., ups].copy(), sl, grad)
            shift = self.path_coef[sl, None, None, :] * (
                fu[..., self.path_upstream] - self.reference[sl]
            )
            w = self.mediator_weights[sl]
            coef = self.coef[sl, 0]  # (sample, geo, channel)
            if cells:
                rev[sl] = self._cells(x, shift, planned, w, coef, sl) @ m
                continue
            delta = shift @ self.path_to_mediator  # (sample, date, geo, mediator)
            live = delta > -planned
            x[..., meds] += _carry(np.maximum(delta, -planned), w)
            f, df = grouped_saturation(self.sat, x, sl, grad)
            rev[sl] = (f.sum(axis=1) * coef).sum(axis=(1, 2))
            if not grad:
                continue
            slope = df * coef[:, None]  # d revenue / d exposure, (sample, date, geo, channel)
            gi = (slope * self.unit[sl]).sum(axis=1)  # direct, as in Planner
            back = _carry_adjoint(slope[..., meds], w)  # d revenue / d mediator media
            gi[..., meds] -= (back * ~live * self.mediator_unit).sum(axis=1)
            back *= live
            for p, (q, j) in enumerate(zip(self.path_upstream, self.path_mediator)):
                u = ups[q]
                d_media = self.path_coef[sl, None, None, p] * dfu[..., q] * self.unit[sl, ..., u]
                gi[..., u] += (back[..., j] * d_media).sum(axis=1)
            g[sl] = gi
        return (rev, g @ m) if grad else rev

    @property
    def path_mediator(self) -> np.ndarray:
        """Position of each path's mediator in ``mediator_index``, dims (path,)."""
        return self.path_to_mediator.argmax(axis=1)

    def _cells(self, x, shift, planned, w, coef, sl):
        """Per-channel revenue (sample, geo, channel) for the envelope start: the plain
        planner's, plus on each upstream channel the mediator revenue induced by its own
        path alone (see the module docstring)."""
        meds = self.mediator_index
        med_sat = restrict(self.sat, meds)
        f_m, _ = grouped_saturation(med_sat, x[..., meds].copy(), sl, False)
        f, _ = grouped_saturation(self.sat, x.copy(), sl, False)
        out = f.sum(axis=1) * coef
        for p, (q, j) in enumerate(zip(self.path_upstream, self.path_mediator)):
            alone = np.zeros((*shift.shape[:-1], len(meds)))
            alone[..., j] = np.maximum(shift[..., p], -planned[..., j])
            xm = x[..., meds] + _carry(alone, w)
            f_p, _ = grouped_saturation(med_sat, xm, sl, False)
            gain = ((f_p - f_m)[..., j]).sum(axis=1) * coef[..., meds[j]]
            out[..., self.upstream_index[q]] += gain
        return out

    def subset(self, index) -> MediatedPlanner:
        """The same problem on a subset of draws (``index`` into the sample dim)."""
        plain = super().subset(index)
        return replace(
            plain,
            path_coef=self.path_coef[index],
            reference=self.reference[index],
            mediator_weights=self.mediator_weights[index],
        )


def mediate(plan: Planner, draws: Mapping[str, np.ndarray]) -> MediatedPlanner:
    """Turn a plain :class:`Planner` into a total-effect :class:`MediatedPlanner`.

    Parameters
    ----------
    plan : Planner
        Built by ``window.plain_planner`` on the same ``draws``.
    draws : dict of str to ndarray
        Parameters with a leading sample dim, including ``mediator_coef`` (sample, path).

    Returns
    -------
    MediatedPlanner
        ``revenue(plan.current())`` equals the plain planner's.
    """
    data, spec = plan.data, plan.spec
    if not spec.mediators:
        raise SpecError("The spec has no mediators: set ModelSpec(mediators={...}).")
    if "mediator_coef" not in draws:
        raise SpecError(
            "The draws have no `mediator_coef`: the fit was not made with this spec's "
            "mediators; refit with ModelSpec(mediators=...)."
        )
    channels = list(data.channels)
    paths = spec.mediator_paths()
    meds = np.array([channels.index(m) for m in spec.mediators])
    ups = list(dict.fromkeys(channels.index(u) for u, _ in paths))
    path_up = np.array([ups.index(channels.index(u)) for u, _ in paths])
    n = plan.base.shape[0]
    f1, _ = grouped_saturation(plan.sat, np.ones((n, 1, 1, len(channels))), slice(None), False)
    up_index = np.array(ups)
    path_coef = draws["mediator_coef"] / f1[:, 0, 0, up_index[path_up]]
    per_channel = (plan.current() @ data.group_matrix.T)[None, None]
    x_ref = (plan.base + per_channel * plan.unit)[..., up_index]
    f_ref, _ = grouped_saturation(restrict(plan.sat, up_index), x_ref, slice(None), False)
    unit = np.zeros((plan.base.shape[1], *plan.base.shape[2:-1], len(meds)))
    unit[: plan.weeks] = plan.unit_media[..., meds] / data.scaling.media[None, :, meds]
    unit *= (data.group_matrix[meds].sum(axis=1) > 0)[None, None]  # organic: no spend
    return MediatedPlanner(
        **{f.name: getattr(plan, f.name) for f in fields(Planner)},
        mediator_index=meds,
        upstream_index=up_index,
        path_upstream=path_up,
        path_to_mediator=path_matrix(spec),
        path_coef=path_coef,
        reference=f_ref[..., path_up],
        mediator_unit=unit,
        mediator_weights=adstock_weights(draws, spec)[..., meds],
    )
