"""Utilities over posterior draws: ``fn(revenue (sample,)) -> (value, d value / d revenue)``.

Each built-in is a closure a user can replace with their own callable of the same
signature; the gradient is what lets SLSQP run without finite differences.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bayes_mmm.errors import SpecError

Utility = Callable[[np.ndarray], tuple[float, np.ndarray]]


def mean_utility() -> Utility:
    """Expected revenue: ``mean(r)``."""

    def fn(r):
        return float(r.mean()), np.full(r.shape, 1.0 / r.size)

    return fn


def cvar_utility(alpha: float = 0.1) -> Utility:
    """Conditional value at risk: the mean of the worst ``alpha`` share of draws."""
    if not 0 < alpha <= 1:
        raise SpecError(f"alpha={alpha!r} must be in (0, 1], e.g. 0.1 for the worst 10%.")

    def fn(r):
        k = max(1, int(np.ceil(alpha * r.size)))
        worst = np.argpartition(r, k - 1)[:k]
        grad = np.zeros(r.shape)
        grad[worst] = 1.0 / k
        return float(r[worst].mean()), grad

    return fn


def mean_sd_utility(risk_aversion: float = 1.0) -> Utility:
    """Mean minus ``risk_aversion`` times the standard deviation over draws."""

    def fn(r):
        mu, sd = r.mean(), r.std()
        dsd = (r - mu) / (r.size * sd) if sd > 0 else np.zeros(r.shape)
        return float(mu - risk_aversion * sd), 1.0 / r.size - risk_aversion * dsd

    return fn


def profit_utility(margin: float, budget: float) -> Utility:
    """Expected profit ``margin * mean(r) - budget``.

    With the budget spent exactly this ranks plans like :func:`mean_utility`; it is here so
    that reported objective values are in profit units.
    """

    def fn(r):
        return float(margin * r.mean() - budget), np.full(r.shape, margin / r.size)

    return fn


def resolve_utility(
    objective: str | Utility, alpha: float, risk_aversion: float, margin: float, budget: float
) -> Utility:
    """The utility an ``objective`` names (built with its parameter), or the callable itself.

    Raises
    ------
    SpecError
        An unknown name.
    """
    if callable(objective):
        return objective
    table = {
        "mean": mean_utility,
        "cvar": lambda: cvar_utility(alpha),
        "mean_sd": lambda: mean_sd_utility(risk_aversion),
        "profit": lambda: profit_utility(margin, budget),
    }
    if objective not in table:
        raise SpecError(
            f"objective={objective!r}: choose one of {sorted(table)} or pass a callable "
            "revenue (sample,) -> (value, gradient (sample,))."
        )
    return table[objective]()
