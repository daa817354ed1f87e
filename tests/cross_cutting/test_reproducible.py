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

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def small_data(make_panel):
    return make_panel(n_geos=2, n_weeks=40, n_channels=2, seed=11, controls=())[0]


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
