"""Target mode: the least budget whose plan reaches a target with a stated probability.

``fit.optimize(target=..., target_prob=0.8, target_metric="revenue")`` asks the inverse of
the budget question: not "how to split this budget" but "what budget, split how, reaches
this goal".

- **The plan path.** For a budget ``B`` the plan is the expected-revenue optimum under
  the usual :class:`~bayes_mmm.optimize.constraints.Constraints` (bounds, locks,
  ``by_geo``), found by the same solvers as ``allocate``. Along that path each draw ``s``
  has a metric ``m_s(B)``:

  - ``"revenue"``: incremental revenue over window + carryover tail, the plan against
    spending nothing in the window (history carryover and organic media cancel);
  - ``"roi"``: that incremental revenue divided by ``B``;
  - ``"mroi"``: the revenue of one more unit of budget spread like the plan,
    ``sum(gradient * plan) / B``.

- **The budget.** Revenue grows with the budget, so the least budget with
  ``P(m(B) ≥ target) ≥ target_prob`` is found by a geometric grid and then bisection on
  that probability. ROI and marginal ROI *fall* with the budget (saturation), so a floor
  on them holds below some budget and the least budget is trivially zero: for those
  metrics the budget found is the *largest* one whose plan keeps the floor with
  probability ``target_prob`` (Meridian's target-ROI question).
- **The budget's interval.** Each draw has its own crossing: the budget at which its own
  metric crosses the target along the plan path (linear interpolation between the
  evaluated budgets, which include every bisection step). Since the path is one plan per
  budget, ``P(reach at B)`` is the share of draws whose crossing lies at or below ``B``
  (at or above, for floors): the budget found is the ``target_prob`` quantile of the
  crossings, and their central ``hdi_prob`` range is the budget's interval, computed, not
  guessed.
- **Unreachable targets** raise :class:`~bayes_mmm.errors.SpecError` stating the most
  the posterior allows with probability ``target_prob`` at the end of the searched range
  (the upper bounds or ``max_budget``), and the probability of the target there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.errors import SpecError
from bayes_mmm.optimize import separable
from bayes_mmm.optimize.allocate import Allocation, allocate
from bayes_mmm.optimize.constraints import Constraints
from bayes_mmm.optimize.factory import gate, planner
from bayes_mmm.optimize.mediated import MediatedPlanner
from bayes_mmm.optimize.search import make_problem, search
from bayes_mmm.optimize.utilities import mean_utility
from bayes_mmm.optimize.window import Planner
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior

METRICS = ("revenue", "roi", "mroi")
GRID = 12  # geometric budget grid before bisection
BISECT_RTOL = 2e-3  # bisection stops when the bracket is this narrow relative to the budget
LOWEST = 1e-3  # the searched range starts at this multiple of the history's window spend
HIGHEST = 10.0  # and ends, by default, at this multiple (or the upper bounds)


@dataclass(frozen=True, eq=False)
class TargetReach:
    """The least budget reaching a target, its plan and the budget's interval.

    Attributes
    ----------
    allocation : Allocation
        The plan at :attr:`budget` (spend, table, uplift against the current split of the
        same budget).
    budget : float
        The least budget (largest, for ``roi``/``mroi`` floors) whose plan reaches the
        target with probability ≥ ``target_prob``.
    prob : float
        The posterior probability that the plan at ``budget`` reaches the target.
    target, target_prob : float
    metric : {"revenue", "roi", "mroi"}
    achieved : DataArray, dims (chain, draw)
        The metric of the plan at ``budget``, draw by draw.
    crossings : DataArray, dims (chain, draw)
        Each draw's own budget at which its metric crosses the target along the plan
        path; ``inf`` where it does not within the searched range (for floors: ``inf``
        when the floor still holds at its end, ``0`` when it fails at its start).
    interval : Series
        ``lower``, ``median``, ``upper`` of ``crossings`` (central ``hdi_prob`` range);
        ``attrs["hdi_prob"]``.
    curve : DataFrame
        Per evaluated budget (index ``budget``, ascending): ``prob`` of reaching the
        target and the metric's ``mean``, ``lower``, ``upper``.
    """

    allocation: Allocation
    budget: float
    prob: float
    target: float
    target_prob: float
    metric: str
    achieved: xr.DataArray
    crossings: xr.DataArray
    interval: pd.Series
    curve: pd.DataFrame

    @property
    def spend(self) -> pd.Series | pd.DataFrame:
        """The plan's spend (``Allocation.spend``)."""
        return self.allocation.spend

    @property
    def table(self) -> pd.DataFrame:
        """The plan's table (``Allocation.table``)."""
        return self.allocation.table

    @property
    def sentence(self) -> str:
        """E.g. "Least 13-week budget with P ≥ 80% of incremental revenue ≥ 1,000,000:
        412,000 (90% range of the draws' own budgets 350,000 to 498,000)"."""
        what = {"revenue": "incremental revenue", "roi": "ROI", "mroi": "marginal ROI"}
        word = "Least" if self.metric == "revenue" else "Largest"
        iv = self.interval
        return (
            f"{word} {self.allocation.weeks}-week budget with P ≥ {self.target_prob:.0%} of "
            f"{what[self.metric]} ≥ {self.target:,.4g}: {self.budget:,.0f} "
            f"({iv.attrs['hdi_prob']:.0%} range of the draws' own budgets "
            f"{iv['lower']:,.0f} to {iv['upper']:,.0f})"
        )


# ---------------------------------------------------------------------- the plan path
class _Path:
    """The expected-revenue plan of each budget and its per-draw metric, memoised."""

    def __init__(self, plan: Planner, constraints: Constraints, metric: str):
        self.plan, self.constraints, self.metric = plan, constraints, metric
        zero = np.zeros_like(plan.history_spend)
        self.zero_revenue = plan.revenue(zero)
        self.seen: dict[float, np.ndarray] = {}
        self.rng = np.random.default_rng(0)

    def cells(self, budget: float) -> np.ndarray:
        """The expected-revenue optimum of ``budget``, dims (geo, spend_group)."""
        problem = make_problem(self.plan, budget, self.constraints, mean_utility())
        if isinstance(self.plan, MediatedPlanner):
            y, _ = search(problem, 3, self.rng)
        else:
            y, _ = separable.structured_search(problem, "mean", 0.1)
        return problem.cells(problem.feasible(y * budget))

    def metric_of(self, cells: np.ndarray, budget: float) -> np.ndarray:
        """The metric of the plan ``cells`` at ``budget``, dims (sample,)."""
        if self.metric == "mroi":
            _, g = self.plan.revenue(cells, grad=True)
            return (g * cells[None]).sum(axis=(1, 2)) / budget
        gain = self.plan.revenue(cells) - self.zero_revenue
        return gain / budget if self.metric == "roi" else gain

    def __call__(self, budget: float) -> np.ndarray:
        budget = float(budget)
        if budget not in self.seen:
            self.seen[budget] = self.metric_of(self.cells(budget), budget)
        return self.seen[budget]

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """Every evaluated budget (ascending) and its metric, dims (budget,), (budget, sample)."""
        b = np.array(sorted(self.seen))
        return b, np.stack([self.seen[x] for x in b])


def _feasible(plan: Planner, constraints: Constraints, budget: float) -> bool:
    try:
        constraints.limits(plan, budget)
    except SpecError:
        return False
    return True


def _budget_range(plan, constraints, max_budget) -> tuple[float, float]:
    """The searched budgets: from ``LOWEST`` × the history's window spend (or the least
    budget the bounds allow) to ``max_budget`` (default ``HIGHEST`` × it, or the most
    the upper bounds allow)."""
    total = float(plan.history_spend.sum())
    lo, hi = LOWEST * total, HIGHEST * total if max_budget is None else float(max_budget)
    if not np.isfinite(hi) or hi <= lo:
        raise SpecError(f"max_budget={max_budget!r} must exceed {lo:,.2f}.")
    ok_lo, ok_hi = _feasible(plan, constraints, lo), _feasible(plan, constraints, hi)
    if not ok_lo and not ok_hi:
        mid = np.geomspace(lo, hi, 64)
        ok = [b for b in mid if _feasible(plan, constraints, b)]
        if not ok:
            raise SpecError(
                f"No budget between {lo:,.2f} and {hi:,.2f} meets the bounds and locks: "
                "relax them or raise `max_budget`."
            )
        lo, hi = ok[0], ok[-1]
    elif not ok_lo:
        lo = _edge(plan, constraints, lo, hi)
    elif not ok_hi:
        hi = _edge(plan, constraints, hi, lo)
    return lo, hi


def _edge(plan, constraints, bad: float, good: float) -> float:
    """The feasible budget nearest ``bad`` on the way to ``good`` (bisection)."""
    for _ in range(60):
        mid = 0.5 * (bad + good)
        if _feasible(plan, constraints, mid):
            good = mid
        else:
            bad = mid
    return good


def crossings(budgets: np.ndarray, values: np.ndarray, target: float, rising: bool) -> np.ndarray:
    """Each draw's budget at which its metric crosses ``target``, by linear interpolation.

    Parameters
    ----------
    budgets : ndarray, dims (budget,)
        Ascending.
    values : ndarray, dims (budget, sample)
        The metric along the plan path.
    rising : bool
        The metric rises with the budget (revenue): the first budget reaching the target;
        revenue is 0 at budget 0, so a draw reaching it at the first budget crosses on the
        line from the origin. Otherwise (a floor) the last budget keeping the target.

    Returns
    -------
    ndarray, dims (sample,)
        ``inf`` where a rising metric never reaches the target or a floor still holds at
        the last budget; ``0`` where a floor fails at the first budget.
    """
    ok = values >= target
    n = values.shape[1]
    out = np.full(n, np.inf)
    if rising:
        hit = ok.any(axis=0)
        j = np.argmax(ok, axis=0)
        prev_b = np.where(j > 0, budgets[np.maximum(j - 1, 0)], 0.0)
        prev_v = np.where(j > 0, values[np.maximum(j - 1, 0), np.arange(n)], 0.0)
    else:
        hit = ~ok[-1]
        j = len(budgets) - 1 - np.argmax(ok[::-1], axis=0)  # last budget keeping the floor
        hit &= ok.any(axis=0)
        prev_b, prev_v = budgets[j], values[j, np.arange(n)]
        j = np.minimum(j + 1, len(budgets) - 1)
    b, v = budgets[j], values[j, np.arange(n)]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(v != prev_v, (target - prev_v) / (v - prev_v), 1.0)
    cross = prev_b + np.clip(t, 0.0, 1.0) * (b - prev_b)
    out[hit] = cross[hit]
    if not rising:
        out[~ok.any(axis=0)] = 0.0
    return out


def minimum_budget(
    plan: Planner,
    target: float,
    shape: tuple[int, int],
    constraints: Constraints | None = None,
    *,
    target_prob: float = 0.5,
    metric: str = "revenue",
    max_budget: float | None = None,
    hdi_prob: float = 0.9,
    warning: str | None = None,
) -> TargetReach:
    """The least budget whose plan on ``plan`` reaches ``target`` with probability
    ≥ ``target_prob`` (the largest, for ``roi``/``mroi`` floors); see the module docstring.

    Parameters
    ----------
    plan : Planner
    target : float
        Incremental revenue over window + tail (target units), or an ROI / marginal ROI
        floor; positive.
    shape : (n_chain, n_draw)
        Of the draws the planner was built on.
    constraints : Constraints, optional
    target_prob : float in (0, 1)
    metric : {"revenue", "roi", "mroi"}
    max_budget : float, optional
        The largest budget searched; default ``HIGHEST`` × the history's window spend,
        capped by the upper bounds.
    hdi_prob : float
        The central range of the draws' crossings reported as the budget's interval.
    warning : str, optional
        A convergence verdict to carry on the plan.

    Raises
    ------
    SpecError
        A target that is not positive, an unknown metric, ``target_prob`` outside (0, 1),
        or a target the posterior does not reach with probability ``target_prob`` within
        the searched budgets (the message gives the most it reaches).
    """
    if metric not in METRICS:
        raise SpecError(f"target_metric={metric!r}: choose one of {METRICS}.")
    if not np.isfinite(target) or target <= 0:
        raise SpecError(
            f"target={target!r} must be a positive number (incremental revenue in target "
            "units, or an ROI / marginal ROI floor)."
        )
    if not 0 < target_prob < 1:
        raise SpecError(f"target_prob={target_prob!r} must lie strictly between 0 and 1.")
    constraints = Constraints() if constraints is None else constraints
    rising = metric == "revenue"
    path = _Path(plan, constraints, metric)
    lo, hi = _budget_range(plan, constraints, max_budget)

    def prob(b: float) -> float:
        return float((path(b) >= target).mean())

    end = hi if rising else lo
    if prob(end) < target_prob:
        raise SpecError(_unreachable(path(end), end, target, target_prob, metric))
    found = _search(prob, lo, hi, target_prob, rising)
    alloc = allocate(plan, found, shape, constraints, warning=warning)
    budgets, values = path.table()
    cross = crossings(budgets, values, target, rising)
    interval, curve = _summaries(budgets, values, cross, target, hdi_prob)
    achieved = path(found)
    return TargetReach(
        allocation=alloc,
        budget=float(found),
        prob=float((achieved >= target).mean()),
        target=float(target),
        target_prob=float(target_prob),
        metric=metric,
        achieved=xr.DataArray(achieved.reshape(shape), dims=SAMPLE_DIMS, name=metric),
        crossings=xr.DataArray(cross.reshape(shape), dims=SAMPLE_DIMS, name="budget"),
        interval=interval,
        curve=curve,
    )


def _search(prob, lo: float, hi: float, target_prob: float, rising: bool) -> float:
    """The least budget in ``[lo, hi]`` with ``prob(budget) ≥ target_prob`` (the largest,
    when ``prob`` falls with the budget): a geometric grid, then bisection."""
    grid = np.geomspace(lo, hi, GRID)
    ok = np.array([prob(b) >= target_prob for b in grid])
    if rising:
        if ok[0]:
            a, b = 0.0, grid[0]
        else:
            k = int(np.argmax(ok))
            a, b = grid[k - 1], grid[k]  # prob(a) < target_prob <= prob(b)
        while b - a > BISECT_RTOL * b:
            mid = 0.5 * (a + b)
            a, b = (a, mid) if prob(mid) >= target_prob else (mid, b)
        return b
    if ok[-1]:
        return hi  # the floor holds over the whole searched range
    k = len(grid) - 1 - int(np.argmax(ok[::-1]))
    a, b = grid[k], grid[k + 1]  # prob(a) >= target_prob > prob(b)
    while b - a > BISECT_RTOL * b:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if prob(mid) >= target_prob else (a, mid)
    return a


def _summaries(budgets, values, cross, target: float, hdi_prob: float):
    """The budget's interval (central ``hdi_prob`` range of the crossings) and the
    probability curve over the evaluated budgets."""
    lo_q, hi_q = (1 - hdi_prob) / 2, (1 + hdi_prob) / 2
    q = np.quantile(cross, [lo_q, 0.5, hi_q])
    interval = pd.Series({"lower": q[0], "median": q[1], "upper": q[2]}, name="budget")
    interval.attrs["hdi_prob"] = hdi_prob
    curve = pd.DataFrame(
        {
            "prob": (values >= target).mean(axis=1),
            "mean": values.mean(axis=1),
            "lower": np.quantile(values, lo_q, axis=1),
            "upper": np.quantile(values, hi_q, axis=1),
        },
        index=pd.Index(budgets, name="budget"),
    )
    return interval, curve


def _unreachable(values: np.ndarray, budget: float, target, target_prob, metric) -> str:
    """The error of a target the posterior does not reach at the end of the range."""
    best = float(np.quantile(values, 1 - target_prob))
    p = float((values >= target).mean())
    if metric == "revenue":
        where = f"the largest budget searched, {budget:,.2f}"
        fix = "raise `max_budget`/the upper bounds"
    else:
        where = f"the smallest budget searched, {budget:,.2f}"
        fix = "lower the bounds' floors"
    return (
        f"target={target:,.6g} ({metric}) is not reached with probability ≥ {target_prob:.0%}: "
        f"at {where}, the best plan reaches it with probability {p:.0%}, and the most it "
        f"reaches with probability {target_prob:.0%} is {best:,.6g}. Lower the target or "
        f"`target_prob`, or {fix}."
    )


# ---------------------------------------------------------------------- from a posterior
def reach(
    posterior: Posterior,
    target: float,
    weeks: int = 13,
    *,
    target_prob: float = 0.5,
    target_metric: str = "revenue",
    bounds: Mapping | None = None,
    bounds_relative: bool = False,
    lock: Sequence = (),
    by_geo: bool = False,
    flighting: str = "history",
    max_budget: float | None = None,
    hdi_prob: float = 0.9,
    allow_unconverged: bool = False,
) -> TargetReach:
    """The least ``weeks``-week budget whose plan reaches ``target`` with probability
    ≥ ``target_prob``; :func:`minimum_budget` on a posterior (or a ``Fit``).

    The constraint arguments are ``optimize``'s; ``target_metric`` is
    :func:`minimum_budget`'s ``metric``.

    Raises
    ------
    ConvergenceError
        When the fit failed its gates and ``allow_unconverged`` is False.
    SpecError
        See :func:`minimum_budget`.
    """
    posterior = as_posterior(posterior)
    warning = gate(posterior, allow_unconverged)
    draws, shape = posterior.draws
    plan = planner(posterior.data, posterior.spec, draws, weeks=weeks, flighting=flighting)
    return minimum_budget(
        plan,
        target,
        shape,
        Constraints(bounds or {}, relative=bounds_relative, lock=lock, by_geo=by_geo),
        target_prob=target_prob,
        metric=target_metric,
        max_budget=max_budget,
        hdi_prob=hdi_prob,
        warning=warning,
    )
