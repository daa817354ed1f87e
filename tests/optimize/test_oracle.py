"""The regret yardstick (``bayes_mmm.oracle``): the simulator's truth as a one-draw
planner, and plans scored under it. The regret test fits a small simulated panel and is
marked slow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from oracle import (
    plan_cells,
    regret_share,
    self_assessed_share,
    simulated,
    true_optimum,
    true_planner,
)

import bayes_mmm as bm
from bayes_mmm import optimize as opt


def test_oracle_is_the_simulator():
    """The one-draw true planner reproduces the simulator's own response function (the
    regret test's yardstick): window + tail revenue of a plan right after the data."""
    from bayes_mmm.response import media_response
    from bayes_mmm.transforms import lag_stack

    data, truth = simulated(3, 60, 3, seed=2)
    oracle = true_planner(data, truth)
    lag = truth.spec.l_max - 1
    one = {k: np.asarray(v)[None] for k, v in truth.params.items()}
    for spend in (oracle.current(), oracle.current() * [[0.2, 1.9, 1.0]]):
        media = np.concatenate([data.media, oracle.media(spend)])
        stack = lag_stack(media / data.scaling.media[None], truth.spec.l_max, tail=lag)
        ref = media_response(stack, one, truth.spec)[0] * truth.params["geo_size"][None, :, None]
        assert oracle.revenue(spend)[0] == pytest.approx(ref[-(13 + lag) :].sum(), rel=1e-12)
    # the same function on the observed media is the simulator's true contributions
    stack = lag_stack(data.media / data.scaling.media[None], truth.spec.l_max)
    ref = media_response(stack, one, truth.spec)[0] * truth.params["geo_size"][None, :, None]
    np.testing.assert_allclose(ref, truth.contributions.values, rtol=1e-12)


SEED2_MISS = (
    "Measured 0.883 at 4 × 1000 draws, 0.882 at 4 × 1500 (channel plan 0.908). Display is "
    "mis-estimated (ROI 0.97 vs true 1.14, outside its 90% HDI; Hill slope 1.51 ± 0.22 vs "
    "1.20), so the plan cuts display where the true optimum keeps 279k; setting that slope "
    "to truth gives 0.97. Seeds 1 and 3 pass (seed 1: 0.955 at 4 × 1000, 0.954 at 4 × "
    "1500; seed 3: 0.987). One ROI in 25 outside its 90% HDI is what calibration expects; "
    "see benchmarks/REGRET.md. Remove the mark when recovery of saturation shapes improves."
)


@pytest.fixture(
    scope="module",
    params=[
        1,
        pytest.param(
            2,
            # Only the share assertion may fail: a crash in the fit or the optimizer (any
            # other error) still fails the run.
            marks=pytest.mark.xfail(raises=AssertionError, strict=True, reason=SEED2_MISS),
        ),
    ],
)
def regret_case(request):
    """A fit at realistic settings (4 × 1500 draws) on an informative simulated panel (10
    geos × 3 years × 5 channels, spend varying twice the default across weeks and geos),
    the simulator's true response as a one-draw planner, and the posterior and
    true-optimal geo × channel plans. ``benchmarks/REGRET.md`` has the study behind the
    seeds: seed 1 passes and seed 2 misses; at the default spread 9 of 15 channel plans and
    4 of 15 geo × channel plans pass, so a pass here is a property of this panel (0.954 at
    each of four NUTS seeds), not of every panel.

    1500 draws, not 1000: on the current graph seed 1 at 4 × 1000 gave R-hat 1.011, so
    ``fit.optimize`` refused it (a ConvergenceError, as it should); ``target_accept=0.95``
    was worse (R-hat 1.018 on ``beta_mu[social]``). At 4 × 1500 it converges (R-hat
    1.004, min ESS 1112, 0 divergences)."""
    data, truth = simulated(10, 156, 5, seed=request.param, spend_variation=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(data, bm.ModelSpec(), draws=1500, tune=1000, chains=4, random_seed=1)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum()
    plan = fit.optimize(budget, weeks=13, by_geo=True)
    return oracle, plan, true_optimum(oracle, budget, by_geo=True)


@pytest.mark.slow
@pytest.mark.sampling
def test_regret_under_the_true_response(regret_case):
    """The posterior plan earns ≥ 95% of the true optimum's uplift under the simulator."""
    oracle, plan, best = regret_case
    assert regret_share(oracle, plan, best) >= 0.95


def test_regret_yardstick():
    """The regret share is 1 for the true optimum and 0 for the current split (every
    channel locked), for channel plans (which keep the current geo split) and geo ×
    channel plans; freeing the geo cells can only raise the attainable uplift."""
    data, truth = simulated(3, 60, 3, seed=2)
    oracle = true_planner(data, truth)
    budget = oracle.current().sum() * 1.1
    attainable = {}
    for by_geo in (False, True):
        best = true_optimum(oracle, budget, by_geo)
        attainable[by_geo] = float(best.uplift.values.ravel()[0])
        assert attainable[by_geo] > 0
        assert regret_share(oracle, best, best) == pytest.approx(1.0, rel=1e-12)
        locked = opt.Constraints(lock=oracle.labels, by_geo=by_geo)
        held = opt.allocate(oracle, budget, (1, 1), locked)
        np.testing.assert_allclose(plan_cells(held, oracle.current()), oracle.current(budget))
        assert regret_share(oracle, held, best) == pytest.approx(0.0, abs=1e-9)
    assert attainable[True] >= attainable[False] * (1 - 1e-9)


def test_self_assessed_share_is_one_without_uncertainty(tiny_fit, draws):
    """With every draw the same, the posterior plan is each draw's optimum: the share it
    expects of itself is 1; a real posterior expects less than the whole uplift."""
    one = {k: np.repeat(v[:1], 4, axis=0) for k, v in draws[0].items()}
    p = opt.planner(tiny_fit.data, tiny_fit.spec, one, weeks=13)
    budget = p.current().sum()
    for by_geo in (False, True):
        plan = opt.allocate(p, budget, (1, 4), opt.Constraints(by_geo=by_geo))
        own = self_assessed_share(p, plan, by_geo, n=2)
        np.testing.assert_allclose(own, 1.0, atol=1e-3)
    full = opt.planner(tiny_fit.data, tiny_fit.spec, draws[0], weeks=13)
    plan = opt.allocate(full, budget, draws[1])
    own = self_assessed_share(full, plan, False, n=10)
    assert own.shape == (10,) and np.median(own) < 0.999
