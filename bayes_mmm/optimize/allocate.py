"""The optimizer's entry points: :func:`optimize` (a posterior) and :func:`allocate` (a planner).

``allocate`` poses one :class:`~bayes_mmm.optimize.search.Problem` (planner, budget,
:class:`~bayes_mmm.optimize.constraints.Constraints`, utility) and runs up to three steps
on it: the search for the best plan, and on request the stability step
(:func:`stability_range`: the optimum re-solved on disjoint subsets of the draws) and the
near-optimality step (:func:`near_optimality`: each of ``k`` draws taken as the truth
scores the plan against that draw's own optimum).

Two solvers run the steps. ``"structured"`` (``optimize.separable``: cell curves, their
concave envelope and a projected Newton polish with exact curvature, cost linear in
cells; the stability and near-optimality problems solved as one batch) is the default for the
direct-effect planner; ``"slsqp"`` (``optimize.search``: SLSQP multi-start) is the
mediated planner's, whose revenue is not separable across cells, and the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.analysis import summarize
from bayes_mmm.errors import SpecError
from bayes_mmm.optimize import separable
from bayes_mmm.optimize.constraints import Constraints
from bayes_mmm.optimize.mediated import MediatedPlanner
from bayes_mmm.optimize.rf_optimal import window_of
from bayes_mmm.optimize.search import Problem, make_problem, one_blas_thread, search
from bayes_mmm.optimize.utilities import Utility, mean_utility, resolve_utility
from bayes_mmm.optimize.window import Planner, marginal_roi
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior
from bayes_mmm.progress import iterate


@dataclass(frozen=True, eq=False)
class Allocation:
    """An optimized budget plan and its uncertainty.

    Attributes
    ----------
    spend : pd.Series (spend group) or DataFrame (geo × spend group)
        Optimal window spend.
    current : pd.Series or DataFrame
        The same budget split as in the last ``weeks`` weeks of history.
    table : DataFrame
        Per spend group: ``current``, ``optimal``, ``change``, and the marginal ROI at the
        optimum ``mroi_mean``, ``mroi_lower``, ``mroi_upper`` (≈ equal across unbounded
        groups at an interior optimum). With ``spec.mediators`` the marginal ROI of an
        upstream channel is its *total* effect: direct plus the revenue of the mediator
        media it induces (``optimize.mediated``); the mediator's own is its direct effect.
    uplift : DataArray, dims (chain, draw)
        Revenue of the plan minus the current plan's, window + carryover tail.
    prob_better : float
        Posterior probability that the plan beats the current one.
    objective : float
        The utility's value at the optimum (target units).
    objective_current : float
        The utility's value at the current plan.
    budget, weeks : float, int
    warning : str or None
        The convergence verdict when the fit failed its gates (``allow_unconverged``).
    stability : DataFrame or None
        With ``stability=k``: per spend group, the ``lower``/``median``/``upper`` (5%, 50%,
        95% quantiles) of the optimal spend re-solved on ``k`` disjoint random subsets of
        the draws, and ``optimal``. A wide range means the posterior does not pin the
        recommendation down; ``None`` when not asked for.
    near_optimal : Series or None
        With ``near_optimal=k``: how close to the best plan the posterior expects this plan
        to be. Each of ``k`` evenly spaced draws is taken in turn as the truth; the plan's
        uplift over current under that draw is divided by the uplift of that draw's own
        optimum (same budget, bounds and locks). ``median``, ``lower``/``upper`` (5% and
        95% quantiles) of that share and ``p_095`` = P(share ≥ 0.95); ``attrs["draws"]`` = k.
        Under a calibrated posterior the share under the real truth is a draw from this
        distribution (on simulated panels it fell inside the 90% range in 26 of 30 plans,
        ``benchmarks/REGRET.md``). ``None`` when not asked for.
    """

    spend: pd.Series | pd.DataFrame
    current: pd.Series | pd.DataFrame
    table: pd.DataFrame
    uplift: xr.DataArray
    prob_better: float
    objective: float
    objective_current: float
    budget: float
    weeks: int
    warning: str | None = None
    stability: pd.DataFrame | None = None
    near_optimal: pd.Series | None = None

    def uplift_summary(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Mean, median and HDI of the uplift."""
        return summarize(self.uplift.expand_dims(quantity=["uplift"]), hdi_prob)


# ---------------------------------------------------------------------- entry points
def allocate(
    plan: Planner,
    budget: float,
    shape: tuple[int, int],
    constraints: Constraints | None = None,
    *,
    objective: str | Utility = "mean",
    alpha: float = 0.1,
    risk_aversion: float = 1.0,
    margin: float = 1.0,
    n_starts: int = 3,
    seed: int = 0,
    hdi_prob: float = 0.9,
    warning: str | None = None,
    stability: int = 0,
    near_optimal: int = 0,
    solver: str = "auto",
    progress: bool | None = None,
) -> Allocation:
    """Optimize a :class:`Planner`'s window budget.

    Parameters
    ----------
    plan : Planner
    budget : float
        Total spend of the window (currency); met exactly.
    shape : (n_chain, n_draw)
        Of the draws the planner was built on.
    constraints : Constraints, optional
        Bounds, locks and ``by_geo``; none by default.
    warning : str, optional
        A convergence verdict to carry on the plan.

    The other arguments are :func:`optimize`'s.

    Raises
    ------
    SpecError
        A budget that is not positive, an unknown objective, infeasible constraints or
        ``stability``/``near_optimal`` beyond the draws.
    """
    if not np.isfinite(budget) or budget <= 0:
        raise SpecError(f"budget={budget!r} must be a positive number (currency).")
    utility = resolve_utility(objective, alpha, risk_aversion, margin, budget)
    constraints = Constraints() if constraints is None else constraints
    problem = make_problem(plan, budget, constraints, utility)
    _check_draw_counts(plan.base.shape[0], stability, near_optimal)
    rng = np.random.default_rng(seed)
    how = Method(_solver(plan, solver), _kind(objective), alpha)
    if how.solver == "structured":
        y, starts = separable.structured_search(problem, how.kind, alpha)
    else:
        y, starts = search(problem, n_starts, rng, progress)
    x = problem.feasible(y * budget)
    cells = problem.cells(x)
    revenue, gradient = plan.revenue(cells, grad=True)
    stable = stability_range(problem, y, cells, rng, stability, how) if stability else None
    near = (
        near_optimality(problem, [y, *starts], revenue, near_optimal, how, progress)
        if near_optimal
        else None
    )
    spend, current = _frames(problem, x, cells)
    uplift = revenue - problem.current_revenue
    return Allocation(
        spend=spend,
        current=current,
        table=_table(problem, cells, gradient, shape, hdi_prob, warning),
        uplift=xr.DataArray(uplift.reshape(shape), dims=SAMPLE_DIMS, name="uplift"),
        prob_better=float((uplift > 0).mean()),
        objective=float(utility(revenue)[0]),
        objective_current=float(problem.current_value),
        budget=float(budget),
        weeks=plan.weeks,
        warning=warning,
        stability=stable,
        near_optimal=near,
    )


@dataclass(frozen=True)
class Method:
    """How ``allocate`` solves its problems.

    Attributes
    ----------
    solver : {"structured", "slsqp"}
    kind : {"mean", "profit", "cvar", "other"}
        The objective, as the structured solver treats it.
    alpha : float
        CVaR's tail share.
    """

    solver: str = "slsqp"
    kind: str = "mean"
    alpha: float = 0.1


def _solver(plan: Planner, solver: str) -> str:
    """The solver ``solver`` names for ``plan``: ``"auto"`` is ``"structured"`` unless the
    planner is mediated (not separable across cells)."""
    if solver not in ("auto", "structured", "slsqp"):
        raise SpecError(f"solver={solver!r}: choose 'auto', 'structured' or 'slsqp'.")
    mediated = isinstance(plan, MediatedPlanner)
    if solver == "structured" and mediated:
        raise SpecError(
            "solver='structured' needs a direct-effect planner: the mediated planner's revenue "
            "is not separable across cells; use solver='slsqp' (or 'auto')."
        )
    return "slsqp" if solver == "slsqp" or mediated else "structured"


def _kind(objective) -> str:
    """The structured solver's treatment of ``objective``."""
    return objective if objective in ("mean", "profit", "cvar") else "other"


def _check_draw_counts(n: int, stability: int, near_optimal: int) -> None:
    if stability and not 2 <= stability <= n:
        raise SpecError(f"stability={stability!r} must be between 2 and the {n} draws.")
    if near_optimal and not 1 <= near_optimal <= n:
        raise SpecError(f"near_optimal={near_optimal!r} must be between 1 and the {n} draws.")


def _frames(problem: Problem, x: np.ndarray, cells: np.ndarray):
    """The optimal and current spend as a Series (spend group) or, with ``by_geo``, a
    DataFrame (geo × spend group)."""
    labels = problem.plan.labels
    if problem.by_geo:
        geo_index = pd.Index(problem.plan.data.geos, name="geo")
        spend = pd.DataFrame(cells, index=geo_index, columns=labels)
        return spend, pd.DataFrame(problem.current, index=geo_index, columns=labels)
    spend = pd.Series(x, index=labels, name="spend")
    return spend, pd.Series(problem.current_variables, index=labels, name="current")


def _table(problem: Problem, cells, gradient, shape, hdi_prob: float, warning) -> pd.DataFrame:
    """Per spend group: current, optimal and change of spend, and the marginal ROI at the
    optimum (mean and HDI over draws).

    Parameters
    ----------
    cells : ndarray, dims (geo, spend_group)
        The optimal plan.
    gradient : ndarray, dims (sample, geo, spend_group)
        Its revenue gradient.
    """
    labels, current = problem.plan.labels, problem.current
    mroi = marginal_roi(gradient, cells)
    mroi_da = xr.DataArray(
        mroi.reshape(*shape, -1), dims=(*SAMPLE_DIMS, "channel"), coords={"channel": labels}
    )
    ms = summarize(mroi_da, hdi_prob)
    table = pd.DataFrame(
        {
            "current": current.sum(axis=0),
            "optimal": cells.sum(axis=0),
            "change": cells.sum(axis=0) - current.sum(axis=0),
            "mroi_mean": ms["mean"].to_numpy(),
            "mroi_lower": ms["lower"].to_numpy(),
            "mroi_upper": ms["upper"].to_numpy(),
        },
        index=pd.Index(labels, name="channel"),
    )
    table.attrs["hdi_prob"] = hdi_prob
    if warning:
        table.attrs["warning"] = warning
    return table


# ---------------------------------------------------------------------- stability
def stability_range(
    problem: Problem,
    y: np.ndarray,
    cells: np.ndarray,
    rng: np.random.Generator,
    k: int,
    how: Method = Method(),
) -> pd.DataFrame:
    """The optimum re-solved from ``y`` on ``k`` disjoint random subsets of the draws.

    Parameters
    ----------
    y : ndarray, dims (variable,)
        The optimal budget shares.
    cells : ndarray, dims (geo, spend_group)
        The optimal plan.
    rng : Generator
        Draws the subsets.
    how : Method
        The structured solver re-solves all subsets as one batch, SLSQP one by one.

    Returns
    -------
    DataFrame
        Per spend group: ``optimal`` and the ``lower``/``median``/``upper`` (5%, 50%, 95%
        quantiles) of the re-solved optimal spend; ``attrs["subsets"]`` = ``k``.
    """
    plan, budget = problem.plan, problem.budget
    parts = [np.sort(i) for i in np.array_split(rng.permutation(plan.base.shape[0]), k)]
    if how.solver == "structured":
        bt = separable.batch(plan, parts)
        x0 = np.tile(problem.feasible(y * budget), (k, 1))
        ys = list(separable.solve(problem, bt, how.kind, how.alpha, x0=x0) / budget)
    else:
        with one_blas_thread():
            ys = [problem.solve(problem.objective(plan.subset(i)), y, 1e-8)[0] for i in parts]
    per_part = np.stack([problem.cells(y_i * problem.budget).sum(axis=0) for y_i in ys])
    q = np.quantile(per_part, [0.05, 0.5, 0.95], axis=0)
    stable = pd.DataFrame(
        {"optimal": cells.sum(axis=0), "lower": q[0], "median": q[1], "upper": q[2]},
        index=pd.Index(plan.labels, name="channel"),
    )
    stable.attrs["subsets"] = k
    return stable


# ---------------------------------------------------------------------- near-optimality
def near_optimality(
    problem: Problem,
    starts: Sequence[np.ndarray],
    revenue: np.ndarray,
    k: int,
    how: Method = Method(),
    progress: bool | None = None,
) -> pd.Series:
    """How close to the best plan the posterior expects a plan to be.

    Each of ``k`` evenly spaced draws is taken in turn as the truth: its expected-revenue
    optimum under the problem's budget and constraints is the yardstick for the plan
    (:func:`shares_of_best`). The structured solver finds the ``k`` optima as one batch
    (each draw's own envelope split, polished); SLSQP runs from each of ``starts`` per
    draw and keeps the best.

    Parameters
    ----------
    starts : sequence of ndarray, each dims (variable,)
        Starting budget shares, the plan's own first.
    revenue : ndarray, dims (sample,)
        The plan's revenue.
    how : Method
    progress : bool or None
        A bar over the draws taken as the truth (SLSQP only; ``bayes_mmm.progress``).

    Returns
    -------
    Series
        :func:`near_optimal_summary` of the shares.
    """
    index = np.linspace(0, problem.plan.base.shape[0] - 1, k).astype(int)
    if how.solver == "structured":
        bt = separable.batch(problem.plan, [[i] for i in index])
        x = separable.solve(problem, bt, "mean", how.alpha)
        best = separable.revenue_of(problem, bt, x)
        r0 = problem.current_revenue[index]
        return near_optimal_summary(share_of_gain(best, revenue[index], r0))
    revenue_only = mean_utility()

    def optimum(one: Planner) -> np.ndarray:
        fun = problem.objective(one, revenue_only)
        y = min((problem.solve(fun, y0, 1e-9) for y0 in starts), key=lambda t: t[1])[0]
        return problem.cells(y * problem.budget)

    shares = shares_of_best(
        problem.plan, optimum, revenue, problem.current_revenue, index, progress
    )
    return near_optimal_summary(shares)


def shares_of_best(
    plan: Planner,
    optimum: Callable[[Planner], np.ndarray],
    revenue: np.ndarray,
    current_revenue: np.ndarray,
    index,
    progress: bool | None = None,
) -> np.ndarray:
    """The share of each draw's attainable uplift that a plan earns, the draw taken as the
    truth.

    Under draw ``i`` the attainable uplift is the best of ``optimum``'s plan, the plan
    and the current plan (each is feasible), minus the current plan's revenue. With
    nothing to gain, the share is 1 when the plan loses nothing and 0 otherwise.

    Parameters
    ----------
    plan : Planner
    optimum : callable
        One-draw planner → that draw's optimal spend, dims (geo, spend_group).
    revenue, current_revenue : ndarray, dims (sample,)
        Of the plan and of the current plan.
    index : sequence of int
        The draws taken as the truth.
    progress : bool or None
        A bar over those draws (``bayes_mmm.progress``).

    Returns
    -------
    ndarray, dims (len(index),)
    """
    index = np.asarray(index, dtype=int)
    with one_blas_thread():  # each draw as the truth: its revenue is the yardstick
        truths = iterate(index, "near-optimality draws", progress)
        best = np.array([plan.subset([i]).revenue(optimum(plan.subset([i])))[0] for i in truths])
    return share_of_gain(best, revenue[index], current_revenue[index])


def share_of_gain(best: np.ndarray, revenue: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The share of the attainable uplift a plan earns, draw by draw.

    The attainable uplift is the best of ``best``, the plan and the current plan (each
    feasible) minus the current plan's revenue. With nothing to gain, the share is 1 when
    the plan loses nothing and 0 otherwise.

    Parameters
    ----------
    best, revenue, current : ndarray, dims (draw,)
        Revenue of each draw's own optimum, of the plan and of the current plan.
    """
    gain = np.maximum(np.maximum(best, revenue), current) - current
    some = gain > 1e-12 * np.abs(current)
    flat = np.where(revenue >= current, 1.0, 0.0)
    return np.where(some, (revenue - current) / np.where(some, gain, 1.0), flat)


def near_optimal_summary(shares: np.ndarray) -> pd.Series:
    """``median``, ``lower``/``upper`` (5% and 95% quantiles) of the shares and ``p_095``
    = P(share ≥ 0.95); ``attrs["draws"]`` = the number of shares.

    Parameters
    ----------
    shares : ndarray, dims (draw,)
    """
    near = pd.Series(
        {
            "median": float(np.median(shares)),
            "lower": float(np.quantile(shares, 0.05)),
            "upper": float(np.quantile(shares, 0.95)),
            "p_095": float((shares >= 0.95).mean()),
        },
        name="share_of_best",
    )
    near.attrs["draws"] = len(shares)
    return near


# ---------------------------------------------------------------------- from a posterior
def optimize(
    posterior: Posterior,
    budget: float,
    weeks: int = 13,
    *,
    bounds: Mapping | None = None,
    bounds_relative: bool = False,
    lock: Sequence = (),
    objective: str | Utility = "mean",
    by_geo: bool = False,
    flighting: str = "history",
    alpha: float = 0.1,
    risk_aversion: float = 1.0,
    margin: float = 1.0,
    n_starts: int = 3,
    seed: int = 0,
    hdi_prob: float = 0.9,
    allow_unconverged: bool = False,
    stability: int = 0,
    near_optimal: int = 0,
    solver: str = "auto",
    progress: bool | None = None,
    rf_frequency="history",
) -> Allocation:
    """Allocate ``budget`` over the next ``weeks`` periods to maximise a utility over draws.

    Parameters
    ----------
    posterior : Posterior
        Or a ``Fit`` (its posterior is used).
    budget : float
        Total spend of the window (currency); met exactly.
    weeks : int
        Window length.
    bounds, bounds_relative, lock, by_geo
        The plan's :class:`Constraints` (``bounds``, ``relative``, ``lock``, ``by_geo``):
        ``{label: (lower, upper)}`` in spend or multiples of current spend, labels held at
        current spend, and geo × spend group cells instead of spend groups split like history.
    objective : {"mean", "cvar", "mean_sd", "profit"} or callable
        A callable takes per-draw revenue (sample,) and returns (value, gradient (sample,)).
    flighting : {"history", "flat"}
    alpha, risk_aversion, margin : float
        ``"cvar"``'s tail share, ``"mean_sd"``'s λ, ``"profit"``'s profit per unit revenue.
    n_starts : int
        SLSQP's starts (``search.search``), drawn with ``seed`` beyond the third.
    allow_unconverged : bool
        Proceed on a fit that failed its convergence gates (the plan carries the warning).
    stability, near_optimal : int
        When ≥ 2 (≥ 1), re-solve the plan on this many disjoint random subsets of the
        draws (score it against the optimum of this many draws, each taken as the truth):
        ``Allocation.stability`` (``Allocation.near_optimal``).
    solver : {"auto", "structured", "slsqp"}
        See the module docstring; ``"auto"`` is ``"structured"`` unless the planner is mediated.
    progress : bool or None
        Bars over the SLSQP search (``bayes_mmm.progress``; None: terminals and notebooks).
    rf_frequency : {"history", "optimal"} or dict of str to float
        R&F channels' window frequency (``optimize.rf_window``: bound their spend).

    Raises
    ------
    ConvergenceError
        When the fit failed its gates and ``allow_unconverged`` is False.
    SpecError
        Infeasible bounds, unknown labels or objective.
    """
    plan, shape, warning = window_of(posterior, allow_unconverged, weeks, flighting, rf_frequency)
    risk: dict[str, Any] = {"alpha": alpha, "risk_aversion": risk_aversion, "margin": margin}
    how = {"n_starts": n_starts, "seed": seed, "solver": solver, "progress": progress, **risk}
    return allocate(
        plan,
        budget,
        shape,
        Constraints(bounds or {}, relative=bounds_relative, lock=lock, by_geo=by_geo),
        objective=objective,
        hdi_prob=hdi_prob,
        warning=warning,
        stability=stability,
        near_optimal=near_optimal,
        **how,
    )
