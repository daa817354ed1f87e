"""LOO and compare: the pointwise log-likelihood, ELPD ranking and its refusals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bayes_mmm as bm
from bayes_mmm import loo as L


def _with_posterior(fit, **changes) -> bm.Fit:
    """The same fit with some posterior variables replaced (same data and spec)."""
    post = fit.idata["posterior"].to_dataset().assign(**changes)
    groups = {k: fit.idata[k].to_dataset() for k in fit.idata.children}
    groups["posterior"] = post
    return bm.Fit(data=fit.data, spec=fit.spec, idata=xr.DataTree.from_dict(groups), meta=fit.meta)


def test_log_likelihood_matches_expected_target(tiny_fit):
    ll = L.log_likelihood(tiny_fit)
    assert ll.dims == ("chain", "draw", "date", "geo") and ll.shape == (2, 100, 60, 3)
    scale = tiny_fit.data.scaling.target
    mu = tiny_fit.expected_target().isel(chain=1, draw=7).values / scale
    sigma = tiny_fit.idata["posterior"]["sigma"].isel(chain=1, draw=7).values
    y = tiny_fit.idata["observed_data"]["y"].values
    np.testing.assert_allclose(
        ll.isel(chain=1, draw=7), stats.norm.logpdf(y, mu, sigma), rtol=1e-10
    )


def test_compare_ranks_a_worse_noise_model_lower(tiny_fit):
    post = tiny_fit.idata["posterior"]
    worse = _with_posterior(tiny_fit, sigma=post["sigma"] * 3)
    with pytest.warns(UserWarning, match="Pareto k"):
        table = bm.compare({"noise x3": worse, "fitted": tiny_fit})
    assert list(table.index) == ["fitted", "noise x3"]
    assert table.loc["fitted", "elpd_diff"] == 0
    assert table.loc["noise x3", "elpd_diff"] < -50
    assert table.loc["fitted", "n_obs"] == 60 * 3
    assert "per (date, geo) observation" in table.attrs["note"]
    # the short tiny fit fails the gates: the note says so first, naming both fits
    assert table.attrs["note"].startswith("NOT CONVERGED: fitted, noise x3 fail")
    assert not table["converged"].any() and table["verdict"].str.contains("NOT CONVERGED").all()
    assert table.loc["fitted", "fit_s"] == pytest.approx(tiny_fit.meta["wall_s"])
    assert table.loc["fitted", "elpd_loo"] == pytest.approx(float(tiny_fit.loo().elpd))


def test_compare_refuses_fits_of_different_data(tiny_fit):
    other = bm.Fit(
        data=tiny_fit.data.truncate(50),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=tiny_fit.meta,
    )
    with pytest.raises(bm.DataError, match="same data"):
        bm.compare({"a": tiny_fit, "b": other})


def test_loo_surfaces_high_pareto_k(tiny_fit):
    post = tiny_fit.idata["posterior"]
    # Too little noise: most observations dominate their own LOO weights.
    worse = _with_posterior(tiny_fit, sigma=post["sigma"] * 0.3)
    with pytest.warns(UserWarning, match=r"This fit: \d+ of 180 observations have Pareto k"):
        res = L.loo(worse)
    assert L.n_bad_pareto_k(res) > 0
