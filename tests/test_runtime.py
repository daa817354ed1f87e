"""plan_runtime: time and memory of a fit, estimated before sampling."""

from __future__ import annotations

import warnings

import pytest

import bayes_mmm as bm
from bayes_mmm.runtime import STEPS_PER_DRAW, ModelTiming, memory_mb, plan_from_timing

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def panel(make_panel):
    """A 2-channel panel of ``n_geos`` geos × ``n_weeks`` weeks (seed 2), no controls."""

    def build(n_geos: int, n_weeks: int = 52):
        return make_panel(n_geos, n_weeks, n_channels=2, seed=2, controls=())[0]

    return build


@pytest.fixture(scope="module")
def small(panel):
    data = panel(2)
    spec = bm.ModelSpec().for_channels(data.channels)
    plan = bm.plan_runtime(data, spec, draws=200, chains=2, cores=2, n_eval=50)
    timing = ModelTiming(plan.compile_s, plan.grad_eval_us * 1e-6, plan.n_parameters, plan.n_stored)
    return data, spec, timing, plan


def test_plan_measures_and_reports(small):
    plan = small[3]
    assert plan.compile_s > 0 and 0 < plan.grad_eval_us < 1e5
    # 2 geos × 2 channels: level, trend, sigma (geo), 4 season, beta_mu, beta_sigma, alpha,
    # ec, slope (channel) and beta_z (geo, channel) → 6 + 4 + 10 + 4 = 24 unconstrained dims.
    assert plan.n_parameters == 24
    assert plan.est_total_s == pytest.approx(plan.compile_s + plan.est_sample_s)
    expected = plan.grad_eval_us * 1e-6 * STEPS_PER_DRAW * (200 + 200)
    assert plan.est_sample_s == pytest.approx(expected)
    text = str(plan)
    for word in ("compile", "one gradient", "sampling", "memory", "2 chains"):
        assert word in text


def test_estimate_grows_with_draws_chains_and_shrinks_with_cores(small):
    data, spec, timing, _ = small

    def est(draws=500, chains=4, tune=500, cores=4):
        return plan_from_timing(timing, data, spec, draws, chains, tune, cores)

    base = est()
    assert est(draws=1000).est_sample_s > base.est_sample_s
    assert est(draws=1000).est_memory_mb > base.est_memory_mb
    assert est(tune=1000).est_sample_s > base.est_sample_s
    assert est(chains=8).est_sample_s == pytest.approx(2 * base.est_sample_s)  # 2 rounds
    assert est(cores=2).est_sample_s == pytest.approx(2 * base.est_sample_s)
    assert est(chains=8).contributions_mb == pytest.approx(2 * base.contributions_mb)
    with pytest.raises(ValueError, match="draws"):
        est(draws=0)


def test_memory_counts_posterior_and_grows_with_geos(small, panel):
    data, spec, timing, _ = small
    big = panel(6)
    one, contrib = memory_mb(data, spec, timing.n_stored, draws=1000, chains=4)
    assert contrib == pytest.approx(4 * 1000 * 52 * 2 * 2 * 8 / 2**20)
    assert one > 4 * 1000 * timing.n_stored * 8 / 2**20  # at least the stored posterior
    assert memory_mb(big, spec, timing.n_stored, 1000, 4)[0] > one


@pytest.mark.slow
def test_estimate_is_within_3x_of_a_real_fit(panel):
    data = panel(3, 60)
    spec = bm.ModelSpec()
    plan = bm.plan_runtime(data, spec, draws=100, chains=2, tune=100)
    big = bm.plan_runtime(panel(8, 60), spec, draws=100, chains=2, tune=100)
    assert big.grad_eval_us > plan.grad_eval_us  # more geos, slower gradient
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(data, spec, draws=100, tune=100, chains=2, random_seed=1, progress=False)
    ratio = plan.est_total_s / fit.meta["wall_s"]
    assert 1 / 3 < ratio < 3, (plan, fit.meta)


def test_large_panels_get_advice_small_ones_none(small, panel):
    _, _, timing, plan = small
    assert plan.advice == () and "advice" not in str(plan)
    big = panel(20, n_weeks=8)
    text = str(plan_from_timing(timing, big, bm.ModelSpec(float32=False), 100, 2, 100, 2))
    assert "float32=None" in text and "draw_diag" in text
    auto = plan_from_timing(timing, big, bm.ModelSpec(), 100, 2, 100, 2)  # float32 by size
    assert len(auto.advice) == 1 and "draw_diag" in auto.advice[0]
