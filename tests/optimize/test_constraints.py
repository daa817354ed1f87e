"""Bounds and locks (``optimize.Constraints``): validation, limits, and plans that keep them."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import optimize as opt

SOLVED = 90  # of the 100 random sets (seeded), at least this many are feasible and checked


@pytest.mark.parametrize("solver", ["structured", "slsqp"])
def test_constraints_hold_over_random_sets(tiny_fit, draws, solver):
    """Budget exact to 1e-9 and every bound kept, for 100 random constraint sets, by each
    solver."""
    data = tiny_fit.data
    plan = opt.planner(data, tiny_fit.spec, draws[0], weeks=13).subset(np.arange(0, 200, 10))
    rng = np.random.default_rng(1)
    cur = plan.current()
    labels = plan.labels
    solved = 0
    for _ in range(100):
        by_geo = bool(rng.random() < 0.5)
        budget = cur.sum() * rng.uniform(0.5, 1.5)
        relative = bool(rng.random() < 0.5)
        bounds, lock = {}, []
        for k, label in enumerate(labels):
            key = (data.geos[rng.integers(len(data.geos))], label) if by_geo else label
            if rng.random() < 0.5:
                ref = 1.0 if relative else (cur[:, k].mean() if by_geo else cur[:, k].sum())
                lo = rng.uniform(0.0, 0.8) * ref
                bounds[key] = (lo, lo + rng.uniform(0.1, 1.5) * ref)
            elif rng.random() < 0.2:
                lock.append(key)
        constraints = opt.Constraints(bounds, relative=relative, lock=lock, by_geo=by_geo)
        try:
            res = opt.allocate(plan, budget, (1, 20), constraints, n_starts=2, solver=solver)
        except bm.SpecError as err:  # an infeasible draw must say so, naming the fix
            assert "budget" in str(err)
            continue
        solved += 1
        x = res.spend.to_numpy().reshape(-1) if by_geo else res.spend.to_numpy()
        lo_b, hi_b = constraints.limits(plan, budget)
        assert abs(x.sum() - budget) <= 1e-9 * budget
        assert np.all(x >= lo_b - 1e-9 * budget) and np.all(x <= hi_b + 1e-9 * budget)
    assert solved >= SOLVED


def test_limits_of_bounds_and_locks(tiny_fit, plan13):
    """Absolute and relative bounds, locks and (geo, label) keys become per-variable limits;
    a key may name the spend group, its spend column or its channel."""
    budget = 2 * plan13.current().sum()
    cur = plan13.current(budget)
    geo = tiny_fit.data.geos[1]
    lo, hi = opt.Constraints({"tv": (10.0, 20.0)}, lock=["social"]).limits(plan13, budget)
    np.testing.assert_allclose(lo, [10.0, 0.0, cur[:, 2].sum()])
    np.testing.assert_allclose(hi, [20.0, budget, cur[:, 2].sum()])
    lo, hi = opt.Constraints({"search": (0.5, 2.0)}, relative=True).limits(plan13, budget)
    np.testing.assert_allclose([lo[1], hi[1]], [0.5 * cur[:, 1].sum(), 2.0 * cur[:, 1].sum()])
    cells = opt.Constraints({(geo, "tv"): (None, 5.0)}, lock=["search"], by_geo=True)
    lo, hi = cells.limits(plan13, budget)
    assert lo.shape == hi.shape == (cur.size,)
    np.testing.assert_allclose(hi.reshape(cur.shape)[1, 0], 5.0)
    np.testing.assert_allclose(lo.reshape(cur.shape)[:, 1], cur[:, 1])
    np.testing.assert_allclose(hi.reshape(cur.shape)[:, 1], cur[:, 1])
    assert (hi.reshape(cur.shape)[[0, 2], 0] == budget).all()


def test_constraints_validate_their_input():
    with pytest.raises(bm.SpecError, match="pair"):
        opt.Constraints({"tv": 10.0})
    with pytest.raises(bm.SpecError, match="lower 20 > upper 10"):
        opt.Constraints({"tv": (20, 10)})
    with pytest.raises(bm.SpecError, match="by_geo=True"):
        opt.Constraints({("g1", "tv"): (0, 10)})
    with pytest.raises(bm.SpecError, match="by_geo=True"):
        opt.Constraints(lock=[("g1", "tv")])
    c = opt.Constraints({"tv": [1, None]}, lock=["search"])
    assert c.bounds == {"tv": [1, None]} and c.lock == ("search",)
    assert opt.Constraints() == opt.Constraints(None, lock=None)


def test_infeasible_bounds_name_the_fix(tiny_fit, plan13):
    with pytest.raises(bm.SpecError, match="lower bounds"):
        tiny_fit.optimize(
            100.0, bounds={"tv": (80, None), "search": (50, None)}, allow_unconverged=True
        )
    with pytest.raises(bm.SpecError, match="upper bounds"):
        tiny_fit.optimize(
            100.0, bounds={k: (0, 10) for k in ("tv", "search", "social")}, allow_unconverged=True
        )
    with pytest.raises(bm.SpecError, match="Unknown"):
        tiny_fit.optimize(100.0, bounds={"radio": (0, 10)}, allow_unconverged=True)
    with pytest.raises(bm.SpecError, match="Unknown geo"):
        opt.Constraints({("atlantis", "tv"): (0, 1)}, by_geo=True).limits(plan13, 100.0)
