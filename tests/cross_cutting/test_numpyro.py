"""The JAX path: bm.fit(..., sampler="numpyro") returns the same kind of Fit (CPU here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayes_mmm as bm

pytest.importorskip("jax")
pytest.importorskip("numpyro")


@pytest.mark.sampling
def test_numpyro_fit_is_a_full_fit(make_panel, tmp_path):
    data, _, _ = make_panel(n_geos=2, n_weeks=40, n_channels=2, seed=4, controls=())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 30 draws do not converge, by design
        fit = bm.fit(
            data, draws=30, tune=30, chains=1, random_seed=2, sampler="numpyro", progress=False
        )
    assert fit.meta["sampler"] == "numpyro"
    post = fit.idata["posterior"]
    assert post.sizes["chain"] == 1 and post.sizes["draw"] == 30
    assert post["beta"].dtype == np.float64  # PyMC's JAX path runs in float64
    assert {"diverging", "energy"} <= set(fit.idata["sample_stats"].data_vars)
    roi = fit.roi()
    assert list(roi.index) == ["tv", "search"] and np.isfinite(roi["mean"]).all()
    assert fit.contributions().sizes["date"] == 40
    again = bm.load(fit.save(tmp_path / "np"))
    assert again.meta["sampler"] == "numpyro"
    np.testing.assert_allclose(again.roi()["mean"], roi["mean"])
