"""The search: SLSQP multi-start with exact gradients over a plan's decision variables.

Search, then polish. SLSQP runs from several starts on a thinned posterior (``COARSE``
draws, loose tolerance: it only has to find the basin), then the best point is polished on
every draw. The first start is the *envelope start* (:func:`envelope_start`): the window
problem is separable across (geo, spend group) cells, so the expected-revenue optimum of
the cells' tabulated curves is found globally with one Lagrange multiplier. It matters
because S-shaped (Hill, slope > 1) curves make geo × channel plans multimodal: on the
10-geo demo truth SLSQP from the current split stops at 80% of the attainable uplift.

Value and gradient are separate callables: the line search needs values only, and the
gradient pass covers only the draws the utility weights (the worst ``alpha`` share for
CVaR), which cut the CVaR plan's time by about 40%.

SLSQP works on budget shares ``y = x / budget`` of the decision variables ``x``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from bayes_mmm.optimize.constraints import Constraints
from bayes_mmm.optimize.utilities import Utility
from bayes_mmm.optimize.window import Planner
from bayes_mmm.progress import iterate

COARSE = 100  # draws used for the multi-start search before polishing on all
ENVELOPE_POINTS = 48  # grid points per decision variable for the envelope start


@dataclass(frozen=True, eq=False)
class Problem:
    """One allocation problem: maximise ``utility`` of a planner's revenue draws over the
    decision variables (see ``bayes_mmm.optimize.constraints``), their sum fixed at
    ``budget`` and each within ``[lower, upper]``.

    Build it with :func:`make_problem`.

    Attributes
    ----------
    plan : Planner
    budget : float
    by_geo : bool
        Decision variables are (geo, spend group) cells, else spend groups.
    current : ndarray, dims (geo, spend_group)
        ``budget`` split like the last ``weeks`` weeks of history.
    share : ndarray, dims (geo, spend_group)
        Each spend group's split across geos in ``current`` (even for a group without
        spend); a spend-group variable is spread over geos by it.
    lower, upper : ndarray, dims (variable,)
    utility : Utility
    current_revenue : ndarray, dims (sample,)
        Revenue of ``current``.
    current_value : float
        ``utility`` of ``current_revenue``; its magnitude scales the objective.
    """

    plan: Planner
    budget: float
    by_geo: bool
    current: np.ndarray
    share: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    utility: Utility
    current_revenue: np.ndarray
    current_value: float

    @property
    def current_variables(self) -> np.ndarray:
        """The decision variables of ``current``, dims (variable,)."""
        return self.current.reshape(-1) if self.by_geo else self.current.sum(axis=0)

    def cells(self, x: np.ndarray) -> np.ndarray:
        """Spend per (geo, spend group) of decision variables ``x``, dims (geo, spend_group)."""
        return x.reshape(self.current.shape) if self.by_geo else self.share * x[None]

    def pullback(self, g: np.ndarray) -> np.ndarray:
        """A gradient over (geo, spend group) cells as one over the decision variables."""
        return g.reshape(-1) if self.by_geo else (g * self.share).sum(axis=0)

    def feasible(self, x: np.ndarray) -> np.ndarray:
        """The point ``clip(x + tau, lower, upper)`` that spends exactly ``budget``."""
        return project(x, self.lower, self.upper, float(self.budget))

    def objective(self, plan: Planner | None = None, utility: Utility | None = None):
        """Value and gradient in the budget shares ``y``, as separate callables.

        ``-utility(revenue) / |current_value|`` of ``plan`` (default: the problem's);
        SLSQP's line search asks for values only, and the gradient pass (after the value
        at the same point, cached) covers only the draws the utility weights.

        Returns
        -------
        value : callable ``y (variable,) -> float``
        jac : callable ``y (variable,) -> ndarray (variable,)``
        """
        plan = self.plan if plan is None else plan
        util = self.utility if utility is None else utility
        budget, norm = self.budget, max(abs(self.current_value), 1e-12)
        last: dict[str, np.ndarray] = {}  # the latest y and its utility gradient

        def value(y):
            u, du = util(plan.revenue(self.cells(y * budget)))
            last.update(y=y.copy(), du=du)
            return -u / norm

        def jac(y):
            if "y" not in last or not np.array_equal(last["y"], y):
                value(y)
            g = plan.weighted_gradient(self.cells(y * budget), last["du"])
            return -self.pullback(g) * budget / norm

        return value, jac

    def solve(self, fun, y0: np.ndarray, ftol: float) -> tuple[np.ndarray, float]:
        """SLSQP from ``y0`` (made feasible first) on ``fun`` (:meth:`objective`).

        Returns
        -------
        y : ndarray, dims (variable,)
            Feasible budget shares (sum 1).
        value : float
            ``fun``'s value at ``y``.
        """
        value, jac = fun
        lo_y, hi_y = self.lower / self.budget, self.upper / self.budget
        cons = [{"type": "eq", "fun": lambda y: y.sum() - 1.0, "jac": lambda y: np.ones_like(y)}]
        res = minimize(
            value,
            project(y0, lo_y, hi_y, 1.0),
            jac=jac,
            method="SLSQP",
            bounds=list(zip(lo_y, hi_y)),
            constraints=cons,
            options={"maxiter": 500, "ftol": ftol},
        )
        y = project(res.x, lo_y, hi_y, 1.0)
        return y, value(y)


def make_problem(
    plan: Planner, budget: float, constraints: Constraints, utility: Utility
) -> Problem:
    """The allocation problem of ``budget`` on ``plan`` under ``constraints``.

    Raises
    ------
    SpecError
        Constraints that no plan spending exactly ``budget`` meets, unknown labels.
    """
    current = plan.current(budget)
    tot = current.sum(0)
    share = current / np.where(tot > 0, tot, 1.0)
    share = np.where(current.sum(0, keepdims=True) > 0, share, 1.0 / len(plan.data.geos))
    lower, upper = constraints.limits(plan, budget)
    revenue = plan.revenue(current)
    value, _ = utility(revenue)
    return Problem(
        plan=plan,
        budget=budget,
        by_geo=constraints.by_geo,
        current=current,
        share=share,
        lower=lower,
        upper=upper,
        utility=utility,
        current_revenue=revenue,
        current_value=value,
    )


def project(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """Closest-in-shift point ``clip(v + tau, lo, hi)`` with ``sum == total``."""
    a, b = (lo - v).min() - 1.0, (hi - v).max() + 1.0
    for _ in range(200):
        tau = 0.5 * (a + b)
        if np.clip(v + tau, lo, hi).sum() < total:
            a = tau
        else:
            b = tau
    x = np.clip(v + 0.5 * (a + b), lo, hi)
    free = (x > lo) & (x < hi)
    if free.any():  # put the last rounding residual on interior variables
        x[free] += (total - x.sum()) / free.sum()
        x = np.clip(x, lo, hi)
    return x


def envelope_start(problem: Problem, plan: Planner) -> np.ndarray:
    """A near-global start: the budget split that maximises the sum of the decision
    variables' expected revenue curves, each tabulated on a grid.

    The window problem is separable (a cell's revenue depends on its own spend), so for
    the expected revenue it is ``max sum_i R_i(x_i)`` with ``sum_i x_i = budget``. A
    Lagrange multiplier on the budget solves it exactly for the concave envelopes of the
    tabulated curves: each variable independently takes the grid point maximising
    ``R_i(x) - lam x`` and ``lam`` is bisected to spend the budget. S-shaped (Hill,
    slope > 1) curves make the problem multimodal, with a local optimum at every
    zero-spend cell; SLSQP started here instead of at the current split finds the global
    basin (the grid is cubic in spend, fine near zero and near ``lower``).

    Parameters
    ----------
    problem : Problem
    plan : Planner
        The draws to average the curves over (the problem's, or a thinned subset).

    Returns
    -------
    ndarray, dims (variable,): spend per decision variable (sums to about ``budget``).
    """
    lo, hi, total = problem.lower, problem.upper, float(problem.budget)
    u = np.linspace(0.0, 1.0, ENVELOPE_POINTS + 1) ** 3
    grid = lo[None] + (hi - lo)[None] * u[:, None]  # (point, variable)
    value = np.empty_like(grid)
    for j, x in enumerate(grid):
        cells = plan.cell_revenue(problem.cells(x)).mean(axis=0)  # (geo, group)
        value[j] = cells.reshape(-1) if problem.by_geo else cells.sum(axis=0)
    return split_budget(grid, value[:, None], total, exact=False)[0]


def split_budget(grid: np.ndarray, values: np.ndarray, total: float, exact: bool = True):
    """Maximise the sum of the tabulated curves' concave envelopes, spending ``total``.

    A Lagrange multiplier ``lam`` on the budget: each variable independently takes the
    grid point maximising ``value - lam * spend``, and ``lam`` is bisected (per problem)
    until the picks spend the budget.

    Parameters
    ----------
    grid : ndarray, dims (point, variable)
        Increasing spends per variable.
    values : ndarray, dims (point, problem, variable)

    exact : bool
        Spend exactly ``total``: scale every variable's pick above the lowest grid point by
        the one factor that does. Else the picks at the bisection's lower multiplier (they
        spend at least ``total``; SLSQP's start makes them feasible).

    Returns
    -------
    ndarray, dims (problem, variable)
    """
    cols = np.arange(grid.shape[1])

    def pick(lam):
        j = np.argmax(values - lam[None, :, None] * grid[:, None, :], axis=0)
        return grid[j, cols[None]]

    slopes = np.diff(values, axis=0) / np.maximum(np.diff(grid, axis=0), 1e-300)[:, None]
    a = np.full(values.shape[1], min(float(slopes.min()), 0.0) - 1.0)
    b = np.full(values.shape[1], max(float(slopes.max()), 0.0) + 1.0)
    for _ in range(64):
        lam = 0.5 * (a + b)
        over = pick(lam).sum(axis=1) >= total
        a, b = np.where(over, lam, a), np.where(over, b, lam)
    high, lo = pick(a), grid[0][None]  # spends at least the total
    if not exact:
        return high
    theta = (total - lo.sum()) / np.maximum((high - lo).sum(axis=1, keepdims=True), 1e-300)
    return lo + np.clip(theta, 0.0, 1.0) * (high - lo)


def search(
    problem: Problem, n_starts: int, rng: np.random.Generator, progress: bool | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The best budget shares: SLSQP from each start on at most ``COARSE`` draws (loose:
    it picks the basin), then the best polished on every draw.

    Parameters
    ----------
    n_starts : int
        The envelope start, the current split, the equal split, then random points
        (drawn from ``rng``).
    progress : bool or None
        A bar over the starts (``bayes_mmm.progress.enabled``).

    Returns
    -------
    y : ndarray, dims (variable,)
        Feasible budget shares.
    starts : list of ndarray, each dims (variable,)
        The starting budget shares.
    """
    plan, budget, cur = problem.plan, problem.budget, problem.current_variables
    n = plan.base.shape[0]
    coarse = plan if n <= COARSE else plan.subset(np.linspace(0, n - 1, COARSE).astype(int))
    envelope = envelope_start(problem, coarse) / budget
    y0 = [envelope, cur / budget, np.full(cur.size, 1.0 / cur.size)][: max(n_starts, 1)]
    y0 += [rng.dirichlet(np.ones(cur.size)) for _ in range(max(n_starts - 3, 0))]
    fun = problem.objective(coarse)
    with one_blas_thread():
        tries = iterate(y0, "optimizer starts", progress)
        best = min((problem.solve(fun, y, 1e-6) for y in tries), key=lambda t: t[1])[0]
        best = problem.solve(problem.objective(), best, 1e-9)[0]
    return best, y0


def one_blas_thread():
    """SLSQP's small dense solves run 3-4x slower with a multi-threaded BLAS on a busy
    machine (threads spin); limit BLAS to one thread when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only a speed-up
        return nullcontext()
    return threadpool_limits(1, user_api="blas")
