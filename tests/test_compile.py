"""Compiled-model reuse (``bayes_mmm.compile``): a fit of new data with the same graph reuses
the compiled model, and samples exactly as a fresh compile of that data would.

Tiny panel (2 geos × 40 weeks × 2 channels, l_max 4, 2 × 50 draws): the draws only have to
be comparable, not converged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm.compile import clear_cache

SPEC = bm.ModelSpec(l_max=4, yearly_seasonality=0)


pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def panel(make_panel):
    """A 2-geo × 40-week × 2-channel panel of simulator ``seed``, geos named ``geo_names``."""

    def build(seed: int, geo_names=("g0", "g1")):
        def rename(df):
            names = dict(zip(sorted(df["geo"].unique()), geo_names, strict=True))
            return df.assign(geo=df["geo"].map(names))

        return make_panel(2, 40, 2, seed, controls=(), prepare=rename)[0]

    return build


def quick_fit(data, spec=SPEC):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        return bm.fit(data, spec, draws=50, tune=50, chains=2, random_seed=4, progress=False)


@pytest.fixture(scope="module")
def fits(panel):
    clear_cache()
    first = quick_fit(panel(21))
    reused = quick_fit(panel(22, geo_names=("north", "south")))
    clear_cache()
    fresh = quick_fit(panel(22, geo_names=("north", "south")))
    clear_cache()
    return first, reused, fresh


def test_same_graph_new_data_reuses_the_compiled_model(fits):
    first, reused, fresh = fits
    assert first.meta["compile_reused"] is False
    assert reused.meta["compile_reused"] is True
    assert fresh.meta["compile_reused"] is False
    # the reused model ran on the new data: its posterior is not the first panel's
    assert not np.allclose(
        first.idata["posterior"]["beta"].values, reused.idata["posterior"]["beta"].values
    )


def test_a_reused_model_samples_exactly_as_a_fresh_compile(fits):
    _, reused, fresh = fits
    post_r = reused.idata["posterior"].to_dataset()
    post_f = fresh.idata["posterior"].to_dataset()
    assert set(post_r.data_vars) == set(post_f.data_vars)
    for name in post_r.data_vars:
        np.testing.assert_array_equal(post_r[name].values, post_f[name].values, err_msg=name)
    # labels are the new data's, not those of the model compiled first
    assert list(post_r["beta"].geo.values) == ["north", "south"]


def test_a_different_spec_does_not_reuse(panel):
    """Another prior changes a constant of the graph: the key must see it."""
    clear_cache()
    data = panel(21)
    quick_fit(data)
    other = bm.ModelSpec(
        l_max=4,
        yearly_seasonality=0,
        priors={"sigma": Prior("HalfNormal", sigma=0.2, dims="geo")},
    )
    assert quick_fit(data, other).meta["compile_reused"] is False
    assert quick_fit(data).meta["compile_reused"] is True
    clear_cache()
