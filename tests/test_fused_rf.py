"""The fused float32 R&F kernel (``bayes_mmm.fused_rf``) computes
``rf.rf_unit_response``: ``adstock(reach × unit_hill(frequency))``."""

from __future__ import annotations

import numpy as np
import pytest
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.traversal import ancestors

import bayes_mmm as bm
from bayes_mmm import fused_hill, fused_rf, response, transforms
from bayes_mmm.simulate_rf import RF_COLUMNS, simulate_rf

F = np.float32
N_GEO = 7


def _reference(reach, freq, w, ec, slope):
    """float64 R&F response from ``transforms``' own Hill and an explicit lag sum, dims
    (rf_channel, date·geo)."""
    unit = transforms.hill(np.ones_like(ec), ec, slope)
    x = reach * transforms.hill(freq, ec[:, None], slope[:, None]) / unit[:, None]
    n = x.shape[1]
    out = np.zeros_like(x)
    for lag in range(w.shape[1]):
        shift = lag * N_GEO
        out[:, shift:] += w[:, lag, None] * x[:, : n - shift]
    return out


def _hill_reference(stack, w, ec, slope):
    """float64 Hill of adstocked channel-first media, dims (channel, date·geo)."""
    ad = np.einsum("cln,cl->cn", stack, w)
    return (
        transforms.hill(ad, ec[:, None], slope[:, None])
        / transforms.hill(np.ones_like(ec), ec, slope)[:, None]
    )


def test_kernel_and_its_gradient_match_the_reference():
    """Values and the vector-Jacobian product of the one-op kernel (two impressions
    channels, three R&F channels) against float64 numpy and central finite differences,
    with zero reach (frequency 1 there) and saturated frequencies."""
    rng = np.random.default_rng(1)
    n_rf, n_lag, n = 3, 5, N_GEO * 120
    # five channels; the three R&F channels sit at positions 4, 0 and 2
    index = np.array([4, 0, 2])
    stack = rng.gamma(1.5, 0.6, (5, n_lag, n)).astype(F)
    stack[:, :, :20] = 0.0
    reach = stack[index, 0]  # an R&F channel's media rows are its reach
    reach[:, :30] = 0.0
    freq = np.where(reach > 0, 10 ** rng.uniform(-1.5, 2, (n_rf, n)), 1.0).astype(F)
    packed = np.concatenate([stack, np.repeat(freq[:, None], n_lag, axis=1)])
    packed[index, 0] = reach
    w = rng.dirichlet(np.ones(n_lag), 5).astype(F)
    ec = rng.uniform(0.3, 3, 5).astype(F)
    slope = rng.uniform(0.5, 3, 5).astype(F)
    slot = fused_rf._slots(5, index)
    y, e, lr, ad = fused_rf.media_kernel(packed, w, ec, slope, slot, N_GEO)
    p64, w64, ec64, sl64 = (a.astype(float) for a in (packed, w, ec, slope))
    s64, r64, f64 = p64[:5], p64[index, 0], p64[5:, 0]

    def reference(w_, ec_, sl_):
        out = _hill_reference(s64, w_, ec_, sl_)
        out[index] = _reference(r64, f64, w_[index], ec_[index], sl_[index])
        return out

    ref = reference(w64, ec64, sl64)
    np.testing.assert_allclose(y, ref, rtol=2e-5, atol=1e-6)
    fwd = fused_rf.array_forward(p64, w64, ec64, sl64, index, N_GEO)
    np.testing.assert_allclose(fwd[0], ref, rtol=1e-12)
    gy = rng.normal(size=y.shape).astype(F)
    got = fused_rf.media_grad_kernel(packed, w, ec, slope, slot, y, e, lr, ad, gy, N_GEO)
    want = fused_rf.array_grad(p64, w64, ec64, sl64, index, *fwd, gy.astype(float), N_GEO)
    for name, g, ww in zip(("w", "ec", "slope"), got, want, strict=True):
        np.testing.assert_allclose(g, ww, rtol=2e-3, atol=1e-5 * np.abs(ww).max(), err_msg=name)

    def loss(w_, ec_, sl_):
        return float((reference(w_, ec_, sl_) * gy).sum())

    eps = 1e-6
    for c in range(5):  # R&F and impressions channels
        one = np.arange(5) == c
        fd_ec = (loss(w64, ec64 + eps * one, sl64) - loss(w64, ec64 - eps * one, sl64)) / 2 / eps
        fd_sl = (loss(w64, ec64, sl64 + eps * one) - loss(w64, ec64, sl64 - eps * one)) / 2 / eps
        step = np.zeros_like(w64)
        step[c, 2] = eps
        fd_w = (loss(w64 + step, ec64, sl64) - loss(w64 - step, ec64, sl64)) / 2 / eps
        np.testing.assert_allclose(
            [want[1][c], want[2][c], want[0][c, 2]], [fd_ec, fd_sl, fd_w], rtol=1e-5
        )


@pytest.fixture(scope="module")
def rf_panel():
    frame, _ = simulate_rf(n_geos=3, n_weeks=40, seed=2)
    return bm.MMMData.from_frame(frame, **RF_COLUMNS)


def _ops(model):
    return [v.owner.op for v in ancestors([model.logp()]) if v.owner]


@pytest.mark.sampling
@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_float32_rf_graph_uses_both_kernels_and_keeps_the_density(rf_panel, mode, monkeypatch):
    """A float32 R&F graph holds one fused op for every channel, no separate Hill op, and
    one media input (the packed stacks); its log density and gradient equal the reference
    float32 graph's, through numba and through ``perform``."""
    spec = bm.ModelSpec(float32=True, l_max=4, trend=False, yearly_seasonality=0)
    fused = bm.build_model(rf_panel, spec)
    ops = _ops(fused)
    assert sum(isinstance(op, fused_rf.MediaAdstockHill) for op in ops) == 1
    assert not any(isinstance(op, fused_hill.AdstockHill) for op in ops)
    shared = [v for v in ancestors([fused.logp()]) if isinstance(v, SharedVariable)]
    assert len([v for v in shared if v.ndim == 3]) == 1  # media and frequency: one input
    monkeypatch.setattr(response, "FUSED_HILL", False)
    plain = bm.build_model(rf_panel, spec)
    assert not any(isinstance(op, fused_rf.MediaAdstockHill) for op in _ops(plain))
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in plain.initial_point().items()}
    lp = [m.compile_logp(mode=mode)(point) for m in (fused, plain)]
    assert lp[0] == pytest.approx(lp[1], rel=1e-6)
    grads = [m.compile_dlogp(mode=mode)(point) for m in (fused, plain)]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4 * np.abs(grads[1]).max())


@pytest.mark.sampling
def test_jax_backend_computes_the_same_rf_density(rf_panel):
    """``register_jax`` gives JAX the R&F ops: the same log density and gradient as numba."""
    pytest.importorskip("jax")
    fused_hill.register_jax()
    fused_rf.register_jax()
    spec = bm.ModelSpec(float32=True, l_max=4, trend=False, yearly_seasonality=0)
    model = bm.build_model(rf_panel, spec)
    rng = np.random.default_rng(3)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    lp = [model.compile_logp(mode=m)(point) for m in ("JAX", "NUMBA")]
    assert lp[0] == pytest.approx(lp[1], rel=1e-6)
    grads = [model.compile_dlogp(mode=m)(point) for m in ("JAX", "NUMBA")]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4 * np.abs(grads[1]).max())
