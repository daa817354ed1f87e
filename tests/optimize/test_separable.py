"""The structured solver (``optimize.separable``) against SLSQP and brute force, on the
``tiny_fit`` posterior and a simulated panel with a spend group (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import true_draws

import bayes_mmm as bm
from bayes_mmm import optimize as opt


@pytest.mark.parametrize("objective", ["mean", "cvar", "mean_sd"])
@pytest.mark.parametrize("by_geo", [False, True])
def test_structured_matches_slsqp(plan13, draws, objective, by_geo):
    """Same problem, both solvers: the structured plan's utility is SLSQP's or better (to
    1e-6 relative; the tiny problems leave SLSQP no room to miss)."""
    budget = plan13.current().sum()
    constraints = opt.Constraints(by_geo=by_geo)
    runs = {
        s: opt.allocate(plan13, budget, draws[1], constraints, objective=objective, solver=s)
        for s in ("structured", "slsqp")
    }
    fast, ref = runs["structured"].objective, runs["slsqp"].objective
    assert fast >= ref - 1e-6 * abs(ref)
    assert abs(fast - ref) <= 1e-4 * abs(ref)
    assert runs["structured"].spend.to_numpy().sum() == pytest.approx(budget, rel=1e-12)


@pytest.mark.parametrize("objective", ["mean", "cvar"])
def test_two_cells_against_a_grid(plan13, draws, objective):
    """Every cell but two locked: the split of the rest between the two free cells reaches
    the brute-force maximum over a fine grid."""
    budget = plan13.current().sum()
    cur = plan13.current(budget)
    geos, labels = plan13.data.geos, plan13.labels
    free = [(0, 0), (2, 1)]  # (geo, spend group) positions
    lock = [(geos[g], labels[k]) for g in range(len(geos)) for k in range(len(labels))]
    lock = [key for key in lock if (geos.index(key[0]), labels.index(key[1])) not in free]
    plan = opt.allocate(
        plan13,
        budget,
        draws[1],
        opt.Constraints(lock=lock, by_geo=True),
        objective=objective,
        solver="structured",
    )
    utility = opt.cvar_utility(0.1) if objective == "cvar" else opt.mean_utility()
    pool = sum(cur[c] for c in free)
    best = -np.inf
    for a in np.linspace(0.0, pool, 801):
        spend = cur.copy()
        spend[free[0]], spend[free[1]] = a, pool - a
        best = max(best, utility(plan13.revenue(spend))[0])
    assert plan.objective >= best - 1e-6 * abs(best)
    assert plan.objective <= best + 1e-4 * abs(best)  # the grid is within its step of it


def test_spend_groups_scale_their_channels_together(make_panel):
    """A spend column paying two channels is one variable: the structured plan keeps its
    bounds and the budget and matches SLSQP."""
    groups = {"video": ["tv", "social"], "search": ["search"]}
    spend = {m: g for g, members in groups.items() for m in members}
    data, truth, _ = make_panel(
        seed=1,
        spend_groups=groups,
        media=["tv", "search", "social"],
        from_frame={"spend": spend},
    )
    rng = np.random.default_rng(0)
    one = true_draws(data, truth)
    jitter = {k: v * np.exp(rng.normal(0.0, 0.1, (30, *v.shape[1:]))) for k, v in one.items()}
    plan = opt.planner(data, truth.spec, jitter, weeks=13)
    budget = plan.current().sum()
    for by_geo in (False, True):
        c = opt.Constraints({"video": (0.2, 0.9)}, relative=True, by_geo=by_geo)
        fast = opt.allocate(plan, budget, (1, 30), c, solver="structured")
        ref = opt.allocate(plan, budget, (1, 30), c, solver="slsqp")
        assert fast.objective >= ref.objective - 1e-6 * abs(ref.objective)
        x = fast.spend.to_numpy().reshape(-1) if by_geo else fast.spend.to_numpy()
        lo, hi = c.limits(plan, budget)
        assert abs(x.sum() - budget) <= 1e-9 * budget
        assert np.all(x >= lo - 1e-9 * budget) and np.all(x <= hi + 1e-9 * budget)


def test_solver_choice(plan13, draws):
    """``solver`` names a solver; ``"auto"`` is the structured one on a direct planner."""
    budget = plan13.current().sum()
    with pytest.raises(bm.SpecError, match="solver"):
        opt.allocate(plan13, budget, draws[1], solver="newton")
    fast = opt.allocate(plan13, budget, draws[1])
    ref = opt.allocate(plan13, budget, draws[1], solver="structured")
    np.testing.assert_array_equal(fast.spend, ref.spend)


def test_low_rank_step_is_the_dense_newton_step():
    """Away from the limits, ``low_rank_step`` (Woodbury) is the Newton step of the dense
    curvature ``diag(c) + Vᵀ V`` under ``sum d = 0``: the KKT system solved directly."""
    from bayes_mmm.optimize import separable

    rng = np.random.default_rng(0)
    n, m = 12, 4
    g, c = rng.normal(1.0, 0.1, n), rng.uniform(1.0, 2.0, n)
    v = rng.normal(0.0, 0.5, (m, n))
    x, lo, hi = np.full(n, 10.0), np.zeros(n), np.full(n, 100.0)
    d0 = np.full(n, 1e-3)  # the diagonal step: small, no variable pinned or held
    d = separable.low_rank_step(g, c, v, x, lo, hi, d0, x.sum())
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = np.diag(c) + v.T @ v
    kkt[:n, n] = kkt[n, :n] = 1.0
    dense = np.linalg.solve(kkt, np.concatenate([g, [0.0]]))[:n]
    np.testing.assert_allclose(d, dense, rtol=1e-10, atol=1e-12)
    assert abs(d.sum()) < 1e-12


def test_smooth_cvar_factor_is_its_curvature():
    """``SmoothCVaR``: ``-Vᵀ V`` is the Hessian of the smoothed CVaR of linear revenues
    ``r = G x`` (a central difference of its gradient ``Gᵀ w``)."""
    from bayes_mmm.optimize import separable

    rng = np.random.default_rng(1)
    gmat = rng.normal(1.0, 0.3, (400, 5))  # d r_s / d x_i
    x = rng.uniform(1.0, 2.0, 5)
    u = separable.SmoothCVaR(0.1, 0.05)
    v = u.factor(gmat @ x, gmat)
    for i in range(5):
        e = np.zeros(5)
        e[i] = 1e-5
        up, down = u(gmat @ (x + e))[1] @ gmat, u(gmat @ (x - e))[1] @ gmat
        np.testing.assert_allclose((up - down) / 2e-5, -(v.T @ v)[i], rtol=1e-4, atol=1e-6)
