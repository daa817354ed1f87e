"""Parameter recovery on simulated panels with known truth (real NUTS sampling).

The fast test runs in the regular suite; the full acceptance run (10 geos × 156 weeks ×
5 channels, 4 chains × 1,000 draws) is marked ``slow`` (``make test-slow``).
"""

import warnings

import pytest

import bayes_mmm as bm

pytestmark = pytest.mark.sampling


def _fit(make_panel, n_geos, n_weeks, n_channels, draws, tune, chains, seed, **kw):
    data, truth, _ = make_panel(n_geos, n_weeks, n_channels, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(
            data, draws=draws, tune=tune, chains=chains, random_seed=seed, progress=False, **kw
        )
    return fit, truth


def _check(fit, truth, r_hat_max, ess_min):
    diag = fit.diagnostics()
    assert diag.attrs["divergences"] == 0, fit.convergence.message()
    assert diag["r_hat"].max() <= r_hat_max, diag.sort_values("r_hat").tail()
    assert diag["ess_bulk"].min() >= ess_min, diag.sort_values("ess_bulk").head()
    roi = fit.roi(hdi_prob=0.9)
    inside = (roi["lower"] <= truth.roi) & (truth.roi <= roi["upper"])
    assert inside.all(), roi.assign(truth=truth.roi)
    # each channel's true total contribution lies inside its 90% interval too
    est = fit.contributions().sum(("date", "geo"))
    lo, hi = est.quantile([0.05, 0.95], dim=("chain", "draw")).values
    true = truth.contributions.sum(("date", "geo")).values
    assert ((lo <= true) & (true <= hi)).all(), (lo, true, hi)


def test_recovery_fast(make_panel):
    # 3 geos × 2 years is the small-data regime where the sampler's advice on divergences
    # applies (raise target_accept): at 0.9 this seed's chains hit up to 4 divergences
    # depending on the last bits of the adstock sum, and at 0.95 R-hat sits at 1.010-1.032
    # depending on whether numba's cache is warm (freshly compiled code differs in the
    # last bits): the gates sit inside their own noise. At 0.99 and 2 × 1000 draws both
    # compile states pass with a margin.
    fit, truth = _fit(
        make_panel,
        n_geos=3,
        n_weeks=104,
        n_channels=3,
        draws=1000,
        tune=1000,
        chains=2,
        seed=11,
        target_accept=0.99,
    )
    _check(fit, truth, r_hat_max=1.03, ess_min=100)


@pytest.mark.slow
@pytest.mark.parametrize("float32", [False, True], ids=["float64", "float32"])
def test_recovery_acceptance_10_geos(make_panel, float32):
    """The acceptance run, in both precisions: float32 samples through the fused Hill
    kernel (``bayes_mmm.fused_hill``), whose chains differ from the reference graph's."""
    fit, truth = _fit(
        make_panel,
        n_geos=10,
        n_weeks=156,
        n_channels=5,
        draws=1000,
        tune=1000,
        chains=4,
        seed=1,
        spec=bm.ModelSpec(float32=float32),
    )
    _check(fit, truth, r_hat_max=1.01, ess_min=400)
    assert fit.converged
