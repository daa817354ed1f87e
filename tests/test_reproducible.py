"""Reproducibility: the same data, spec and ``random_seed`` give bit-identical posterior
draws on the same machine (nutpie, two chains), and so identical results downstream.

Two fits are the minimum, and each costs a nutpie compile (~15 s on 2 busy cores), so the
panel is tiny (2 geos × 40 weeks × 2 channels, l_max 4, no seasonality, 2 × 50 draws).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayes_mmm as bm


@pytest.fixture(scope="module")
def small_data():
    df, _ = bm.simulate(n_geos=2, n_weeks=40, n_channels=2, seed=11)
    return bm.MMMData.from_frame(
        df, date="date", target="revenue", media=["tv", "search"], geo="geo"
    )


SPEC = bm.ModelSpec(l_max=4, yearly_seasonality=0)


def small_fit(data, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)  # 50 draws: not the point here
        return bm.fit(data, SPEC, draws=50, tune=50, chains=2, random_seed=seed, progress=False)


def test_same_seed_gives_bit_identical_draws(small_data):
    a, b = small_fit(small_data, 7), small_fit(small_data, 7)
    post_a, post_b = a.idata["posterior"].to_dataset(), b.idata["posterior"].to_dataset()
    assert set(post_a.data_vars) == set(post_b.data_vars)
    for name in post_a.data_vars:
        np.testing.assert_array_equal(post_a[name].values, post_b[name].values, err_msg=name)
    # chains are not copies of each other, and the seed is recorded for the bundle
    assert not np.array_equal(post_a["alpha"].values[0], post_a["alpha"].values[1])
    assert a.meta["random_seed"] == b.meta["random_seed"] == 7
    np.testing.assert_array_equal(a.roi_draws().values, b.roi_draws().values)


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
