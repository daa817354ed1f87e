"""``bayes_mmm.centring``: per-cell centring weights of the geo hierarchy, from the data.

The weights only reparameterise the model (``tests/test_model.py`` checks that the density
is the same up to the Jacobian). Here: the regressions behind them recover known
coefficients, and the weights follow how well each geo's data identify its effects.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm.centring import centring_weights, geo_regressions, relative_errors
from bayes_mmm.model import centring


def test_regressions_recover_known_coefficients_with_honest_errors(make_panel):
    """On a low-noise simulated panel the per-cell least squares find the simulator's own
    ``beta`` (its truth, not this code's) to within the misfit of the nominal curve shapes
    (the priors' medians, not the true adstock and Hill parameters): within a factor of
    2 in every cell, and ranked alike. The errors are small beside the effects."""
    data, truth, _ = make_panel(n_geos=8, n_weeks=104, n_channels=3, seed=5, noise=0.02)
    spec = bm.ModelSpec().for_channels(data.channels)
    b, se = geo_regressions(data, spec)
    beta = truth.params["beta"]
    assert b.shape == se.shape == beta.shape == (8, 3)
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert np.all(b > 0)
    assert np.max(np.abs(np.log(b / beta))) < np.log(2.0)
    assert np.corrcoef(b.ravel(), beta.ravel())[0, 1] > 0.75
    assert np.all(se < 0.3 * beta)


def test_weights_follow_identification(make_panel):
    """Quiet geos with wide-spread effects get centred cells; noise ten times larger moves
    every weight towards the non-centred end."""
    spec = bm.ModelSpec()
    quiet, _, _ = make_panel(n_geos=8, n_weeks=104, seed=5, noise=0.01, geo_spread=1.0)
    noisy, _, _ = make_panel(n_geos=8, n_weeks=104, seed=5, noise=0.3, geo_spread=1.0)
    w_quiet = centring_weights(quiet, spec)
    w_noisy = centring_weights(noisy, spec)
    for w in (w_quiet, w_noisy):
        assert w.shape == (8, 3) and np.all((w >= 0) & (w <= 1))
    assert w_quiet.mean() > 0.5
    assert w_noisy.mean() < w_quiet.mean() - 0.3
    assert np.all(w_noisy <= w_quiet + 1e-12)


def test_relative_errors_treat_invisible_effects_as_weak():
    """Well-measured effects get small log-scale errors and a spread near the sample spread
    of their logs; a channel whose estimates are all far below their errors gets large
    errors (non-centred), and its spread stays at the prior's (root-mean-square 0.3 for
    HalfNormal(0.3))."""
    spec = bm.ModelSpec()
    b = np.array([[0.2, 1e-4], [0.5, -1e-4], [0.3, 2e-4], [0.25, 0.0]])
    se = np.full_like(b, 0.01)
    se[:, 1] = 0.05
    s, sigma = relative_errors(b, se, spec)
    assert np.all(s[:, 0] < 0.1) and np.all(s[:, 1] > 1)
    assert 0.2 < sigma[0] < 0.6  # sample sd of log b[:, 0] is 0.39
    assert sigma[1] == pytest.approx(0.3, abs=0.05)


def test_model_centring_modes(make_panel):
    """``centred="auto"`` estimates weights; a tuple gives 0/1 rows; national data and
    pooled coefficients have no hierarchy to parameterise."""
    data, _, _ = make_panel(n_geos=4, n_weeks=60, n_channels=3, seed=2)
    explicit = centring(data, bm.ModelSpec(centred=(data.channels[1],)))
    np.testing.assert_array_equal(explicit, np.tile([0.0, 1.0, 0.0], (4, 1)))
    assert centring(data, bm.ModelSpec()) is None  # the default: non-centred
    assert centring(data, bm.ModelSpec(centred="auto", pooling="pooled")) is None
    national, _, _ = make_panel(n_geos=1, n_weeks=60, n_channels=3, seed=2, geo=None)
    assert centring(national, bm.ModelSpec(centred="auto")) is None
    auto = centring(data, bm.ModelSpec(centred="auto"))  # zeros too: one graph per shape
    assert auto.shape == (4, 3) and np.all((auto >= 0) & (auto <= 1))
