"""What a budget plan may do: bounds and locks on its decision variables.

The decision variables of a plan are the window spend of each spend group, split across
geos like the last ``weeks`` weeks of history, or with ``by_geo`` the spend of each
(geo, spend group) cell, flattened geo-major. :class:`Constraints` holds the user's
bounds and locks and turns them into a lower and upper spend per variable
(:meth:`Constraints.limits`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.optimize.window import Planner


def label_index(labels: Sequence[str], data: MMMData, key) -> int:
    """Position in ``labels`` of the spend group a key names: a spend-group label, a spend
    column or one of its (paid) channels.

    Raises
    ------
    SpecError
        For an unknown key or an organic channel.
    """
    labels = list(labels)
    if key in labels:
        return labels.index(key)
    if key in data.spend_groups:
        return data.spend_groups.index(key)
    if key in data.channels and data.channel_group[data.channels.index(key)] is not None:
        return data.spend_groups.index(data.channel_group[data.channels.index(key)])
    raise SpecError(
        f"Unknown or organic channel {key!r} in bounds/lock; budget goes to spend groups "
        f"{labels} (or their channels)."
    )


@dataclass(frozen=True)
class Constraints:
    """Bounds and locks on a plan's decision variables.

    Attributes
    ----------
    bounds : dict
        ``{key: (lower, upper)}``, either side None for no bound. A key is a spend-group
        label, a spend column or one of its channels; with ``by_geo`` it bounds each geo's
        cell of that group, and a ``(geo, key)`` pair bounds one cell.
    relative : bool
        Bounds are multiples of current spend instead of absolute spend.
    lock : tuple
        Keys (as in ``bounds``) held at current spend.
    by_geo : bool
        Optimize (geo, spend group) cells instead of spend groups split like history.

    Raises
    ------
    SpecError
        A bound that is not a (lower, upper) pair or whose lower side exceeds its upper,
        or a (geo, key) pair without ``by_geo``.
    """

    bounds: Mapping = field(default_factory=dict)
    relative: bool = False
    lock: Sequence = ()
    by_geo: bool = False

    def __post_init__(self):
        bounds = dict(self.bounds or {})
        lock = () if self.lock is None else tuple(self.lock)
        for key, pair in bounds.items():
            self._check_key(key)
            _check_pair(key, pair)
        for key in lock:
            self._check_key(key)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "lock", lock)

    def _check_key(self, key) -> None:
        if not isinstance(key, tuple):
            return
        if not self.by_geo:
            raise SpecError(f"Bound key {key!r} is (geo, channel): pass by_geo=True for it.")
        if len(key) != 2:
            raise SpecError(f"Bound key {key!r} must be a (geo, channel) pair.")

    def variables(self, spend: np.ndarray) -> np.ndarray:
        """The decision variables of a plan, dims (variable,).

        Parameters
        ----------
        spend : ndarray, dims (geo, spend_group)
        """
        return spend.reshape(-1) if self.by_geo else spend.sum(axis=0)

    def limits(self, plan: Planner, budget: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper spend of each decision variable for ``budget``.

        Relative bounds and locks refer to ``plan.current(budget)``, the budget split
        like history.

        Returns
        -------
        lower, upper : ndarray, dims (variable,)

        Raises
        ------
        SpecError
            Unknown keys or geos, a bound whose lower side exceeds its upper, or bounds
            that no plan spending exactly ``budget`` can meet.
        """
        cur = self.variables(plan.current(budget))
        lo, hi = np.zeros(cur.shape), np.full(cur.shape, float(budget))
        for key, (a, b) in self.bounds.items():
            for i in self._cells(key, plan):
                unit = cur[i] if self.relative else 1.0
                if a is not None:
                    lo[i] = max(lo[i], a * unit)
                if b is not None:
                    hi[i] = min(hi[i], b * unit)
                if lo[i] > hi[i]:
                    raise SpecError(f"Bound for {key!r} has lower {lo[i]:g} > upper {hi[i]:g}.")
        for key in self.lock:
            for i in self._cells(key, plan):
                lo[i] = hi[i] = cur[i]
        _check_feasible(lo, hi, budget)
        return lo, hi

    def _cells(self, key, plan: Planner) -> list[int]:
        """Decision variables a bounds/lock key refers to (flat indices)."""
        data, labels = plan.data, plan.labels
        n_geos = len(data.geos)
        if isinstance(key, tuple):
            geo, label = key
            if geo not in data.geos:
                raise SpecError(f"Unknown geo {geo!r} in bounds/lock; geos are {list(data.geos)}.")
            return [data.geos.index(geo) * len(labels) + label_index(labels, data, label)]
        k = label_index(labels, data, key)
        return [g * len(labels) + k for g in range(n_geos)] if self.by_geo else [k]


def _check_pair(key, pair) -> None:
    """A bound is a (lower, upper) pair, either side None, lower ≤ upper."""
    try:
        a, b = pair
    except (TypeError, ValueError):
        raise SpecError(
            f"Bound for {key!r} must be a (lower, upper) pair, either side None; got {pair!r}."
        ) from None
    if a is not None and b is not None and a > b:
        raise SpecError(f"Bound for {key!r} has lower {a:g} > upper {b:g}.")


def _check_feasible(lo: np.ndarray, hi: np.ndarray, budget: float) -> None:
    """Some plan spending exactly ``budget`` lies within ``lo`` and ``hi``."""
    if lo.sum() > budget * (1 + 1e-12):
        raise SpecError(
            f"The lower bounds (and locked spend) sum to {lo.sum():,.2f}, above the budget "
            f"{budget:,.2f}: lower the bounds/locks or raise `budget`."
        )
    if hi.sum() < budget * (1 - 1e-12):
        raise SpecError(
            f"The upper bounds sum to {hi.sum():,.2f}, below the budget {budget:,.2f}: "
            "raise the upper bounds or lower `budget`."
        )
