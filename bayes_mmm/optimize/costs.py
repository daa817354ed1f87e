"""Media costs that change with spend: a cost curve per spend group.

The window problem buys media at the last ``weeks`` weeks' cost per exposure, whatever
the spend. Auctions bid up and rate cards have tiers, so a :class:`CostCurve` gives a
spend group's cost per exposure as a function of its window spend, *relative to that
historical cost* (1.0: as in history; 1.5 at 2 M: each exposure costs 50% more when the
group spends 2 M in the window). The optimizer still plans in spend; the media a plan
buys are ``spend / cost(spend)`` history-cost units, and the response runs through them.

Shape: the curve is piecewise linear in spend between its points. Its media
``S / c(S)`` must rise with spend, which on a segment ``c = a + b S`` holds when
``a > 0``: a curve that breaks it is refused. :meth:`CostCurve.power` tabulates the
documented parametric form ``c(S) = (1 + S / scale) ** elasticity``; ``elasticity`` in
(0, 1] makes costs rise with spend, below 0 fall (volume discounts).

Falling costs make the revenue non-concave in spend (a group's media rise faster than
its spend), so a plan may have several local optima: the search is SLSQP multi-start
(``search.search``, ``n_starts`` starts, the envelope start first) on the plan's spend
groups, not the structured solver. ``by_geo`` plans are not offered: a group's cost
depends on its total, which couples its geos.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bayes_mmm.errors import SpecError
from bayes_mmm.optimize.allocate import Allocation, allocate
from bayes_mmm.optimize.constraints import Constraints, label_index
from bayes_mmm.optimize.factory import gate, planner
from bayes_mmm.optimize.mediated import MediatedPlanner
from bayes_mmm.optimize.window import Planner
from bayes_mmm.posterior import Posterior, as_posterior


@dataclass(frozen=True)
class CostCurve:
    """Cost per exposure relative to history, against the group's window spend.

    Attributes
    ----------
    spend : tuple of float
        Window spend (currency), ascending from 0.
    cost : tuple of float
        Relative cost per exposure at each spend, > 0, linear in between.

    Raises
    ------
    SpecError
        Points that are not ascending from 0, non-positive costs, or a curve whose media
        ``spend / cost`` do not rise with spend.
    """

    spend: tuple
    cost: tuple

    def __post_init__(self):
        s, c = np.asarray(self.spend, dtype=float), np.asarray(self.cost, dtype=float)
        if s.ndim != 1 or s.shape != c.shape or len(s) < 2:
            raise SpecError("A cost curve needs at least two (spend, cost) points.")
        if s[0] != 0 or (np.diff(s) <= 0).any():
            raise SpecError("A cost curve's spends must start at 0 and ascend strictly.")
        if not np.isfinite(c).all() or (c <= 0).any():
            raise SpecError("A cost curve's costs must be positive numbers.")
        slope = np.diff(c) / np.diff(s)
        if (c[:-1] - slope * s[:-1] <= 0).any():
            raise SpecError(
                "A cost curve must buy more media as spend rises (spend / cost increasing): "
                "its cost rises too steeply between some points; flatten those segments."
            )
        object.__setattr__(self, "spend", tuple(s))
        object.__setattr__(self, "cost", tuple(c))

    @classmethod
    def power(cls, scale: float, elasticity: float, up_to: float, points: int = 200):
        """``c(S) = (1 + S / scale) ** elasticity`` tabulated on ``points`` spends from 0
        to ``up_to``; media rise with spend for ``elasticity`` ≤ 1."""
        if not scale > 0 or not up_to > 0 or not elasticity <= 1:
            raise SpecError("CostCurve.power needs scale > 0, up_to > 0 and elasticity ≤ 1.")
        s = np.concatenate([[0.0], np.geomspace(up_to * 1e-4, up_to, points - 1)])
        return cls(tuple(s), tuple((1 + s / scale) ** elasticity))

    def media(self, spend: np.ndarray, grad: bool = False):
        """History-cost media ``spend / cost(spend)`` and (with ``grad``) its derivative.

        Parameters
        ----------
        spend : ndarray, any dims, within the curve's spends
        """
        s, c = np.asarray(self.spend), np.asarray(self.cost)
        x = np.asarray(spend, dtype=float)
        i = np.clip(np.searchsorted(s, x, side="right") - 1, 0, len(s) - 2)
        b = (c[i + 1] - c[i]) / (s[i + 1] - s[i])
        a = c[i] - b * s[i]
        cost = a + b * x
        return (x / cost, a / cost**2) if grad else x / cost


@dataclass(frozen=True, eq=False)
class CostPlanner(Planner):
    """A :class:`Planner` whose spend groups buy media along their :class:`CostCurve`.

    Attributes (beyond ``Planner``'s)
    ---------------------------------
    curves : tuple of CostCurve or None, dims (spend_group,)
        None keeps the historical cost.
    """

    curves: tuple = field(default=(), repr=False)

    def _revenue(self, spend, grad, cells, hess=False):
        if hess:
            raise SpecError("Cost curves are solved by SLSQP, not the structured solver.")
        spend = np.asarray(spend, dtype=float)
        total = spend.sum(axis=-2)  # (spend_group,)
        ratio, d_ratio = np.ones_like(total), np.zeros_like(total)
        for k, curve in enumerate(self.curves):
            if curve is not None:
                safe = max(total[..., k], 1e-300)
                m, dm = curve.media(safe, grad=True)
                ratio[..., k] = m / safe
                d_ratio[..., k] = (dm - ratio[..., k]) / safe
        out = super()._revenue(spend * ratio[..., None, :], grad, cells)
        if not grad:
            return out
        rev, g = out  # g: d revenue / d effective spend, dims (sample, geo, group)
        chain = (g * spend[None]).sum(axis=1, keepdims=True) * d_ratio[None, None]
        return rev, g * ratio[None, None] + chain


def costed(plan: Planner, curves: Mapping) -> CostPlanner:
    """``plan`` with cost curves ``{spend group (or its channel): CostCurve}``."""
    if isinstance(plan, MediatedPlanner):
        raise SpecError("Cost curves plan direct effects only: the spec has mediators.")
    per_group: list[CostCurve | None] = [None] * len(plan.labels)
    for key, curve in dict(curves).items():
        if not isinstance(curve, CostCurve):
            raise SpecError(f"costs[{key!r}] must be a CostCurve, got {type(curve).__name__}.")
        per_group[label_index(plan.labels, plan.data, key)] = curve
    fields = {f: getattr(plan, f) for f in Planner.__dataclass_fields__}
    return CostPlanner(**fields, curves=tuple(per_group))


def optimize_costed(
    posterior: Posterior,
    budget: float,
    costs: Mapping,
    weeks: int = 13,
    *,
    bounds: Mapping | None = None,
    bounds_relative: bool = False,
    lock=(),
    objective="mean",
    n_starts: int = 6,
    seed: int = 0,
    flighting: str = "history",
    allow_unconverged: bool = False,
    **kwargs,
) -> Allocation:
    """:func:`~bayes_mmm.optimize.optimize` with ``costs`` ``{group: CostCurve}``.

    The plan's spend, table and uplift are in spend; its ``current`` plan buys media at
    the curves' costs too. Other keyword arguments go to ``allocate``.

    Raises
    ------
    SpecError
        A curve that does not reach the most its group may spend (the budget, or its
        upper bound), ``by_geo``, or a mediated spec.
    """
    if kwargs.pop("by_geo", False):
        raise SpecError("Cost curves plan spend groups: by_geo is not offered with costs.")
    posterior = as_posterior(posterior)
    warning = gate(posterior, allow_unconverged)
    draws, shape = posterior.draws
    base = planner(posterior.data, posterior.spec, draws, weeks=weeks, flighting=flighting)
    plan = costed(base, costs)
    constraints = Constraints(bounds or {}, relative=bounds_relative, lock=lock)
    _, upper = constraints.limits(plan, budget)
    for label, curve, hi in zip(plan.labels, plan.curves, upper):
        if curve is not None and curve.spend[-1] < hi * (1 - 1e-12):
            raise SpecError(
                f"The cost curve of {label!r} ends at spend {curve.spend[-1]:,.2f}, below "
                f"the {hi:,.2f} the plan may spend on it: extend the curve or bound the group."
            )
    return allocate(
        plan,
        budget,
        shape,
        constraints,
        objective=objective,
        n_starts=n_starts,
        seed=seed,
        warning=warning,
        solver="slsqp",
        **kwargs,
    )
