"""``Posterior``: numpy draws in the model's dim order, and the diagnostics table."""

import numpy as np
import xarray as xr

from bayes_mmm.posterior import posterior_draws


def test_diagnostics_table(tiny_fit):
    d = tiny_fit.diagnostics()
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(d.columns)
    assert "beta[geo_00, tv]" in d.index
    assert {"divergences", "bfmi", "converged", "verdict"} <= set(d.attrs)
    # 2 × 100 draws cannot reach ESS 400: the fit must not call itself converged
    assert not tiny_fit.converged
    assert "ess_bulk" in [g.name for g in tiny_fit.convergence.failed]
    assert "NOT CONVERGED" in tiny_fit.roi().attrs["warning"]


def test_posterior_draws_keep_the_model_dim_order():
    """(geo, event) and (geo, channel) variables keep their declared order, even when the
    stored array lists chain/draw last."""
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {
            "event_coef": (("chain", "draw", "geo", "event"), rng.normal(size=(2, 3, 4, 5))),
            "beta": (("geo", "channel", "chain", "draw"), rng.normal(size=(4, 6, 2, 3))),
        }
    )
    draws, shape = posterior_draws(ds, ["event_coef", "beta"])
    assert shape == (2, 3)
    assert draws["event_coef"].shape == (6, 4, 5)
    assert draws["beta"].shape == (6, 4, 6)
    np.testing.assert_array_equal(draws["beta"][4], ds["beta"].values[..., 1, 1])
