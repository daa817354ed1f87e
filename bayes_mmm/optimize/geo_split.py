"""Solvers for by-geo weekly plans: spend per (period, geo, spend group) cell.

A by-geo weekly plan's limits (the budget, caps, floors, dark weeks, ``max_change``) bind
only each spend group's weekly total over geos. Both solvers here use that structure
instead of handing every cell and every limit to SLSQP, whose dense quadratic subproblems
cost about a second per iteration at 650 cells (13 weeks × 10 geos × 5 groups).

- :func:`solve_shares` (the budget and dark weeks alone): the plan is the softmax of free
  logits over the open cells, so the budget holds exactly and L-BFGS-B runs unconstrained.
- :func:`solve_bounded` (caps, floors or ``max_change`` too): L-BFGS-B on the cells with
  their box bounds (0 to the week's cap, 0 in dark weeks) taken as they are, and the
  constraints on weekly totals (the budget, floors and caps of a total over geos,
  ``max_change`` between consecutive weeks) carried by an augmented Lagrangian. The totals
  are then projected onto the limits exactly (bisection on the budget's multiplier, or a
  quadratic program on ``weeks × groups`` variables with ``max_change``) and each week's
  geo split is kept, so the plan meets every limit to rounding.

Each iteration costs one revenue evaluation with its gradient (``model.revenue(x,
grad=True)``, ``x`` dims (period, geo, spend_group)), and no matrix over all cells is
formed. L-BFGS-B runs with one BLAS thread (``search.one_blas_thread``): its many tiny
vector operations cost ten times more CPU when BLAS threads spin between them.

On the tiny fit's 3 × 3 cells with binding caps, floors and ``max_change`` the bounded
solver reaches the optimum of SLSQP on every cell to 1e-10 of the revenue in a tenth to a
third of its CPU time (``tests/optimize/test_flighting.py``); ``benchmarks/FLIGHTING.md``
has the 650-cell figure. On the budget alone the softmax solver is the faster of the two
(about three times on the tiny fit), since a softmax needs no multiplier; with box
constraints it is not used, since logits reach a bound only in the limit and L-BFGS-B then
needs thousands of iterations.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from bayes_mmm.optimize.search import one_blas_thread

_LBFGS = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-10}


def solve_shares(model, budget: float, open_: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """A by-geo plan whose only limits are the budget and dark weeks.

    Parameters
    ----------
    model : WeekModel
        ``model.revenue(x, grad=True)`` gives revenue per draw and its mean gradient.
    budget : float
    open_ : ndarray of bool, dims (period, spend_group)
        False in dark weeks.
    y0 : ndarray, dims (period, geo, spend_group)
        The start; it mixes with an even spread (1e-3 of the budget) so that no cell
        starts at zero, and it is returned when the solution does not beat it.

    Returns
    -------
    ndarray, dims (period, geo, spend_group)
    """
    shape = y0.shape
    mask = np.broadcast_to(open_[:, None, :], shape).ravel()
    share = 0.999 * y0.ravel()[mask] / budget + 1e-3 / mask.sum()
    norm = _norm(model, y0)

    def cells(theta):
        w = np.exp(theta - theta.max())
        x = np.zeros(mask.size)
        x[mask] = w / w.sum()
        return x

    def fun(theta):
        x = cells(theta)
        rev, g = model.revenue(x.reshape(shape) * budget, grad=True)
        w, gm = x[mask], g.ravel()[mask] * budget
        return -rev.mean() / norm, -w * (gm - w @ gm) / norm

    with one_blas_thread():
        res = minimize(fun, np.log(share), jac=True, method="L-BFGS-B", options=_LBFGS)
    x = cells(res.x).reshape(shape) * budget
    return x if model.revenue(x).mean() > model.revenue(y0).mean() else y0


def solve_bounded(
    model,
    budget: float,
    lo: np.ndarray,
    hi: np.ndarray,
    max_change: float | None,
    y0: np.ndarray,
) -> np.ndarray:
    """A by-geo plan under caps, floors, dark weeks and ``max_change`` on weekly totals.

    Parameters
    ----------
    model : WeekModel
        ``model.revenue(x, grad=True)`` gives revenue per draw and its mean gradient.
    budget : float
        Met exactly.
    lo, hi : ndarray, dims (period, spend_group)
        Floors and caps of each group's weekly total over geos (``hi`` 0 in dark weeks).
    max_change : float or None
        The largest change of a group's weekly total between consecutive weeks.
    y0 : ndarray, dims (period, geo, spend_group)
        The start.

    Returns
    -------
    ndarray, dims (period, geo, spend_group)
        Its weekly totals meet the limits to rounding; the caller keeps it only when it
        beats its start.
    """
    weeks, n_geos, groups = y0.shape
    scale = budget / y0.size  # cells are solved in units of an even split's cell
    a, b = _total_limits(budget, lo, hi, max_change)
    norm = _norm(model, y0)

    def totals(y):
        """Each (period, group)'s total over geos as a share of the budget, flattened."""
        return y.reshape(y0.shape).sum(axis=1).ravel() * (scale / budget)

    ub = np.broadcast_to(hi[:, None, :], y0.shape).ravel() / scale
    bounds = list(zip(np.zeros(ub.size), ub))
    y = np.clip(y0.ravel() / scale, 0.0, ub)
    lam, mu, rho, last = 0.0, np.zeros(len(b)), 10.0, np.inf
    for _ in range(40):  # Powell–Hestenes–Rockafellar: sum(t) = 1 and a @ t <= b

        def merit(y, lam=lam, mu=mu, rho=rho):
            rev, g = model.revenue(y.reshape(y0.shape) * scale, grad=True)
            t = totals(y)
            h, act = t.sum() - 1.0, np.maximum(0.0, mu + rho * (a @ t - b))
            f = -rev.mean() / norm + lam * h + 0.5 * rho * h**2 + (act @ act - mu @ mu) / (2 * rho)
            g_t = (lam + rho * h + a.T @ act).reshape(weeks, 1, groups) * (scale / budget)
            return f, (-g * (scale / norm) + g_t).ravel()

        with one_blas_thread():
            y = minimize(merit, y, jac=True, method="L-BFGS-B", bounds=bounds, options=_LBFGS).x
        t = totals(y)
        h, c = t.sum() - 1.0, a @ t - b
        violation = max(abs(h), float(c.max(initial=0.0)))
        lam, mu = lam + rho * h, np.maximum(0.0, mu + rho * c)
        if violation < 1e-11:
            break
        if violation > 0.25 * last:
            rho *= 10.0
        last = violation
    x = y.reshape(y0.shape) * scale
    tot = x.sum(axis=1)
    diff = _week_diff(weeks, groups) if max_change is not None and weeks > 1 else None
    step = 0.0 if diff is None or max_change is None else max_change / budget
    t = _project((tot / budget).ravel(), (lo / budget).ravel(), (hi / budget).ravel(), diff, step)
    split = np.where(tot[:, None] > 0, x / np.where(tot > 0, tot, 1.0)[:, None], 1 / n_geos)
    return t.reshape(weeks, 1, groups) * budget * split


def _total_limits(budget, lo, hi, max_change) -> tuple[np.ndarray, np.ndarray]:
    """The limits on weekly totals ``t`` (shares of the budget, dims (period ×
    spend_group,)) that cell bounds do not already enforce, as ``a @ t <= b``: floors,
    caps below the budget (a cell's own bound is the cap, but geos share it), and
    ``max_change`` both ways."""
    weeks, groups = lo.shape
    eye = np.eye(lo.size)
    floor, cap = (lo > 0).ravel(), ((hi > 0) & (hi < budget)).ravel()
    rows = [-eye[floor], eye[cap]]
    rhs = [-lo.ravel()[floor] / budget, hi.ravel()[cap] / budget]
    if max_change is not None and weeks > 1:
        diff = _week_diff(weeks, groups)
        rows += [diff, -diff]
        rhs += [np.full(len(diff), max_change / budget)] * 2
    return np.vstack(rows), np.concatenate(rhs)


def _project(t, lo, hi, diff, step) -> np.ndarray:
    """The point nearest ``t`` (dims (period × spend_group,)) with ``sum = 1``, ``lo <= t
    <= hi`` and, with ``diff``, ``|diff @ t| <= step``: by bisection on the budget's
    multiplier without ``diff``, else a small SLSQP quadratic program."""
    if diff is None:
        a, b = (lo - t).min() - 1.0, (hi - t).max() + 1.0
        for _ in range(200):  # sum(clip(t + nu, lo, hi)) rises with nu
            nu = 0.5 * (a + b)
            a, b = (nu, b) if np.clip(t + nu, lo, hi).sum() < 1.0 else (a, nu)
        return np.clip(t + 0.5 * (a + b), lo, hi)
    cons = [
        {"type": "eq", "fun": lambda u: u.sum() - 1.0, "jac": lambda u: np.ones_like(u)},
        {"type": "ineq", "fun": lambda u: step - diff @ u, "jac": lambda u: -diff},
        {"type": "ineq", "fun": lambda u: step + diff @ u, "jac": lambda u: diff},
    ]
    res = minimize(
        lambda u: (0.5 * (u - t) @ (u - t), u - t),
        np.clip(t, lo, hi),
        jac=True,
        method="SLSQP",
        bounds=list(zip(lo, hi)),
        constraints=cons,
        options={"maxiter": 500, "ftol": 1e-16},
    )
    return np.clip(res.x, lo, hi)


def _week_diff(weeks: int, groups: int) -> np.ndarray:
    """The matrix taking (period, spend_group) totals, flattened, to week w+1 minus week
    w, dims ((period - 1) × spend_group, period × spend_group)."""
    n = weeks * groups
    return np.eye(n)[groups:] - np.eye(n)[:-groups]


def _norm(model, y0: np.ndarray) -> float:
    return max(abs(float(model.revenue(y0).mean())), 1e-12)
