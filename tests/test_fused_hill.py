"""The fused float32 Hill kernel (``bayes_mmm.fused_hill``) computes ``transforms.hill``."""

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


def test_kernel_and_its_gradient_match_the_reference():
    """Values and the vector-Jacobian product against float64 numpy, with zeros (exactly 0
    out, 0 gradient), tiny carry-over values and saturated cells (x ≫ ec, where a gradient
    from ``y (1 - y)`` in float32 would be far off) among the media."""
    rng = np.random.default_rng(1)
    x = (10 ** rng.uniform(-12, 6, (4, 3000))).astype(F)
    x[:, :40] = 0.0
    x[:, 40:45] = 1e-40  # subnormal
    ec = rng.uniform(0.2, 3, 4).astype(F)
    slope = rng.uniform(0.5, 3, 4).astype(F)
    y = fused_hill.hill_kernel(x, ec, slope)
    x64, ec64, s64 = x.astype(float), ec.astype(float), slope.astype(float)
    ref = transforms.hill(x64, ec64[:, None], s64[:, None])
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=1e-7)
    assert np.all(y[:, :40] == 0.0)
    gy = rng.normal(size=x.shape).astype(F)
    got = fused_hill.hill_grad_kernel(x, ec, slope, gy)
    # The float64 reference from finite differences of transforms.hill for ec and slope.
    want = fused_hill.array_grad(x64, ec64, s64, gy.astype(float))
    assert all(np.isfinite(g).all() for g in got)
    # ∂y/∂x at a subnormal x is capped (its float32 reciprocal overflows); elsewhere exact.
    normal = np.ones(x.shape[1], bool)
    normal[40:45] = False
    got = (got[0][:, normal], *got[1:])
    want = (want[0][:, normal], *want[1:])
    for name, g, w in zip(("x", "ec", "slope"), got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=2e-3, atol=1e-5 * np.abs(w).max(), err_msg=name)
    assert np.all(got[0][:, :40] == 0.0)
    eps = 1e-6
    for c in range(4):
        step = eps * (np.arange(4) == c)
        fd = [
            (
                (transforms.hill(x64, (ec64 + step)[:, None], s64[:, None]) * gy).sum()
                - (transforms.hill(x64, (ec64 - step)[:, None], s64[:, None]) * gy).sum()
            )
            / 2
            / eps,
            (
                (transforms.hill(x64, ec64[:, None], (s64 + step)[:, None]) * gy).sum()
                - (transforms.hill(x64, ec64[:, None], (s64 - step)[:, None]) * gy).sum()
            )
            / 2
            / eps,
        ]
        np.testing.assert_allclose([want[1][c], want[2][c]], fd, rtol=1e-5)


@pytest.mark.sampling
@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_float32_graph_uses_the_kernel_and_keeps_the_density(panel, mode, monkeypatch):
    """The float32 graph holds the fused op (on the (channel, date·geo) cube) and no
    per-cell log; its log density and gradient equal the unfused float32 graph's, through
    numba (the kernel) and through ``perform`` (numpy)."""
    spec = bm.ModelSpec(float32=True)
    fused = bm.build_model(panel, spec)
    ops = [v.owner.op for v in ancestors([fused.logp()]) if v.owner]
    assert any(isinstance(op, fused_hill.HillChannelFirst) for op in ops)
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
        assert not any(isinstance(op, fused_hill.HillChannelFirst) for op in ops)


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
