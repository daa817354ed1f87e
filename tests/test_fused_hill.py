"""The fused float32 adstock + Hill kernel (``bayes_mmm.fused_hill``) computes
``unit_saturation("hill", adstock(...))``."""

from __future__ import annotations

import numpy as np
import pytest
from pytensor.graph.traversal import ancestors

import bayes_mmm as bm
from bayes_mmm import fused_hill, response, transforms

F = np.float32


@pytest.fixture(scope="module")
def panel(make_panel):
    return make_panel(seed=5, controls=())[0]


def test_exp_and_log_match_libm_across_the_float32_range():
    """Relative error below 3e-7 from subnormals to 1e30 (log) and over [-87, 0] (exp, the
    only arguments the kernel passes); exactly 0 where exp leaves the normal range."""
    rng = np.random.default_rng(0)
    x = np.concatenate([10 ** rng.uniform(-44, 30, 20_000), [1e-45, 1.1e-38, 1.0]]).astype(F)
    got = np.array([fused_hill.logf(v) for v in x], dtype=float)
    ref = np.log(x.astype(float))
    assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1.0)) < 3e-7
    z = rng.uniform(-87, 0, 20_000).astype(F)
    got = np.array([fused_hill.expf(v) for v in z], dtype=float)
    ref = np.exp(z.astype(float))
    assert np.max(np.abs(got - ref) / ref) < 3e-7
    assert fused_hill.expf(F(-90.0)) == 0.0


def _reference(stack, w, ec, slope):
    """float64 ``unit_saturation("hill", adstock(...))`` in the kernel's layout, dims
    (channel, date·geo), from ``transforms``' own functions."""
    ad = np.einsum("cln,cl->cn", stack, w)
    unit = transforms.hill(np.ones_like(ec), ec, slope)
    return transforms.hill(ad, ec[:, None], slope[:, None]) / unit[:, None]


def test_kernel_and_its_gradient_match_the_reference():
    """Values and the vector-Jacobian product against float64 numpy and central finite
    differences, with zero media (exactly 0 out, 0 gradient), tiny carry-over values and
    saturated cells (ad ≫ ec, where a gradient from ``y (1 - y)`` in float32 would be far
    off) in the stack."""
    rng = np.random.default_rng(1)
    n_channel, n_lag, n = 4, 6, 3000
    stack = (10 ** rng.uniform(-12, 6, (n_channel, n_lag, n))).astype(F)
    stack[:, :, :40] = 0.0
    stack[:, :, 40:45] = 1e-40  # subnormal
    w = rng.dirichlet(np.ones(n_lag), n_channel).astype(F)
    ec = rng.uniform(0.2, 3, n_channel).astype(F)
    slope = rng.uniform(0.5, 3, n_channel).astype(F)
    y, e, lr, ad = fused_hill.adstock_hill_kernel(stack, w, ec, slope)
    s64, w64, ec64, sl64 = (a.astype(float) for a in (stack, w, ec, slope))
    ref = _reference(s64, w64, ec64, sl64)
    np.testing.assert_allclose(y, ref, rtol=2e-5, atol=1e-6)
    assert np.all(y[:, :40] == 0.0)
    # The numpy twin (perform, JAX) gives the same values.
    np.testing.assert_allclose(fused_hill.array_forward(s64, w64, ec64, sl64)[0], ref, rtol=1e-12)
    gy = rng.normal(size=y.shape).astype(F)
    got = fused_hill.adstock_hill_grad_kernel(stack, ec, slope, y, e, lr, ad, gy)
    fwd64 = fused_hill.array_forward(s64, w64, ec64, sl64)
    want = fused_hill.array_grad(s64, ec64, sl64, *fwd64, gy.astype(float))
    for name, g, ww in zip(("w", "ec", "slope"), got, want, strict=True):
        np.testing.assert_allclose(g, ww, rtol=2e-3, atol=1e-5 * np.abs(ww).max(), err_msg=name)

    def loss(w_, ec_, sl_):
        return float((_reference(s64, w_, ec_, sl_) * gy).sum())

    eps = 1e-6
    for c in range(n_channel):
        one = np.arange(n_channel) == c
        fd_ec = (loss(w64, ec64 + eps * one, sl64) - loss(w64, ec64 - eps * one, sl64)) / 2 / eps
        fd_sl = (loss(w64, ec64, sl64 + eps * one) - loss(w64, ec64, sl64 - eps * one)) / 2 / eps
        step = np.zeros_like(w64)
        step[c, 1] = eps
        fd_w = (loss(w64 + step, ec64, sl64) - loss(w64 - step, ec64, sl64)) / 2 / eps
        np.testing.assert_allclose(
            [want[1][c], want[2][c], want[0][c, 1]], [fd_ec, fd_sl, fd_w], rtol=1e-5
        )


@pytest.mark.sampling
@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_float32_graph_uses_the_kernel_and_keeps_the_density(panel, mode, monkeypatch):
    """The float32 graph holds the fused op (on the channel-first lag stack); its log
    density and gradient equal the unfused float32 graph's, through numba (the kernel) and
    through ``perform`` (numpy)."""
    spec = bm.ModelSpec(float32=True)
    fused = bm.build_model(panel, spec)
    ops = [v.owner.op for v in ancestors([fused.logp()]) if v.owner]
    assert any(isinstance(op, fused_hill.AdstockHill) for op in ops)
    monkeypatch.setattr(response, "FUSED_HILL", False)
    plain = bm.build_model(panel, spec)
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in plain.initial_point().items()}
    lp = [m.compile_logp(mode=mode)(point) for m in (fused, plain)]
    assert lp[0] == pytest.approx(lp[1], rel=1e-6)
    grads = [m.compile_dlogp(mode=mode)(point) for m in (fused, plain)]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4 * np.abs(grads[1]).max())


def test_kernel_is_not_used_off_its_path(panel):
    """float64 graphs and mixed saturations keep the reference graph."""
    for spec in (bm.ModelSpec(), bm.ModelSpec(float32=True, saturation={"tv": "log"})):
        model = bm.build_model(panel, spec.for_channels(panel.channels))
        ops = [v.owner.op for v in ancestors([model.logp()]) if v.owner]
        assert not any(isinstance(op, fused_hill.AdstockHill) for op in ops)


@pytest.mark.sampling
def test_jax_backend_computes_the_same_density(panel):
    """``register_jax`` (what ``sampler="numpyro"`` calls for a float32 spec) gives JAX the
    two ops: the same log density and gradient as the numba kernel."""
    pytest.importorskip("jax")
    fused_hill.register_jax()
    model = bm.build_model(panel, bm.ModelSpec(float32=True))
    rng = np.random.default_rng(3)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    lp = [model.compile_logp(mode=m)(point) for m in ("JAX", "NUMBA")]
    assert lp[0] == pytest.approx(lp[1], rel=1e-6)
    grads = [model.compile_dlogp(mode=m)(point) for m in ("JAX", "NUMBA")]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4 * np.abs(grads[1]).max())
