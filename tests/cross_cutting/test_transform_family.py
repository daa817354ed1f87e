"""Recovery per adstock and saturation kind (real NUTS sampling, marked ``slow``).

For each kind beyond geometric adstock and Hill / log / neg-exp saturation: simulate a
3-geo × 104-week × 3-channel panel whose truth uses that kind on every channel (true
parameters from the kind's declared ranges, ``kinds.Parameter.truth``, so the truth is
generated independently of the fit), fit it with the same spec at 2 chains × 1,000 draws
and check convergence and that every true ROI lies in its 90% interval. The acceptance run
at 4 × 1,000 on 156-week panels is ``benchmarks/bench_kinds_recovery.py``
(``benchmarks/KINDS.md``).
"""

import warnings

import pytest

import bayes_mmm as bm
from bayes_mmm.kinds import ADSTOCKS

pytestmark = [pytest.mark.sampling, pytest.mark.slow]

NEW_KINDS = ("delayed", "weibull_pdf", "weibull_cdf", "logistic", "michaelis_menten", "tanh")


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_recovery_per_kind(make_panel, kind):
    spec = bm.ModelSpec(**{"adstock" if kind in ADSTOCKS else "saturation": kind})
    data, truth, _ = make_panel(n_geos=3, n_weeks=104, n_channels=3, seed=11, spec=spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(
            data,
            spec,
            draws=1000,
            tune=1000,
            chains=2,
            random_seed=11,
            progress=False,
            target_accept=0.95,
        )
    diag = fit.diagnostics()
    assert diag.attrs["divergences"] == 0, fit.convergence.message()
    assert diag["r_hat"].max() <= 1.03, diag.sort_values("r_hat").tail()
    assert diag["ess_bulk"].min() >= 100, diag.sort_values("ess_bulk").head()
    roi = fit.roi(hdi_prob=0.9)
    inside = (roi["lower"] <= truth.roi) & (truth.roi <= roi["upper"])
    assert inside.all(), roi.assign(truth=truth.roi)
    # the spec's kind is what was fitted: its parameters are in the posterior
    for name in spec.transform_param_names():
        assert name in fit.idata["posterior"]
