"""The search (``optimize.search``): the envelope start and the feasible projection."""

from __future__ import annotations

import numpy as np
from oracle import simulated, true_planner

from bayes_mmm import optimize as opt
from bayes_mmm.optimize.search import project


def test_envelope_start_finds_the_global_basin():
    """S-shaped true curves make the geo × channel problem multimodal (every zero cell is a
    local optimum): one start at the envelope split reaches the best of 12 starts, and so
    does the structured solver."""
    data, truth = simulated(10, 156, 5, seed=1)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum()
    by_geo = opt.Constraints(by_geo=True)
    one = opt.allocate(oracle, budget, (1, 1), by_geo, n_starts=1, solver="slsqp")
    many = opt.allocate(oracle, budget, (1, 1), by_geo, n_starts=12, solver="slsqp")
    fast = opt.allocate(oracle, budget, (1, 1), by_geo, solver="structured")
    gain_one = one.objective - one.objective_current
    gain_many = many.objective - many.objective_current
    assert gain_one >= 0.99 * gain_many
    assert fast.objective - fast.objective_current >= (1 - 1e-9) * gain_many


def test_projection_spends_the_total_within_bounds():
    rng = np.random.default_rng(0)
    lo, hi = np.array([0.0, 1.0, 0.0, 2.0]), np.array([5.0, 1.0, 3.0, 9.0])
    for _ in range(20):
        total = rng.uniform(lo.sum(), hi.sum())
        x = project(rng.normal(0, 5, 4), lo, hi, total)
        assert abs(x.sum() - total) <= 1e-12 * total
        assert np.all(x >= lo) and np.all(x <= hi)
    inside = np.array([1.0, 1.0, 1.5, 4.5])
    np.testing.assert_allclose(project(inside, lo, hi, inside.sum()), inside, rtol=1e-12)
