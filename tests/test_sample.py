"""The sampler: ``sampler_kwargs`` reach nutpie and are recorded with the run."""

from __future__ import annotations

import warnings

import pytest

import bayes_mmm as bm

pytestmark = pytest.mark.sampling

SPEC = bm.ModelSpec(l_max=4, yearly_seasonality=0)


@pytest.fixture(scope="module")
def small_data(make_panel):
    return make_panel(n_geos=2, n_weeks=40, n_channels=2, seed=11, controls=())[0]


def test_sampler_kwargs_reach_nutpie_and_the_depth_gate_sees_them(small_data):
    """``sampler_kwargs`` go to ``nutpie.sample`` (here a tree-depth cap of 2, which every
    draw of this posterior hits) and are recorded; the tree-depth gate reports the cap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(
            small_data,
            SPEC,
            draws=50,
            tune=50,
            chains=2,
            random_seed=3,
            progress=False,
            sampler_kwargs={"maxdepth": 2},
        )
    assert fit.meta["sampler_kwargs"] == {"maxdepth": 2}
    assert int(fit.idata["sample_stats"]["n_steps"].max()) <= 3
    gate = {g.name: g for g in fit.convergence.gates}["tree_depth"]
    assert not gate.passed and gate.value > 0.5 and not fit.converged
