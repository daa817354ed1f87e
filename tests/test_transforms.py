import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_mmm import transforms as tf

RNG = np.random.default_rng(0)


def _compile(fn, *arrays):
    """Evaluate ``fn`` on pytensor inputs shaped like ``arrays``."""
    syms = [pt.tensor(dtype="float64", shape=(None,) * np.ndim(a)) for a in arrays]
    return pytensor.function(syms, fn(*syms))(*arrays)


@pytest.mark.parametrize("slope", [0.6, 1.0, 2.5])
def test_hill_numpy_pytensor_parity(slope):
    x = np.abs(RNG.normal(1, 1, (20, 3, 4)))
    x[::5] = 0.0
    ec = RNG.uniform(0.5, 2, 4)
    s = np.full(4, slope)
    np.testing.assert_allclose(tf.hill(x, ec, s), _compile(tf.hill, x, ec, s), atol=1e-10)


@pytest.mark.parametrize("fn", [tf.log_saturation, tf.neg_exp_saturation])
def test_concave_saturations_parity(fn):
    x = np.abs(RNG.normal(1, 1, (20, 3, 4)))
    lam = RNG.uniform(0.2, 3, 4)
    np.testing.assert_allclose(fn(x, lam), _compile(fn, x, lam), atol=1e-10)


def test_adstock_parity_and_weights():
    x = np.abs(RNG.normal(size=(30, 2, 3)))
    alpha = RNG.uniform(0.05, 0.9, 3)
    stack = tf.lag_stack(x, 6)
    w = tf.geometric_weights(alpha, 6)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-12)
    sym = _compile(
        lambda a: tf.adstock(pt.as_tensor_variable(stack), tf.geometric_weights(a, 6)), alpha
    )
    np.testing.assert_allclose(tf.adstock(stack, w), sym, atol=1e-10)


def test_adstock_matches_direct_recursion():
    x = np.zeros((10, 1, 1))
    x[0] = 1.0
    out = tf.geometric_adstock(x, np.array([0.5]), 4)[:, 0, 0]
    expected = np.array([1, 0.5, 0.25, 0.125, 0, 0, 0, 0, 0, 0]) / 1.875
    np.testing.assert_allclose(out, expected)


def test_adstock_batched_draws():
    x = np.abs(RNG.normal(size=(12, 2, 3)))
    alpha = RNG.uniform(0.1, 0.8, (5, 3))
    batched = tf.adstock(tf.lag_stack(x, 4), tf.geometric_weights(alpha, 4))
    assert batched.shape == (5, 12, 2, 3)
    one = tf.geometric_adstock(x, alpha[2], 4)
    np.testing.assert_allclose(batched[2], one)


def test_lag_stack_tail_keeps_carryover():
    x = np.ones((5, 1, 1))
    stack = tf.lag_stack(x, 3, tail=2)
    assert stack.shape == (3, 7, 1, 1)
    ad = tf.adstock(stack, tf.geometric_weights(np.array([0.5]), 3))
    assert ad[5, 0, 0] > 0 and ad[6, 0, 0] > 0  # after the last date
    # total adstocked mass equals total media: normalised weights conserve it
    np.testing.assert_allclose(ad.sum(), x.sum())


def test_fourier_parity():
    t = np.arange(0, 400, 7.0)
    np.testing.assert_allclose(
        tf.fourier_features(t, 365.25, 3),
        _compile(lambda s: tf.fourier_features(s, 365.25, 3), t),
        atol=1e-10,
    )
    assert tf.fourier_features(t, 365.25, 3).shape == (len(t), 6)


def test_hill_gradient_finite_at_zero_with_small_slope():
    x = pt.vector("x")
    s = pt.scalar("s")
    y = tf.hill(x, 1.0, s).sum()
    g = pytensor.function([x, s], pytensor.grad(y, s))(np.array([0.0, 0.5, 2.0]), 0.6)
    assert np.isfinite(g)


pos = st.floats(0.0, 50.0, allow_nan=False)
par = st.floats(0.05, 5.0)


@settings(max_examples=200, deadline=None)
@given(a=pos, b=pos, ec=par, slope=st.floats(0.5, 3.0), lam=par)
def test_saturations_monotone_bounded_zero(a, b, ec, slope, lam):
    lo, hi = np.array([min(a, b)]), np.array([max(a, b)])
    for fn, kw in [
        (tf.hill, {"ec": ec, "slope": slope}),
        (tf.log_saturation, {"lam": lam}),
        (tf.neg_exp_saturation, {"lam": lam}),
    ]:
        f_lo, f_hi = fn(lo, **kw), fn(hi, **kw)
        assert f_lo <= f_hi + 1e-12
        assert fn(np.array([0.0]), **kw) == 0.0
        assert f_lo >= 0
    assert tf.hill(hi, ec, slope) <= 1.0
    assert tf.neg_exp_saturation(hi, lam) <= 1.0


@settings(max_examples=100, deadline=None)
@given(alpha=st.floats(0.0, 0.99), l_max=st.integers(1, 12))
def test_adstock_conserves_mass_and_nonnegative(alpha, l_max):
    x = np.abs(RNG.normal(size=(20, 1, 1)))
    ad = tf.adstock(
        tf.lag_stack(x, l_max, tail=l_max - 1), tf.geometric_weights(np.array([alpha]), l_max)
    )
    assert (ad >= 0).all()
    np.testing.assert_allclose(ad.sum(), x.sum(), rtol=1e-9)


ADSTOCK_KINDS = {
    "delayed": (tf.delayed_weights, {"alpha": (0.1, 0.9), "theta": (0.0, 4.0)}),
    "weibull_pdf": (tf.weibull_pdf_weights, {"scale": (0.5, 5.0), "shape": (0.5, 4.0)}),
    "weibull_cdf": (tf.weibull_cdf_weights, {"scale": (0.5, 5.0), "shape": (0.5, 4.0)}),
}


@pytest.mark.parametrize("name", list(ADSTOCK_KINDS))
def test_adstock_kind_parity_and_finite_gradient(name):
    """numpy and pytensor weights agree to 1e-10, and the gradient in every parameter is
    finite (the Weibull survival masks lag 0 out of ``0**k``)."""
    fn, ranges = ADSTOCK_KINDS[name]
    params = [RNG.uniform(lo, hi, 4) for lo, hi in ranges.values()]
    w = fn(*params, 8)
    assert w.shape == (8, 4)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(_compile(lambda *p: fn(*p, 8), *params), w, atol=1e-10)
    syms = [pt.vector() for _ in params]
    loss = (fn(*syms, 8) * np.arange(8.0)[:, None]).sum()
    grads = pytensor.function(syms, pytensor.grad(loss, syms))(*params)
    assert all(np.isfinite(g).all() for g in grads)
    batched = fn(*(np.stack([p, p]) for p in params), 8)  # leading draw dim
    np.testing.assert_allclose(batched[1], w)


def test_delayed_weights_peak_at_the_delay():
    w = tf.delayed_weights(np.array([0.5, 0.5]), np.array([0.0, 3.0]), 8)
    assert w.argmax(axis=0).tolist() == [0, 3]
    np.testing.assert_allclose(
        w[:, 0], 0.5 ** (np.arange(8.0) ** 2) / (0.5 ** (np.arange(8.0) ** 2)).sum()
    )


def test_weibull_weights_match_scipy():
    """An independent truth: scipy's Weibull density (lags 1…l_max) and survival."""
    from scipy import stats

    scale, shape = 2.5, 1.8
    lags = np.arange(8.0)
    pdf = stats.weibull_min.pdf(lags + 1, shape, scale=scale)
    sf = stats.weibull_min.sf(lags, shape, scale=scale)
    one = (np.array([scale]), np.array([shape]))
    np.testing.assert_allclose(tf.weibull_pdf_weights(*one, 8)[:, 0], pdf / pdf.sum(), rtol=1e-12)
    np.testing.assert_allclose(tf.weibull_cdf_weights(*one, 8)[:, 0], sf / sf.sum(), rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(list(ADSTOCK_KINDS)),
    u=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    l_max=st.integers(1, 12),
)
def test_adstock_kinds_conserve_mass(name, u, l_max):
    """Normalised weights: every kind's adstock keeps a pulse's total (its carryover
    tail included), weights non-negative and finite even where they all underflow."""
    fn, ranges = ADSTOCK_KINDS[name]
    params = [np.array([lo + f * (hi - lo)]) for f, (lo, hi) in zip(u, ranges.values())]
    w = fn(*params, l_max)
    assert np.isfinite(w).all() and (w >= 0).all()
    x = np.abs(RNG.normal(size=(20, 1, 1)))
    ad = tf.adstock(tf.lag_stack(x, l_max, tail=l_max - 1), w)
    np.testing.assert_allclose(ad.sum(), x.sum(), rtol=1e-9)


NEW_SATURATIONS = [
    (tf.logistic_saturation, "lam"),
    (tf.michaelis_menten, "km"),
    (tf.tanh_saturation, "tanh_scale"),
]


@pytest.mark.parametrize("fn, name", NEW_SATURATIONS)
def test_new_saturations_parity(fn, name):
    x = np.abs(RNG.normal(1, 1, (20, 3, 4)))
    x[::4] = 0.0
    p = RNG.uniform(0.2, 3, 4)
    np.testing.assert_allclose(fn(x, p), _compile(fn, x, p), atol=1e-10)


@settings(max_examples=200, deadline=None)
@given(a=pos, b=pos, p=par, which=st.sampled_from(range(len(NEW_SATURATIONS))))
def test_new_saturations_monotone_concave_bounded_zero(a, b, p, which):
    fn, _ = NEW_SATURATIONS[which]
    lo, hi = min(a, b), max(a, b)
    x = np.array([lo, 0.5 * (lo + hi), hi])
    f = fn(x, p)
    assert fn(np.array([0.0]), p) == 0.0
    assert 0.0 <= f[0] <= f[1] + 1e-12 <= f[2] + 2e-12
    assert f[2] <= 1.0
    assert f[1] >= 0.5 * (f[0] + f[2]) - 1e-12  # concave: the midpoint lies above the chord
