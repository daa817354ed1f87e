"""The structured solver: window problems solved through their separability across cells.

A plain planner's revenue under one draw is a sum over (geo, spend group) cells of each
cell's own response curve (organic media add a constant), so it is separable across the
decision variables: a (geo, spend group) cell with ``by_geo``, else a spend group spread
over geos like history (a sum of its cells). The solver uses that twice.

**Envelope step (global, for the expected revenue).** Each variable's expected revenue
curve is tabulated on ``COARSE`` draws at 0 and ``GRID_POINTS`` spends in geometric
progression up to its upper limit (the same relative resolution at every scale, fine
near the lower limit where S-shaped curves turn on), one planner pass per grid point
for every variable at once, then on a second, quadratic grid up to three times that
first answer. The budget split that maximises the sum of the curves' *upper concave
envelopes* is found with one Lagrange multiplier (``search.split_budget``): at a
multiplier ``lam`` each variable takes the grid point maximising ``R_i(x) - lam x``;
``lam`` is bisected and the picks scaled toward the lower limits by one factor to spend
the budget exactly. That split is the exact global optimum of the concave relaxation of
the tabulated problem (respecting every bound and lock), not of the exact problem:
where a curve lies below its envelope (the convex foot of an S-curve) or between grid
points, the polish moves it.

**Polish (local, exact functions).** Projected Newton ascent on the exact utility of
every draw: the utility's draw weights ``w = dU/dR`` give the gradient ``sum_s w_s
dR_s/dx`` and, with ``w`` held, the Hessian of ``sum_s w_s R_s(x)`` is diagonal
(separability) and exact (``Planner.second_order``: each saturation kind's second
derivative, in the same pass as the gradient). The step (:func:`newton_step`) moves
each variable to where its modelled marginal return equals one multiplier, bisected so
that the budget holds and clipped to the limits:

- where the curve is concave, a linear model of the marginal return, or near the lower
  limit a power of the spend (exact for a Hill curve with slope below 1, whose marginal
  return is unbounded at zero);
- where it is convex (the foot of an S-curve), a convex stretch is left whole towards
  the lower limit when its marginal return is below the multiplier (convexity makes
  every point in between worse), and at least doubled otherwise;
- a step up at most doubles a variable's spend unless it is near zero.

An Armijo backtracking line search on the exact utility accepts the step. The polish
stops when the step is below ``STEP_TOL`` of the budget or gains less than ``GAIN_TOL``:
for the expected revenue that is a KKT point of the exact problem (equal marginal
revenue across free variables, the bound ones pushing against their bound).

**Other utilities.** The polish runs with the utility itself, warm-started from the
expected-revenue plan. CVaR, a corner function of the draws, is polished through its
Rockafellar–Uryasev smoothing (:class:`SmoothCVaR`) at decreasing temperatures, and the
plan with the best exact CVaR among the start and each stage's is kept. The smoothed
CVaR's own curvature couples the variables, but only through the few draws at the
tail's edge: it is ``-Vᵀ V`` with one row of ``V`` per such draw
(:meth:`SmoothCVaR.factor`), and :func:`low_rank_step` takes the Newton step of the
separable curvature plus that low-rank part (Woodbury: a solve of the size of ``V``'s
rows), leaving the variables in a convex or near-zero regime to the diagonal step. That
is a local ascent, not a proof of optimality: the result is never worse than its start
under the exact utility.

Every step costs one or a few planner passes (linear in draws × cells) and vectorised
bisections over the variables; the only dense algebra is CVaR's, in the number of
edge draws. Several independent problems on disjoint draw sets (near-optimality: one
per draw; stability: one per subset) are solved as one :class:`Batch`, one planner pass
per step for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bayes_mmm.optimize.search import COARSE, Problem, one_blas_thread, project, split_budget
from bayes_mmm.optimize.utilities import Utility, mean_utility
from bayes_mmm.optimize.window import Planner

STEP_TOL = 1e-10  # the polish stops when no variable moves by more than this share of budget
GAIN_TOL = 1e-10  # ... or when a full step would gain less than this share of the utility
START_TOL = 1e-7  # GAIN_TOL of a polish that only starts the next one (CVaR's first stages)
MAX_STEPS = 60  # Newton steps per polish
GRID_POINTS = 32  # points per variable in each of the envelope's two grids
LOG_GROWTH = np.log(100.0)  # a power step up multiplies a small ``x - lo`` by at most 100
TEMPERATURES = (1e-2, 1e-3)  # CVaR smoothing, in units of the revenue's sd over draws


@dataclass(frozen=True)
class SmoothCVaR:
    """CVaR smoothed at ``temperature`` (revenue units): a :data:`Utility` with curvature.

    The Rockafellar–Uryasev form of ``cvar_utility(alpha)`` (the mean of the ``k =
    ceil(alpha n)`` worst draws), ``max_t t - T sum_s softplus((t - r_s) / T) / k``, with
    the kink of ``(t - r)_+`` smoothed: below the CVaR by at most ``T n log 2 / k``,
    equal to it as ``T -> 0``. Its weights are the draws' soft membership of the tail,
    ``sigmoid((t* - r_s) / T) / k``.
    """

    alpha: float
    temperature: float

    def tail(self, r: np.ndarray):
        """``t*`` and the scaled distances ``z = (t* - r) / T``, dims (sample,)."""
        k = max(1, int(np.ceil(self.alpha * r.size)))
        a, b = r.min() - 60.0 * self.temperature, r.max() + 60.0 * self.temperature
        for _ in range(100):  # t*: the soft tail holds k draws
            t = 0.5 * (a + b)
            inside = (0.5 * (1.0 + np.tanh(0.5 * (t - r) / self.temperature))).sum()
            a, b = (t, b) if inside < k else (a, t)
        t = 0.5 * (a + b)
        return t, (t - r) / self.temperature, k

    def __call__(self, r: np.ndarray):
        t, z, k = self.tail(r)
        value = t - self.temperature * np.logaddexp(0.0, z).sum() / k
        return float(value), 0.5 * (1.0 + np.tanh(0.5 * z)) / k

    def factor(self, r: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``V`` with ``Gᵀ (d²U/dr²) G = -Vᵀ V`` for the revenue gradient ``g`` (sample,
        variable), dims (edge draw, variable): a row ``sqrt(a_s) (g_s - ḡ)`` per draw at the
        tail's edge, ``a_s = s (1 - s) / (k T)`` with ``s`` the draw's soft membership and
        ``ḡ`` the ``a``-weighted mean gradient (draws with ``a_s`` below ``1e-12`` of its
        largest are left out). Few draws sit at the edge: the utility's own curvature is
        of low rank."""
        _, z, k = self.tail(r)
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        a = s * (1.0 - s) / (k * self.temperature)
        edge = a > 1e-12 * a.max()
        mean = (a[edge, None] * g[edge]).sum(axis=0) / max(a[edge].sum(), 1e-300)
        return np.sqrt(a[edge])[:, None] * (g[edge] - mean[None])

    def diagonal(self, r: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The utility's curvature along each variable, dims (variable,): the diagonal of
        ``-Vᵀ V`` (:meth:`factor`), minus the spread of the variable's marginal revenue over
        the draws at the tail's edge."""
        return -(self.factor(r, g) ** 2).sum(axis=0)


@dataclass(frozen=True, eq=False)
class Batch:
    """Independent problems with one budget and limits, each on its own draws.

    Attributes
    ----------
    plan : Planner
        Draws ordered by problem: problem ``b`` owns the draws ``starts[b]:starts[b + 1]``.
    starts : ndarray of int, dims (problem + 1,)
    """

    plan: Planner
    starts: np.ndarray

    @property
    def size(self) -> int:
        """The number of problems."""
        return len(self.starts) - 1

    @property
    def owner(self) -> np.ndarray:
        """The problem of each draw, dims (sample,)."""
        return np.repeat(np.arange(self.size), np.diff(self.starts))

    def segments(self):
        """One slice of draws per problem."""
        return [slice(a, b) for a, b in zip(self.starts[:-1], self.starts[1:])]

    def total(self, per_draw: np.ndarray) -> np.ndarray:
        """Sum over each problem's draws, dims (problem, ...) from (sample, ...)."""
        return np.add.reduceat(per_draw, self.starts[:-1], axis=0)


def batch(plan: Planner, parts: Sequence[np.ndarray | Sequence[int]]) -> Batch:
    """The problems owning the draws ``parts`` (index arrays into ``plan``'s sample dim)."""
    index = np.concatenate([np.asarray(p, dtype=int) for p in parts])
    n = plan.base.shape[0]
    same = len(index) == n and np.array_equal(index, np.arange(n))
    starts = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    return Batch(plan if same else plan.subset(index), starts)


# ---------------------------------------------------------------------- variables ↔ cells
def to_cells(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Spend per cell of decision variables ``x`` (problem, variable), dims (problem, geo,
    spend_group)."""
    if problem.by_geo:
        return x.reshape(len(x), *problem.current.shape)
    return problem.share[None] * x[:, None, :]


def pull(problem: Problem, g: np.ndarray, power: int = 1) -> np.ndarray:
    """A per-cell gradient (sample, geo, spend_group) as one over the variables; with
    ``power=2``, a per-cell curvature (the Hessian's diagonal)."""
    if problem.by_geo:
        return g.reshape(len(g), -1)
    return (g * problem.share[None] ** power).sum(axis=1)


def evaluate(problem: Problem, bt: Batch, x: np.ndarray):
    """Revenue, its gradient and its curvature per draw, each problem's draws at its own
    plan.

    Parameters
    ----------
    x : ndarray, dims (problem, variable)

    Returns
    -------
    revenue : ndarray, dims (sample,)
    gradient, curvature : ndarray, dims (sample, variable)
        The curvature is the diagonal of the revenue's Hessian in the variables: exact,
        the revenue being separable across them.
    """
    cells = to_cells(problem, x)
    spend = cells[0] if bt.size == 1 else cells[bt.owner]
    revenue, g, h = bt.plan.second_order(spend)
    return revenue, pull(problem, g), pull(problem, h, 2)


def revenue_of(problem: Problem, bt: Batch, x: np.ndarray) -> np.ndarray:
    """Revenue per draw, each problem's draws at its own plan ``x`` (problem, variable),
    dims (sample,)."""
    cells = to_cells(problem, x)
    return bt.plan.revenue(cells[0] if bt.size == 1 else cells[bt.owner])


def utility_of(bt: Batch, utility: Utility, revenue: np.ndarray):
    """``utility`` of each problem's draws: values (problem,) and weights (sample,)."""
    values, weights = np.empty(bt.size), np.empty(revenue.shape)
    for b, sl in enumerate(bt.segments()):
        values[b], weights[sl] = utility(revenue[sl])
    return values, weights


# ---------------------------------------------------------------------- envelope step
def envelope(problem: Problem, bt: Batch, points: int = GRID_POINTS) -> np.ndarray:
    """The budget split maximising the concave envelopes of each problem's expected revenue
    curves, tabulated on a grid of each variable's limits, then again with a second grid
    of as many points from the lower limit to three times the first split (plus an even
    share of the widest limits) added.

    The first grid is 0 and ``points`` spends in geometric progression from ``0.001 / n``
    to 1 of each variable's range (``n`` variables): the same relative resolution at every
    scale, so that with many cells, each holding a small share of the budget, most points
    still fall where the answer is. The second is quadratic in spend.

    Returns
    -------
    ndarray, dims (problem, variable): spend, summing to the budget within each problem.
    """
    lo, hi = problem.lower, problem.upper
    v = np.concatenate([[0.0], np.geomspace(1e-3 / len(lo), 1.0, points)])[:, None]
    grid = lo[None] + (hi - lo)[None] * v
    values = tabulate(problem, bt, grid)
    first = split_budget(grid, values, float(problem.budget))
    reach = np.minimum(hi, lo + 3.0 * (first.max(axis=0) - lo) + (hi - lo).max() / len(lo))
    u = np.linspace(0.0, 1.0, points + 1)[1:, None]
    fine = lo[None] + (reach - lo)[None] * u**2
    grid = np.concatenate([grid, fine])
    values = np.concatenate([values, tabulate(problem, bt, fine)])
    order = np.argsort(grid, axis=0, kind="stable")
    grid = np.take_along_axis(grid, order, axis=0)
    values = np.take_along_axis(values, np.broadcast_to(order[:, None], values.shape), axis=0)
    return split_budget(grid, values, float(problem.budget))


def tabulate(problem: Problem, bt: Batch, grid: np.ndarray) -> np.ndarray:
    """Each problem's expected revenue of each variable at the spends ``grid`` (point,
    variable), dims (point, problem, variable): one planner pass per point."""
    sizes = np.diff(bt.starts)
    weights = np.repeat(1.0 / sizes, sizes)
    values = np.empty((len(grid), bt.size, grid.shape[1]))
    for j, xj in enumerate(grid):
        cells = bt.plan.cell_revenue(to_cells(problem, xj[None])[0])  # (sample, geo, group)
        per_var = cells.reshape(len(cells), -1) if problem.by_geo else cells.sum(axis=1)
        values[j] = bt.total(weights[:, None] * per_var)
    return values


# ---------------------------------------------------------------------- polish
def newton_step(g, h, x, lo, hi) -> np.ndarray:
    """The step that moves each variable to where its modelled marginal return equals a
    common ``lam``, with ``sum d = 0`` and ``lo <= x + d <= hi``, each problem (row) on its
    own.

    Each variable's marginal return is modelled from its slope ``g`` and curvature ``h``
    at ``z = x - lo`` two ways: linearly (the Newton step of ``g d + h d² / 2``) and as a
    power of the spend, ``g (z' / z) ** p`` with ``p = h z / g`` (exact for a Hill curve
    with slope below 1 near zero, where marginal returns grow without bound and linear
    steps creep up by a factor of about 2 per step). A step down takes the linear model's
    point unless the power model stops sooner (it never crosses the limit); a step up takes
    the linear model's point, or the power model's when that is further. A step up at
    most doubles ``z`` (plus ``0.001 span / n``), the power model's at most multiplies a
    ``z`` below that by 100. Where the curve is convex, a variable whose slope is below
    ``lam`` goes to its lower limit (every point of a convex stretch in between is worse)
    and one whose slope is above at least doubles ``z``. The multiplier is bisected, and
    the steps at its two ends mixed to spend the budget exactly.

    Parameters
    ----------
    g, h, x : ndarray, dims (problem, variable)
        Gradient, diagonal curvature and the current plan. A variable where the curve is
        not concave (``h >= 0``: the foot of an S-curve) gets the curvature ``|g| / (|x| +
        0.001 span / n)`` instead (``span`` the widest limits, ``n`` the number of variables): a
        step of about its own size.
    lo, hi : ndarray, dims (variable,)
    """
    span = max(float((hi - lo).max()), 1e-300)
    c = concave_part(g, h, x, lo, hi)
    dlo, dhi = lo[None] - x, hi[None] - x
    z = -dlo
    power = (g > 0) & (z > 1e-12 * span) & (h * z < -1e-6 * g)  # p = h z / g below -1e-6
    convex, reach = h >= 0, 1e-3 * span / x.shape[1]
    inv_p = np.where(power, g / np.where(power, h * z, -1.0), -1.0)  # 1 / p, negative
    log_g = np.log(np.where(power, g, 1.0))
    growth = np.where(z < reach, LOG_GROWTH, np.log(2.0))  # far from zero: at most double

    def step(lam):
        linear = np.minimum((g - lam[:, None]) / c, z + reach)  # up: at most double
        log_ratio = np.log(np.maximum(lam[:, None], 1e-300)) - log_g
        scaled = z * (np.exp(np.minimum(inv_p * log_ratio, growth)) - 1.0)
        d = np.where(power, np.maximum(linear, scaled), linear)
        down = g < lam[:, None]
        d = np.where(convex & down, dlo, d)  # down a convex stretch: all the way
        d = np.where(convex & ~down, np.maximum(d, z + reach), d)  # up one: at least double
        return np.clip(d, dlo, dhi)

    a, b = (g - c * dhi).min(axis=1), (g - c * dlo).max(axis=1)
    for _ in range(100):
        lam = 0.5 * (a + b)
        up = step(lam).sum(axis=1) > 0
        a, b = np.where(up, lam, a), np.where(up, b, lam)
    da, db = step(a), step(b)  # sums >= 0 and <= 0: mix them to spend exactly
    sa, sb = da.sum(axis=1, keepdims=True), db.sum(axis=1, keepdims=True)
    theta = np.where(sa > sb, -sb / np.where(sa > sb, sa - sb, 1.0), 0.0)
    return db + theta * (da - db)


def concave_part(g, h, x, lo, hi) -> np.ndarray:
    """``-h`` where the curve is concave, else ``|g| / (|x| + 0.001 span / n)`` (``span``
    the widest limits, ``n`` the number of variables): a step of about the variable's own
    size; dims of ``g``."""
    span = max(float((hi - lo).max()), 1e-300)
    floor = (np.abs(g) + 1e-300) / (np.abs(x) + 1e-3 * span / x.shape[-1])
    return np.where(h < 0, -h, floor)


def low_rank_step(g, c, v, x, lo, hi, d0, total) -> np.ndarray:
    """The projected Newton step of a utility whose curvature is a separable part plus a
    low-rank one, ``-diag(c) - Vᵀ V``, for one problem.

    Variables at a limit that the diagonal step ``d0`` keeps there stay, and those where
    the separable part is not concave (``c`` is NaN) take ``d0``; the others take the
    Newton step of ``g d - d (diag(c) + Vᵀ V) d / 2`` given those moves, with ``sum d =
    0`` (Woodbury: one solve of the size of ``V``'s rows), and ``x + d`` is projected
    back onto the budget and limits.

    Parameters
    ----------
    g, c, x, d0 : ndarray, dims (variable,)
        Gradient, separable curvature (positive, or NaN where not concave), plan and
        diagonal step.
    v : ndarray, dims (edge draw, variable)
    lo, hi : ndarray, dims (variable,)
    total : float

    Returns
    -------
    ndarray, dims (variable,): the step to the projected point.
    """
    tol = 1e-12 * max(float((hi - lo).max()), 1e-300)
    pinned = ((x - lo <= tol) & (d0 <= 0)) | ((hi - x <= tol) & (d0 >= 0))
    fixed = pinned | np.isnan(c) | (np.abs(d0) >= 0.5 * (x - lo))
    free = ~fixed
    if not free.any():
        return d0
    d = np.where(fixed & ~pinned, d0, 0.0)
    ci, vf = 1.0 / c[free], v[:, free]
    k = np.eye(len(vf)) + (vf * ci) @ vf.T
    shifted = g[free] - vf.T @ (v[:, fixed] @ d[fixed])  # the fixed moves' pull on the slopes
    rhs = np.stack([ci * shifted, ci], axis=1)  # C⁻¹ g', C⁻¹ 1
    m = rhs - ci[:, None] * (vf.T @ np.linalg.solve(k, vf @ rhs))
    lam = (m[:, 0].sum() + d[fixed].sum()) / m[:, 1].sum()
    z = (x - lo)[free]
    d[free] = np.clip(m[:, 0] - lam * m[:, 1], -0.5 * z, z + 1e-3 * (hi - lo).max() / len(x))
    return project(x + d, lo, hi, total) - x


def coupled_step(problem: Problem, bt: Batch, utility, state, g, x, d0) -> np.ndarray:
    """Per problem, :func:`low_rank_step` with the utility's :meth:`SmoothCVaR.factor`
    where it ascends, else the diagonal step ``d0``; dims (problem, variable)."""
    _, revenue, weights, grad, hess = state
    lo, hi, total = problem.lower, problem.upper, float(problem.budget)
    h = bt.total(weights[:, None] * hess)
    c = np.where(h < 0, -h, np.nan)
    out = d0.copy()
    for b, sl in enumerate(bt.segments()):
        v = utility.factor(revenue[sl], grad[sl])
        d = low_rank_step(g[b], c[b], v, x[b], lo, hi, d0[b], total)
        if g[b] @ d > 0:
            out[b] = d
    return out


def curvature(bt: Batch, utility, state) -> np.ndarray:
    """Diagonal of the utility's Hessian in the variables, dims (problem, variable): that
    of ``sum_s w_s R_s(x)`` at the utility's weights ``w`` (exact: the revenue is
    separable) plus, for a utility with a ``diagonal`` method (:class:`SmoothCVaR`), its
    own curvature in the revenue."""
    _, revenue, weights, grad, hess = state
    h = bt.total(weights[:, None] * hess)
    if hasattr(utility, "diagonal"):
        h = h + np.stack([utility.diagonal(revenue[sl], grad[sl]) for sl in bt.segments()])
    return h


def line_search(problem, bt, utility, x, state, d, slope):
    """Armijo backtracking along ``d`` for each problem whose ``slope`` ascends; updates
    ``x`` and ``state`` (value, revenue, weights, gradient, curvature) in place.

    Returns
    -------
    ndarray, dims (problem,): the step length taken, 0 where none ascended.
    """
    value, revenue, weights, grad, hess = state
    t, todo = np.ones(bt.size), slope > 0
    moved = np.zeros(bt.size, dtype=bool)
    for _ in range(30):
        if not todo.any():
            break
        xt = np.where(todo[:, None], x + t[:, None] * d, x)
        rt, gt, ht = evaluate(problem, bt, xt)
        vt, wt = utility_of(bt, utility, rt)
        ok = todo & (vt >= value + 1e-4 * t * slope) & (vt > value)
        rows = ok[bt.owner]
        x[ok], value[ok] = xt[ok], vt[ok]
        for old, new in ((revenue, rt), (weights, wt), (grad, gt), (hess, ht)):
            old[rows] = new[rows]
        moved |= ok
        todo &= ~ok
        t = np.where(todo, 0.5 * t, t)
    return np.where(moved, t, 0.0)


def polish(
    problem: Problem, bt: Batch, utility: Utility, x: np.ndarray, gain_tol: float = GAIN_TOL
) -> np.ndarray:
    """Projected Newton ascent of ``utility`` from ``x`` (problem, variable) within the
    budget and limits (:func:`newton_step`; with a :meth:`SmoothCVaR.factor`,
    :func:`coupled_step`); returns the final plans, each spending the budget."""
    lo, hi, total = problem.lower, problem.upper, float(problem.budget)
    x = np.array([project(row, lo, hi, total) for row in x])
    revenue, grad, hess = evaluate(problem, bt, x)
    value, weights = utility_of(bt, utility, revenue)
    state = (value, revenue, weights, grad, hess)
    active = np.ones(bt.size, dtype=bool)
    for _ in range(MAX_STEPS):
        g = bt.total(weights[:, None] * grad)
        d = newton_step(g, curvature(bt, utility, state), x, lo, hi)
        if hasattr(utility, "factor"):
            d = coupled_step(problem, bt, utility, state, g, x, d)
        d[~active] = 0.0
        slope = (g * d).sum(axis=1)
        active &= (np.abs(d).max(axis=1) > STEP_TOL * total) & (slope > gain_tol * np.abs(value))
        if not active.any():
            break
        t = line_search(problem, bt, utility, x, state, d, np.where(active, slope, 0.0))
        active &= t > 0
        if not active.any():
            break
    return np.array([project(row, lo, hi, total) for row in x])


# ---------------------------------------------------------------------- entry points
def solve(problem: Problem, bt: Batch, kind: str, alpha: float, x0=None) -> np.ndarray:
    """The plan of each problem in ``bt``: the envelope split (unless ``x0`` is given)
    polished on the expected revenue, then, unless ``kind`` ranks plans like the
    expected revenue, on the problem's utility (the first polish then only to
    ``START_TOL``: it is a start).

    Parameters
    ----------
    kind : {"mean", "profit", "cvar", "other"}
    x0 : ndarray, dims (problem, variable), optional
        Start instead of the envelope split.

    Returns
    -------
    ndarray, dims (problem, variable): spend per decision variable.
    """
    with one_blas_thread():  # small dense solves: a second BLAS thread only spins
        x = envelope(problem, bt) if x0 is None else np.array(x0, dtype=float)
        mean_only = kind in ("mean", "profit")
        x = polish(problem, bt, mean_utility(), x, GAIN_TOL if mean_only else START_TOL)
        if mean_only:
            return x
        if kind == "cvar":
            return smoothed(problem, bt, alpha, x)
        return polish(problem, bt, problem.utility, x)


def smoothed(problem: Problem, bt: Batch, alpha: float, x: np.ndarray) -> np.ndarray:
    """CVaR polished through its smoothing at decreasing temperatures (each a share of the
    revenue's spread over draws at ``x``; every stage but the last only starts the next,
    to ``START_TOL``); per problem, the plan with the best exact CVaR among ``x`` and each
    stage's."""
    revenue = revenue_of(problem, bt, x)
    spread = max(float(revenue.std()), 1e-12 * max(float(np.abs(revenue).max()), 1.0))
    best, best_value = x, utility_of(bt, problem.utility, revenue)[0]
    for i, temperature in enumerate(TEMPERATURES):
        tol = GAIN_TOL if i == len(TEMPERATURES) - 1 else START_TOL
        x = polish(problem, bt, SmoothCVaR(alpha, temperature * spread), x, tol)
        value = utility_of(bt, problem.utility, revenue_of(problem, bt, x))[0]
        better = value > best_value
        best, best_value = np.where(better[:, None], x, best), np.maximum(value, best_value)
    return best


def structured_search(problem: Problem, kind: str, alpha: float):
    """The best budget shares of ``problem``: the envelope split on at most ``COARSE``
    draws, polished on every draw (:func:`solve`).

    Returns
    -------
    y : ndarray, dims (variable,)
        Feasible budget shares.
    starts : list of ndarray, each dims (variable,)
        The envelope split, as budget shares.
    """
    plan, budget = problem.plan, float(problem.budget)
    n = plan.base.shape[0]
    coarse = np.arange(n) if n <= COARSE else np.linspace(0, n - 1, COARSE).astype(int)
    start = envelope(problem, batch(plan, [coarse]))
    x = solve(problem, batch(plan, [np.arange(n)]), kind, alpha, x0=start)[0]
    return x / budget, [start[0] / budget]
