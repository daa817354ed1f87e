"""Adstock and Hill saturation as one fused, vectorised kernel for float32 model graphs.

Why. On Meridian's 40-geo panel the media cube dominates a log-density gradient: the
adstock ``gemv`` and Hill's per-cell ``sigmoid(slope · log(x / ec))`` with their gradients
are about four fifths of it, the baseline, coefficients and likelihood the rest
(``benchmarks/RESULTS.md``, section 4). PyTensor's numba backend evaluates ``log`` and
``exp`` one scalar at a time (its elementwise loops index through generic strides, so LLVM
does not vectorise them, and the pip build of llvmlite has no vector maths library), and
a separate adstock op writes the adstocked cube out and reads it back in each direction.
This kernel reads the channel-first lag stack ``(channel, lag, date·geo)`` (the layout of
:func:`transforms.graph_lag_stack`) once, adstocks and saturates each cell in registers,
and computes ``exp``/``log`` with Cephes' float32 polynomials (pure arithmetic, so LLVM
vectorises the loop: 7–11× faster than libm's scalar calls here). The forward pass keeps
what the gradient needs (``exp(-|z|)``, ``log(x / ec)`` and the adstocked media), so the
backward pass has no transcendental left: one pass for the cell gradients, one
``(lag,)``-wide reduction against the stack for the adstock weights.

Where. Only in float32 graphs (``ModelSpec(float32=True)``) sampled by nutpie (the numba
backend), for channels with Hill saturation and a lag stack without a tail; see
:func:`response.media_response`. Anywhere else (numpy posterior draws, float64 graphs,
other backends through ``perform``, JAX through :func:`register_jax`) the same function is
:func:`transforms.adstock` then :func:`transforms.hill`, so the model is unchanged: the
fused graph's log density and gradient match the reference graph's to float32 rounding
(``tests/test_fused_hill.py``). The adstock weights enter as an input, so every adstock
kind (geometric, delayed, Weibull) takes this path.

Accuracy. ``expf`` and ``logf`` have a relative error below 1e-7 on their domain
(``logf`` is for positive, normal floats: the kernel only takes logs of positive media and
of ``ec``), the same order as libm's float32 functions. Sums over date·geo accumulate in
float64.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

F = np.float32
#: Bump when a kernel changes: it salts numba's cache key for the compiled graph.
KERNEL_VERSION = 10


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


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def _unit(s, log_ec):
    """``(h(1), dh(1)/dz1)`` of one channel: Hill at adstocked media 1, the normalisation,
    and its derivative in ``z1 = -slope · log(ec)``."""
    z1 = -s * log_ec
    e1 = expf(-abs(z1))
    r = F(1.0) / (F(1.0) + e1)
    return (r if z1 >= F(0.0) else e1 * r), e1 * r * r


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def hill_channel(stack_c, w_c, ec, s, yc, ec_, lrc, adc):
    """One channel of :func:`adstock_hill_kernel`: fills ``yc``, ``ec_``, ``lrc`` and
    ``adc`` (dims (date·geo,); ``adc`` zeroed) from its lag rows ``stack_c`` (dims (lag,
    date·geo)) and weights ``w_c`` (dims (lag,))."""
    n_lag, n = stack_c.shape
    log_ec = logf(ec)
    inv_unit = F(1.0) / _unit(s, log_ec)[0]
    for lag in range(n_lag):
        row, wl = stack_c[lag], w_c[lag]
        for i in range(n):
            adc[i] += row[i] * wl
    # log and exp in two loops: one loop with both vectorises worse (134 against
    # 113 µs for the whole kernel on Meridian's panel).
    for i in range(n):
        v = adc[i]
        lrc[i] = logf(v if v > F(0.0) else F(1.0)) - log_ec
    for i in range(n):
        z = s * lrc[i]
        # exp of a non-positive argument only: no overflow, exact 0 far below ec.
        ee = expf(-abs(z))
        r = F(1.0) / (F(1.0) + ee)
        pos = adc[i] > F(0.0)  # 0 media: exactly 0 out, and e = 0 passes no gradient
        yc[i] = ((r if z >= F(0.0) else ee * r) * inv_unit) if pos else F(0.0)
        ec_[i] = ee if pos else F(0.0)


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def adstock_hill_kernel(stack, w, ec, slope):
    """Hill of adstocked channel-first media.

    Parameters
    ----------
    stack : ndarray, dims (channel, lag, date·geo), float32, C-contiguous
    w : ndarray, dims (channel, lag)
        Adstock weights.
    ec, slope : ndarray, dims (channel,)

    Returns
    -------
    y, e, log_ratio, ad : ndarray, dims (channel, date·geo)
        Hill value normalised to 1 at adstocked media 1 (``kinds.unit_saturation``), and
        what :func:`adstock_hill_grad_kernel` needs: ``exp(-|z|)``, ``log(ad / ec)`` and
        the adstocked media ``ad``.
    """
    n_channel, _, n = stack.shape
    y = np.empty((n_channel, n), dtype=stack.dtype)
    e = np.empty_like(y)
    lr = np.empty_like(y)
    ad = np.zeros_like(y)
    for c in range(n_channel):
        hill_channel(stack[c], w[c], ec[c], slope[c], y[c], e[c], lr[c], ad[c])
    return y, e, lr, ad


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def hill_grad_channel(stack_c, ec, s, yc, ec_, lrc, adc, gc, gad, gw_c):
    """One channel of :func:`adstock_hill_grad_kernel`: fills ``gw_c`` (dims (lag,)) and
    returns ``(gec, gslope)``; ``gad`` (dims (date·geo,)) is scratch."""
    n_lag, n = stack_c.shape
    log_ec = logf(ec)
    unit, dunit = _unit(s, log_ec)
    inv_unit = F(1.0) / unit
    # The sums over date·geo accumulate in float64: their terms cancel, and a float32
    # sum of thousands of them loses digits.
    acc_ec = 0.0
    acc_s = 0.0
    acc_y = 0.0
    for i in range(n):
        one_e = F(1.0) + ec_[i]
        g = gc[i] * inv_unit
        wv = g * ec_[i] / (one_e * one_e)  # gy · dy/dz; 0 where ad = 0 (e = 0)
        acc_y += np.float64(gc[i] * yc[i])
        # Divide by at least the smallest normal float: 1 / a subnormal overflows to
        # inf, and fast-math may form that reciprocal (0 · inf is nan).
        gad[i] = wv * s / max(adc[i], F(1.17549435e-38))
        acc_ec += np.float64(wv)
        acc_s += np.float64(wv * lrc[i])
    # h(1) = sigmoid(z1), z1 = -slope · log(ec): dz1/dec = -slope / ec, dz1/dslope = -log(ec)
    norm = -acc_y * inv_unit * dunit
    for lag in range(n_lag):
        row = stack_c[lag]
        acc = 0.0
        for i in range(n):
            acc += np.float64(gad[i] * row[i])
        gw_c[lag] = F(acc)
    return F(-(acc_ec + norm) * s / ec), F(acc_s - norm * log_ec)


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def adstock_hill_grad_kernel(stack, ec, slope, y, e, lr, ad, gy):
    """Vector-Jacobian product of :func:`adstock_hill_kernel`: ``(gw, gec, gslope)``.

    ``y = h(ad) / h(1)``: the cells pass ``gy / h(1) · dh/dz`` on, and the normalisation
    adds ``-(Σ gy·y) / h(1) · dh(1)/dθ`` to the gradients of ``ec`` and ``slope``.

    ``dy/dz = y (1 - y)`` is computed as ``e / (1 + e)**2`` with ``e = exp(-|z|)``, which is
    accurate on both tails; ``1 - y`` from a float32 ``y`` near 1 is not (z = 15 leaves
    it ~20% off), and such an inconsistent gradient shows up as divergences.
    """
    n_channel, n_lag, n = stack.shape
    gw = np.zeros((n_channel, n_lag), dtype=stack.dtype)
    gec = np.zeros_like(ec)
    gslope = np.zeros_like(slope)
    gad = np.empty(n, dtype=stack.dtype)
    for c in range(n_channel):
        gec[c], gslope[c] = hill_grad_channel(
            stack[c], ec[c], slope[c], y[c], e[c], lr[c], ad[c], gy[c], gad, gw[c]
        )
    return gw, gec, gslope


def _array_unit(slope, ec, xp):
    """``(h(1), dh(1)/dz1)`` per channel, ``z1 = -slope · log(ec)``."""
    z1 = -slope * xp.log(ec)
    e1 = xp.exp(-xp.abs(z1))
    unit = xp.where(z1 >= 0, 1.0 / (1.0 + e1), e1 / (1.0 + e1))
    return unit, e1 / (1.0 + e1) ** 2


def array_forward(stack, w, ec, slope, xp=np):
    """:func:`adstock_hill_kernel` with array ops: numpy (``perform``) or ``jax.numpy``."""
    ad = xp.matmul(w[:, None, :], stack)[:, 0, :]
    pos = ad > 0
    log_ratio = xp.log(xp.where(pos, ad, 1.0)) - xp.log(ec)[:, None]
    z = slope[:, None] * log_ratio
    e = xp.where(pos, xp.exp(-xp.abs(z)), 0.0)
    y = xp.where(pos, xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), 0.0)
    y = y / _array_unit(slope, ec, xp)[0][:, None]
    dtype = stack.dtype
    return tuple(a.astype(dtype) for a in (y, e, log_ratio, ad))


def array_grad(stack, ec, slope, y, e, lr, ad, gy, xp=np):
    """:func:`adstock_hill_grad_kernel` with array ops: numpy (``perform``, and float64 in
    the tests) or ``jax.numpy`` (:func:`register_jax`)."""
    unit, dunit = _array_unit(slope, ec, xp)
    wv = gy / unit[:, None] * e / (1.0 + e) ** 2
    gad = wv * slope[:, None] / xp.maximum(ad, 1.17549435e-38)
    gw = xp.matmul(stack, gad[:, :, None])[:, :, 0]
    norm = -(gy * y).sum(axis=1) / unit * dunit
    gec = -(wv.sum(axis=1) + norm) * slope / ec
    gslope = (wv * lr).sum(axis=1) - norm * xp.log(ec)
    dtype = stack.dtype
    return gw.astype(dtype), gec.astype(ec.dtype), gslope.astype(slope.dtype)


class AdstockHill(Op):
    """``hill(adstock(stack, w), ec, slope)`` on a channel-first float32 lag stack.

    Outputs ``(y, e, log_ratio, ad)`` (:func:`adstock_hill_kernel`); only ``y`` is for the
    model, the other three are the gradient's saved values and are not differentiable.
    The lag stack is data: it gets no gradient.
    """

    __props__ = ()

    def make_node(self, stack, w, ec, slope):
        ins = [pt.as_tensor_variable(a) for a in (stack, w, ec, slope)]
        out = pt.tensor(dtype=ins[0].dtype, shape=(ins[0].type.shape[0], ins[0].type.shape[2]))
        return Apply(self, ins, [out.type() for _ in range(4)])

    def perform(self, node, inputs, outputs):
        for out, value in zip(outputs, array_forward(*inputs), strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        cube = (shapes[0][0], shapes[0][2])
        return [cube] * 4

    def connection_pattern(self, node):
        # y depends on w, ec and slope; the stack is data and the saved values are not
        # differentiable outputs.
        return [
            [False] * 4,
            [True, False, False, False],
            [True, False, False, False],
            [True, False, False, False],
        ]

    def pullback(self, inputs, outputs, cotangents):
        stack, _, ec, slope = inputs
        y, e, lr, ad = outputs
        gw, gec, gslope = AdstockHillGrad()(stack, ec, slope, y, e, lr, ad, cotangents[0])
        return [disconnected_type(), gw, gec, gslope]


class AdstockHillGrad(Op):
    """The vector-Jacobian product of :class:`AdstockHill` (first order only)."""

    __props__ = ()

    def make_node(self, stack, ec, slope, y, e, lr, ad, gy):
        ins = [pt.as_tensor_variable(a) for a in (stack, ec, slope, y, e, lr, ad, gy)]
        gw = pt.tensor(dtype=ins[0].dtype, shape=(ins[0].type.shape[0], ins[0].type.shape[1]))
        return Apply(self, ins, [gw.type(), ins[1].type(), ins[2].type()])

    def perform(self, node, inputs, outputs):
        for out, value in zip(outputs, array_grad(*inputs), strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [(shapes[0][0], shapes[0][1]), shapes[1], shapes[2]]


@register_funcify_default_op_cache_key(AdstockHill)
def _numba_adstock_hill(op, node, **kwargs):
    @numba_basic.numba_njit
    def adstock_hill_op(stack, w, ec, slope):
        return adstock_hill_kernel(np.ascontiguousarray(stack), np.ascontiguousarray(w), ec, slope)

    return adstock_hill_op, KERNEL_VERSION


@register_funcify_default_op_cache_key(AdstockHillGrad)
def _numba_adstock_hill_grad(op, node, **kwargs):
    @numba_basic.numba_njit
    def adstock_hill_grad_op(stack, ec, slope, y, e, lr, ad, gy):
        return adstock_hill_grad_kernel(
            np.ascontiguousarray(stack), ec, slope, y, e, lr, ad, np.ascontiguousarray(gy)
        )

    return adstock_hill_grad_op, KERNEL_VERSION


def register_jax() -> None:
    """Teach pytensor's JAX backend the two ops (``sampler="numpyro"`` on a float32 graph)."""
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(AdstockHill)
    def _jax_adstock_hill(op, **kwargs):
        def adstock_hill_op(stack, w, ec, slope):
            return array_forward(stack, w, ec, slope, xp=jnp)

        return adstock_hill_op

    @jax_funcify.register(AdstockHillGrad)
    def _jax_adstock_hill_grad(op, **kwargs):
        def adstock_hill_grad_op(stack, ec, slope, y, e, lr, ad, gy):
            return array_grad(stack, ec, slope, y, e, lr, ad, gy, xp=jnp)

        return adstock_hill_grad_op


_ADSTOCK_HILL = AdstockHill()


def adstock_hill_channel_first(stack, w, ec, slope):
    """Hill of adstocked media, normalised to 1 at 1, in the graph: dims (channel, date·geo).

    Parameters
    ----------
    stack : tensor, dims (channel, lag, date·geo), float32
        The channel-first lag stack (:func:`transforms.graph_lag_stack`'s shared input).
    w : tensor, dims (channel, lag)
        Adstock weights.
    ec, slope : tensor, dims (channel,)

    Same values as ``kinds.unit_saturation("hill", transforms.adstock_channel_first(...),
    ...)``.
    """
    dtype = stack.dtype
    cast = [pt.cast(a, dtype) for a in (w, ec, slope)]
    return _ADSTOCK_HILL(stack, *cast)[0]
