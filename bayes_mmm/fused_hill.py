"""Hill saturation as one fused, vectorised kernel for float32 model graphs.

Why. On Meridian's 40-geo panel the per-cell ``log`` and ``exp`` of Hill's
``sigmoid(slope · log(x / ec))`` are two thirds of a log-density gradient: 723–729 µs with
them, 250–272 µs with ``x / (x + ec)`` in their place (``benchmarks/bench_gradient.py
--float32 --unfused [--rational-hill]``; ``benchmarks/RESULTS.md``, section 4). PyTensor's
numba backend evaluates them one scalar at a time: its elementwise loops index through
generic strides, so LLVM does not vectorise them, and the pip build of llvmlite has no
vector maths library. This kernel reads the adstocked media
channel-first, ``(channel, date·geo)``, as :func:`transforms.adstock` produces them, runs one
contiguous loop per channel, and computes ``exp``/``log`` with Cephes' float32 polynomials
(pure arithmetic, so LLVM vectorises the loop: 7–11× faster than libm's scalar calls here).

Where. Only in float32 graphs (``ModelSpec(float32=True)``) sampled by nutpie (the numba
backend), for channels with Hill saturation; see :func:`response.media_response`. Anywhere
else (numpy posterior draws, float64 graphs, other backends through ``perform``, JAX through
:func:`register_jax`) the same function is :func:`transforms.hill`, so the model is
unchanged: the fused graph's log density and gradient match the reference graph's to
float32 rounding (``tests/test_fused_hill.py``).

Accuracy. ``expf`` and ``logf`` have a relative error below 1e-7 on their domain
(``logf`` is for positive, normal floats: the kernel only takes logs of positive media and
of ``ec``), the same order as libm's float32 functions.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from bayes_mmm import transforms

F = np.float32
#: Bump when a kernel changes: it salts numba's cache key for the compiled graph.
KERNEL_VERSION = 3


@intrinsic
def _int_to_float(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _float_to_int(typingctx, f):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def expf(x):
    """Cephes ``expf``: ``x = n·ln 2 + r``; ``exp(r)`` by a polynomial, ``2**n`` by bits.

    0 below -87.3 (where float32 ``exp`` leaves the normal range), capped above 88.7.
    """
    tiny = x < F(-87.33654)
    x = min(max(x, F(-87.33654)), F(88.72283))
    n = np.floor(x * F(1.44269504088896341) + F(0.5))
    r = x - n * F(0.693359375) + n * F(2.12194440e-4)
    z = r * r
    p = F(1.9875691500e-4)
    p = p * r + F(1.3981999507e-3)
    p = p * r + F(8.3334519073e-3)
    p = p * r + F(4.1665795894e-2)
    p = p * r + F(1.6666665459e-1)
    p = p * r + F(5.0000001201e-1)
    p = p * z + r + F(1.0)
    p = p * _int_to_float((np.int32(n) + np.int32(127)) << np.int32(23))
    return F(0.0) if tiny else p


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def logf(x):
    """Cephes ``logf`` for positive ``x``: ``x = m·2**e``, ``m`` in [√½, √2).

    Subnormal ``x`` (below 2**-126, e.g. a small channel's carryover many weeks out) are
    scaled by 2**25 first: their exponent bits are 0, and a wrong log there would make the
    gradient ``∂y/∂x ∝ y / x`` inconsistent with the value.
    """
    sub = x < F(1.17549435e-38)
    x = x * F(33554432.0) if sub else x
    bits = _float_to_int(x)
    e = ((bits >> np.int32(23)) & np.int32(0xFF)) - np.int32(126)
    e = e - np.int32(25) * np.int32(sub)
    m = _int_to_float((bits & np.int32(0x007FFFFF)) | np.int32(0x3F000000))  # [0.5, 1)
    small = m < F(0.707106781186547524)
    e = e - np.int32(small)
    m = m + m * F(small) - F(1.0)
    z = m * m
    y = F(7.0376836292e-2)
    y = y * m - F(1.1514610310e-1)
    y = y * m + F(1.1676998740e-1)
    y = y * m - F(1.2420140846e-1)
    y = y * m + F(1.4249322787e-1)
    y = y * m - F(1.6668057665e-1)
    y = y * m + F(2.0000714765e-1)
    y = y * m - F(2.4999993993e-1)
    y = y * m + F(3.3333331174e-1)
    y = y * m * z
    fe = F(e)
    y = y + fe * F(-2.12194440e-4) - F(0.5) * z
    return m + y + fe * F(0.693359375)


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def hill_kernel(x, ec, slope):
    """Hill of channel-first media: ``x`` (channel, n) float32, ``ec``/``slope`` (channel,)."""
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        s = slope[c]
        shift = s * logf(ec[c])
        xc, oc = x[c], out[c]
        for i in range(xc.shape[0]):
            v = xc[i]
            pos = v > F(0.0)
            z = s * logf(v if pos else F(1.0)) - shift
            # exp of a non-positive argument only: no overflow, exact 0 far below ec.
            e = expf(-abs(z))
            y = F(1.0) / (F(1.0) + e) if z >= F(0.0) else e / (F(1.0) + e)
            oc[i] = y if pos else F(0.0)
    return out


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def hill_grad_kernel(x, ec, slope, gy):
    """Vector-Jacobian product of :func:`hill_kernel`: ``(gx, gec, gslope)``.

    ``dy/dz = y (1 - y)`` is computed as ``e / (1 + e)**2`` with ``e = exp(-|z|)``, which is
    accurate on both tails; ``1 - y`` from a float32 ``y`` near 1 is not (z = 15 leaves
    it ~20% off), and such an inconsistent gradient shows up as divergences.
    """
    gx = np.empty_like(x)
    gec = np.zeros_like(ec)
    gslope = np.zeros_like(slope)
    for c in range(x.shape[0]):
        s = slope[c]
        log_ec = logf(ec[c])
        xc, gc, gxc = x[c], gy[c], gx[c]
        # The two sums over date·geo accumulate in float64: their terms cancel, and a float32
        # sum of thousands of them loses digits.
        acc_ec = 0.0
        acc_s = 0.0
        for i in range(xc.shape[0]):
            v = xc[i]
            pos = v > F(0.0)
            safe = v if pos else F(1.0)
            log_ratio = logf(safe) - log_ec
            e = expf(-abs(s * log_ratio))
            one_e = F(1.0) + e
            w = gc[i] * e / (one_e * one_e) if pos else F(0.0)  # gy · dy/dz; 0 at x = 0
            # Divide by at least the smallest normal float: 1 / a subnormal overflows to inf,
            # and fast-math may form that reciprocal (0 · inf is nan).
            gxc[i] = w * s / max(safe, F(1.17549435e-38))
            acc_ec += np.float64(w)
            acc_s += np.float64(w * log_ratio)
        gec[c] = F(-acc_ec * s / ec[c])
        gslope[c] = F(acc_s)
    return gx, gec, gslope


def array_grad(x, ec, slope, gy, xp=np):
    """:func:`hill_grad_kernel` with array ops: numpy (``perform``, and float64 in the
    tests) or ``jax.numpy`` (:func:`register_jax`)."""
    pos = x > 0
    safe = xp.where(pos, x, 1.0)
    log_ratio = xp.log(safe) - xp.log(ec)[:, None]
    e = xp.exp(-xp.abs(slope[:, None] * log_ratio))
    w = xp.where(pos, gy * e / (1.0 + e) ** 2, 0.0)
    gx = w * slope[:, None] / safe
    gec = -(w.sum(axis=1)) * slope / ec
    gslope = (w * log_ratio).sum(axis=1)
    return gx.astype(x.dtype), gec.astype(ec.dtype), gslope.astype(slope.dtype)


class HillChannelFirst(Op):
    """``y[c, i] = hill(x[c, i], ec[c], slope[c])`` on channel-first float32 media."""

    __props__ = ()

    def make_node(self, x, ec, slope):
        x, ec, slope = (pt.as_tensor_variable(a) for a in (x, ec, slope))
        return Apply(self, [x, ec, slope], [x.type()])

    def perform(self, node, inputs, outputs):
        x, ec, slope = inputs
        outputs[0][0] = transforms.hill(x, ec[:, None], slope[:, None]).astype(x.dtype)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        return list(HillChannelFirstGrad()(*inputs, cotangents[0]))


class HillChannelFirstGrad(Op):
    """The vector-Jacobian product of :class:`HillChannelFirst` (first order only)."""

    __props__ = ()

    def make_node(self, x, ec, slope, gy):
        ins = [pt.as_tensor_variable(a) for a in (x, ec, slope, gy)]
        return Apply(self, ins, [ins[0].type(), ins[1].type(), ins[2].type()])

    def perform(self, node, inputs, outputs):
        for out, value in zip(outputs, array_grad(*inputs), strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], shapes[1], shapes[2]]


@register_funcify_default_op_cache_key(HillChannelFirst)
def _numba_hill(op, node, **kwargs):
    @numba_basic.numba_njit
    def hill_op(x, ec, slope):
        return hill_kernel(np.ascontiguousarray(x), ec, slope)

    return hill_op, KERNEL_VERSION


@register_funcify_default_op_cache_key(HillChannelFirstGrad)
def _numba_hill_grad(op, node, **kwargs):
    @numba_basic.numba_njit
    def hill_grad_op(x, ec, slope, gy):
        return hill_grad_kernel(np.ascontiguousarray(x), ec, slope, np.ascontiguousarray(gy))

    return hill_grad_op, KERNEL_VERSION


def register_jax() -> None:
    """Teach pytensor's JAX backend the two ops (``sampler="numpyro"`` on a float32 graph)."""
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(HillChannelFirst)
    def _jax_hill(op, **kwargs):
        def hill_op(x, ec, slope):  # transforms.hill runs on JAX arrays as it does on numpy
            return transforms.hill(x, ec[:, None], slope[:, None]).astype(x.dtype)

        return hill_op

    @jax_funcify.register(HillChannelFirstGrad)
    def _jax_hill_grad(op, **kwargs):
        def hill_grad_op(x, ec, slope, gy):
            return array_grad(x, ec, slope, gy, xp=jnp)

        return hill_grad_op


_HILL = HillChannelFirst()


def hill_channel_first(x, ec, slope):
    """Hill of channel-first media in the graph: ``x`` dims (channel, date·geo) float32,
    ``ec`` and ``slope`` dims (channel,). Same values as :func:`transforms.hill`."""
    return _HILL(x, pt.cast(ec, x.dtype), pt.cast(slope, x.dtype))
