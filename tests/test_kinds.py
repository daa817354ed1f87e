"""The registry of transform kinds: each kind's derivative and kernel agree with its
function, and every declared parameter reaches the spec's priors and the model's dims."""

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import kinds
from bayes_mmm.spec import DEFAULT_PRIORS, SATURATION_DIM, SATURATION_PARAMS

PARAMS = {"ec": 0.8, "slope": 1.7, "lam": 0.6, "km": 0.9, "tanh_scale": 1.3}


@pytest.mark.parametrize("name", list(kinds.SATURATIONS))
def test_derivative_matches_central_difference(name):
    kind = kinds.SATURATIONS[name]
    p = {n: np.float64(PARAMS[n]) for n in kind.names}
    x = np.linspace(0.05, 4.0, 50)
    h = 1e-6
    numeric = (kind.function(x + h, **p) - kind.function(x - h, **p)) / (2 * h)
    np.testing.assert_allclose(kind.derivative(x, **p), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", list(kinds.SATURATIONS))
def test_kernel_matches_function_and_derivative(name):
    kind = kinds.SATURATIONS[name]
    p = {n: np.float64(PARAMS[n]) for n in kind.names}
    x = np.concatenate([[0.0], np.geomspace(1e-3, 10.0, 40)])
    f, df = kind.kernel(x.copy(), p, True)
    np.testing.assert_allclose(f, kind.function(x, **p), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(df, kind.derivative(x, **p), rtol=1e-10, atol=1e-12)
    f_only, none = kind.kernel(x.copy(), p, False)
    assert none is None
    np.testing.assert_allclose(f_only, f)


def test_every_parameter_has_a_default_prior_and_a_mixed_dim():
    for kind in (*kinds.SATURATIONS.values(), *kinds.ADSTOCKS.values()):
        for p in kind.parameters:
            assert DEFAULT_PRIORS[p.name] == p.prior
    for name, kind in kinds.SATURATIONS.items():
        assert SATURATION_PARAMS[name] == kind.names
        assert all(SATURATION_DIM[n] == p.mixed_dim for n, p in zip(kind.names, kind.parameters))


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="hill"):
        kinds.saturation_kind("sigmoid")
    with pytest.raises(bm.SpecError, match="neg_exp"):
        bm.ModelSpec(saturation="sigmoid")


def test_saturation_groups_share_the_index_space_of_a_mixed_dim():
    groups = kinds.saturation_groups(["hill", "log", "neg_exp", "hill", "log"])
    by_kind = {k: (idx.tolist(), pidx.tolist()) for k, idx, pidx in groups}
    assert by_kind == {"hill": ([0, 3], [0, 1]), "log": ([1, 4], [0, 2]), "neg_exp": ([2], [1])}
