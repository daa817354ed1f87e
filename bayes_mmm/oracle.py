"""The simulator's truth as a planner: the yardstick for regret studies.

``bm.simulate`` generates data from the model's own mean function at known parameters,
so its true response over a future window is a :class:`~bayes_mmm.optimize.Planner`
built on one "draw" (the truth). Optimising that one-draw planner gives the true optimum;
evaluating a posterior plan on it gives the plan's revenue under the truth
(:func:`regret_share`). Taking posterior draws as the truth in turn gives the share the
posterior expects of its own plan (:func:`self_assessed_share`, the optimizer's own
near-optimality step with the unconstrained optimum as the yardstick): the yardstick for
whether a miss is bias or lack of information.

It lives in the package because ``notebooks/03_budget.ipynb`` scores its plans with it and
a notebook run against an installed wheel has only the package to import; the optimizer
tests and the benchmarks import it through ``benchmarks/oracle.py``. It sits above
``optimize`` in the layers and nothing in the package imports it.

>>> from bayes_mmm.oracle import simulated, true_planner, true_optimum  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.optimize import Allocation, Constraints, Planner, allocate, planner
from bayes_mmm.optimize.allocate import shares_of_best
from bayes_mmm.simulate import Truth, simulate


def simulated(n_geos: int, n_weeks: int, n_channels: int, seed: int, **kwargs):
    """A ``bm.simulate`` panel as ``MMMData`` (all media, ``control_1``) and its truth.

    Parameters
    ----------
    n_geos, n_weeks, n_channels, seed : int
    **kwargs
        Passed to ``bm.simulate`` (e.g. ``spend_variation``).

    Returns
    -------
    data : MMMData
    truth : Truth
    """
    df, truth = simulate(n_geos, n_weeks, n_channels, seed=seed, **kwargs)
    media = [c for c in df.columns if c not in ("date", "geo", "revenue", "control_1")]
    data = MMMData.from_frame(
        df, date="date", target="revenue", media=media, geo="geo", controls=["control_1"]
    )
    return data, truth


def true_planner(data: MMMData, truth: Truth, weeks: int = 13, flighting: str = "history"):
    """The simulator's true response as a one-draw planner.

    Parameters
    ----------
    data : MMMData
        The simulated panel (its scalings turn the truth's geo-share ``beta`` into the
        planner's units).
    truth : Truth
    weeks : int
    flighting : {"history", "flat"}

    Returns
    -------
    Planner
        Sample dim of length 1: ``revenue(spend)`` has dims (1,).
    """
    return planner(data, truth.spec, true_draws(data, truth), weeks=weeks, flighting=flighting)


def true_draws(data: MMMData, truth: Truth) -> dict[str, np.ndarray]:
    """The true media parameters in the layout of posterior draws, one sample.

    Returns
    -------
    dict
        ``alpha``, ``ec``, ``slope`` dims (1, channel) and ``beta`` dims (1, geo, channel),
        on the model's scale (``beta`` relative to the panel's geo means, like the fit's).
    """
    p = truth.params
    true = {k: np.asarray(p[k], dtype=float)[None] for k in ("alpha", "ec", "slope")}
    # truth's beta is a share of geo_size; the model scales by the panel's geo means
    true["beta"] = (p["beta"] * (p["geo_size"] / data.scaling.target)[:, None])[None]
    return true


def true_optimum(oracle: Planner, budget: float, by_geo: bool, n_starts: int = 12) -> Allocation:
    """The optimizer run on the truth: the best plan under the same constraints.

    Parameters
    ----------
    oracle : Planner
        From :func:`true_planner`.
    budget : float
    by_geo : bool
        ``False`` keeps each channel's current split across geos (the API default),
        ``True`` frees every (geo, channel) cell; a posterior plan must be compared with
        the optimum of the same problem.
    n_starts : int
        Starts of the SLSQP multi-start search; the default solver (the structured one,
        ``optimize.separable``) does not use them.
    """
    return allocate(oracle, budget, (1, 1), Constraints(by_geo=by_geo), n_starts=n_starts)


def plan_cells(plan: Allocation, current: np.ndarray) -> np.ndarray:
    """An allocation's spend per (geo, spend group), dims (geo, spend_group).

    A channel-level plan (``by_geo=False``) keeps each channel's geo split of ``current``
    (dims (geo, spend_group)), as :func:`~bayes_mmm.optimize.allocate` does.
    """
    spend = plan.spend.to_numpy()
    if spend.ndim == 2:
        return spend
    tot = current.sum(axis=0)
    share = np.where(tot > 0, current / np.where(tot > 0, tot, 1.0), 1.0 / current.shape[0])
    return share * spend[None]


def regret_share(oracle: Planner, plan: Allocation, best: Allocation) -> float:
    """Share of the true optimum's uplift that ``plan`` earns under the truth.

    1 means the posterior plan is as good as the true optimum; 0 means no better than
    the current split; negative means worse than the current split.

    Parameters
    ----------
    oracle : Planner
        From :func:`true_planner`.
    plan : Allocation
        The posterior plan (same budget, window and ``by_geo`` as ``best``).
    best : Allocation
        :func:`true_optimum`.
    """
    cur = oracle.current(plan.budget)
    attainable = float(best.uplift.values.ravel()[0])
    return true_gain(oracle, plan_cells(plan, cur), cur) / attainable


def true_gain(oracle: Planner, spend: np.ndarray, current: np.ndarray) -> float:
    """Revenue of ``spend`` minus that of ``current`` under the truth (target units).

    Parameters
    ----------
    oracle : Planner
        From :func:`true_planner`.
    spend, current : ndarray, dims (geo, spend_group)
    """
    return float((oracle.revenue(np.asarray(spend, float)) - oracle.revenue(current))[0])


def self_assessed_share(
    plan: Planner, allocation: Allocation, by_geo: bool, n: int = 40, n_starts: int = 3
) -> np.ndarray:
    """The regret share the posterior expects its own plan to earn.

    Each of ``n`` evenly spaced posterior draws is taken in turn as the truth: its
    one-draw planner's :func:`true_optimum` (same budget and ``by_geo``, no bounds or
    locks) is the yardstick for ``allocation`` (``optimize.allocate.shares_of_best``, the
    optimizer's near-optimality step). Under a calibrated posterior the share under the
    real truth is a draw from this distribution, so a true share inside it is a miss for
    lack of information in the data, not a bias of the model or the optimizer.

    Users get the same view, under the plan's own bounds and locks, from
    ``fit.optimize(..., near_optimal=k)``.

    Parameters
    ----------
    plan : Planner
        The posterior planner the allocation was optimised on.
    allocation : Allocation
    by_geo : bool
        As in the allocation.
    n : int
        Draws taken as truth.
    n_starts : int
        Starts per one-draw optimum.

    Returns
    -------
    ndarray, dims (n,): the share under each draw taken as truth.
    """
    total = plan.base.shape[0]
    index = np.linspace(0, total - 1, min(n, total)).astype(int)
    current = plan.current(allocation.budget)
    spend = plan_cells(allocation, current)

    def optimum(one: Planner) -> np.ndarray:
        best = true_optimum(one, allocation.budget, by_geo, n_starts=n_starts)
        return plan_cells(best, current)

    return shares_of_best(plan, optimum, plan.revenue(spend), plan.revenue(current), index)
