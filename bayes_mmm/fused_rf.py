"""Reach & frequency channels as one fused float32 kernel: ``adstock(reach × hill(frequency))``.

Why. An R&F channel's response (:mod:`bayes_mmm.rf`) saturates frequency before the
adstock, so the reference graph evaluates Hill on every cell of the frequency *lag stack*
(``l_max`` × the panel's cells) with PyTensor's scalar ``log``/``exp`` loops, and then
multiplies and sums the stack. On a 40-geo weekly panel that one channel made a gradient
7× as expensive as the same panel with the channel as impressions
(``benchmarks/RF.md``). Every lag of the stack is the same series shifted by whole dates,
so this kernel saturates each (date, geo) cell once, with :mod:`bayes_mmm.fused_hill`'s
vectorised Cephes ``expf``/``logf``, and adstocks the exposure by shifted sums along the
date axis of the flat ``date·geo`` row (a shift of ``lag`` dates is ``lag · n_geo`` cells).
The forward pass keeps ``exp(-|z|)``, ``log(frequency / ec)`` and the exposure, so the
backward pass has no transcendental.

Where. Only in float32 graphs with Hill on every channel and parameters without sample
dims, the fused Hill kernel's own conditions (``response._fused_hill_applies``), sampled
by nutpie; elsewhere (numpy draws, float64 graphs, ``perform``, JAX through
:func:`register_jax`) the same function is :func:`rf.rf_unit_response`, and the fused
graph's log density and gradient match the reference graph's to float32 rounding
(``tests/test_fused_rf.py``).
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from bayes_mmm.fused_hill import KERNEL_VERSION, _array_unit, _unit, expf, logf

F = np.float32


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def rf_kernel(reach, freq, w, ec, slope, index, n_geo):
    """``adstock(reach × hill(frequency))`` of channel-first R&F rows.

    Parameters
    ----------
    reach, freq : ndarray, dims (rf_channel, date·geo), float32, C-contiguous
        Scaled reach and frequency, date-major (cell ``t · n_geo + g``); frequency is
        positive (1 where reach is 0).
    w : ndarray, dims (channel, lag)
        Adstock weights of every channel.
    ec, slope : ndarray, dims (channel,)
        Hill parameters of every channel (of frequency for the R&F ones).
    index : ndarray of int, dims (rf_channel,)
        Each R&F channel's position in ``channel``: the parameters are taken there, so
        the graph selects none (a selection and its gradient's scatter are six more ops
        to compile).
    n_geo : int

    Returns
    -------
    y, e, log_ratio, x : ndarray, dims (rf_channel, date·geo)
        The adstocked exposure (Hill normalised to 1 at frequency 1,
        ``kinds.unit_saturation``) and what :func:`rf_grad_kernel` needs: ``exp(-|z|)``,
        ``log(frequency / ec)`` and the exposure ``x = reach · hill(frequency)``.
    """
    n_channel, n = reach.shape
    n_lag = w.shape[1]
    y = np.zeros((n_channel, n), dtype=reach.dtype)
    e = np.empty_like(y)
    lr = np.empty_like(y)
    x = np.empty_like(y)
    for c in range(n_channel):
        k = index[c]
        s = slope[k]
        log_ec = logf(ec[k])
        inv_unit = F(1.0) / _unit(s, log_ec)[0]
        fc, rc, ec_, lrc, xc, yc = freq[c], reach[c], e[c], lr[c], x[c], y[c]
        for i in range(n):
            f = fc[i]
            lrc[i] = logf(f if f > F(0.0) else F(1.0)) - log_ec
        for i in range(n):
            z = s * lrc[i]
            ee = expf(-abs(z))
            r = F(1.0) / (F(1.0) + ee)
            ec_[i] = ee
            xc[i] = rc[i] * (r if z >= F(0.0) else ee * r) * inv_unit
        for lag in range(n_lag):
            shift, wl = lag * n_geo, w[k, lag]
            # slices, not ``xc[i - shift]``: an index that may look negative to numba gets a
            # wraparound check, and that loop does not vectorise (4.5× slower)
            yv, xv = yc[shift:], xc[: n - shift]
            for i in range(n - shift):
                yv[i] += wl * xv[i]
    return y, e, lr, x


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def rf_grad_kernel(reach, w, ec, slope, index, e, lr, x, gy, n_geo):
    """Vector-Jacobian product of :func:`rf_kernel`: ``(gw, gec, gslope)``, each of
    every channel's parameters (0 off ``index``).

    The exposure's cotangent is the adstock's transpose (shifted sums forward in time) of
    ``gy``; each cell passes ``reach / h(1) · dh/dz`` on, ``dh/dz`` as
    ``e / (1 + e)**2`` (accurate on both tails, see :mod:`bayes_mmm.fused_hill`), and
    the normalisation adds ``-(Σ gx·x) / h(1) · dh(1)/dθ``.
    """
    n_channel, n = reach.shape
    n_lag = w.shape[1]
    gw = np.zeros_like(w)
    gec = np.zeros_like(ec)
    gslope = np.zeros_like(slope)
    gx = np.empty(n, dtype=reach.dtype)
    for c in range(n_channel):
        k = index[c]
        s = slope[k]
        log_ec = logf(ec[k])
        unit, dunit = _unit(s, log_ec)
        inv_unit = F(1.0) / unit
        rc, ec_, lrc, xc, gc = reach[c], e[c], lr[c], x[c], gy[c]
        gx[:] = F(0.0)
        for lag in range(n_lag):
            shift, wl = lag * n_geo, w[k, lag]
            gv, gxv, xv = gc[shift:], gx[: n - shift], xc[: n - shift]
            acc = 0.0
            for i in range(n - shift):
                gxv[i] += wl * gv[i]
            for i in range(n - shift):
                acc += np.float64(gv[i] * xv[i])
            gw[k, lag] = F(acc)
        # float64 accumulators: the terms cancel (see fused_hill.adstock_hill_grad_kernel)
        acc_ec = 0.0
        acc_s = 0.0
        acc_x = 0.0
        for i in range(n):
            one_e = F(1.0) + ec_[i]
            wv = gx[i] * rc[i] * inv_unit * ec_[i] / (one_e * one_e)
            acc_x += np.float64(gx[i] * xc[i])
            acc_ec += np.float64(wv)
            acc_s += np.float64(wv * lrc[i])
        norm = -acc_x * inv_unit * dunit
        gec[k] = F(-(acc_ec + norm) * s / ec[k])
        gslope[k] = F(acc_s - norm * log_ec)
    return gw, gec, gslope


def _shift(a, shift: int, xp):
    """``a`` (dims (rf_channel, date·geo)) moved ``shift`` cells later, zeros in front."""
    if shift == 0:
        return a
    return xp.concatenate([xp.zeros_like(a[:, :shift]), a[:, :-shift]], axis=1)


def _unshift(a, shift: int, xp):
    """The transpose of :func:`_shift`: ``a`` moved ``shift`` cells earlier."""
    if shift == 0:
        return a
    return xp.concatenate([a[:, shift:], xp.zeros_like(a[:, :shift])], axis=1)


def array_forward(reach, freq, w, ec, slope, index, n_geo: int, xp=np):
    """:func:`rf_kernel` with array ops: numpy (``perform``) or ``jax.numpy``."""
    at = np.asarray(index)
    w, ec, slope = w[at], ec[at], slope[at]
    lr = xp.log(xp.where(freq > 0, freq, 1.0)) - xp.log(ec)[:, None]
    z = slope[:, None] * lr
    e = xp.exp(-xp.abs(z))
    h = xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) / _array_unit(slope, ec, xp)[0][:, None]
    x = reach * h
    y = sum(w[:, lag, None] * _shift(x, lag * n_geo, xp) for lag in range(w.shape[1]))
    dtype = reach.dtype
    return tuple(a.astype(dtype) for a in (y, e, lr, x))


def array_grad(reach, w, ec, slope, index, e, lr, x, gy, n_geo: int, xp=np):
    """:func:`rf_grad_kernel` with array ops: numpy (``perform``, float64 in the tests) or
    ``jax.numpy`` (:func:`register_jax`)."""
    at = np.asarray(index)
    onehot = (at[:, None] == np.arange(ec.shape[0])).astype(reach.dtype)  # (rf, channel)
    w, ec, slope = w[at], ec[at], slope[at]
    unit, dunit = _array_unit(slope, ec, xp)
    n_lag = w.shape[1]
    gx = sum(w[:, lag, None] * _unshift(gy, lag * n_geo, xp) for lag in range(n_lag))
    gw = xp.stack([(_unshift(gy, lag * n_geo, xp) * x).sum(axis=1) for lag in range(n_lag)], 1)
    wv = gx * reach / unit[:, None] * e / (1.0 + e) ** 2
    norm = -(gx * x).sum(axis=1) / unit * dunit
    gec = -(wv.sum(axis=1) + norm) * slope / ec
    gslope = (wv * lr).sum(axis=1) - norm * xp.log(ec)
    dtype = reach.dtype
    # back on every channel's parameters: a product with the one-hot matrix, for both xp
    gw, gec, gslope = onehot.T @ gw, onehot.T @ gec, onehot.T @ gslope
    return gw.astype(dtype), gec.astype(ec.dtype), gslope.astype(slope.dtype)


class RFAdstockHill(Op):
    """``adstock(reach × hill(frequency))`` on channel-first float32 R&F rows.

    Outputs ``(y, e, log_ratio, x)`` (:func:`rf_kernel`); only ``y`` is for the model, the
    other three are the gradient's saved values. Reach and frequency are data: they get no
    gradient. ``index`` holds the R&F channels' positions in the parameters' ``channel``.
    """

    __props__ = ("index", "n_geo")

    def __init__(self, index, n_geo: int):
        self.index = tuple(int(i) for i in index)
        self.n_geo = int(n_geo)

    def make_node(self, reach, freq, w, ec, slope):
        ins = [pt.as_tensor_variable(a) for a in (reach, freq, w, ec, slope)]
        return Apply(self, ins, [ins[0].type() for _ in range(4)])

    def perform(self, node, inputs, outputs):
        values = array_forward(*inputs, self.index, self.n_geo)
        for out, value in zip(outputs, values, strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]] * 4

    def connection_pattern(self, node):
        return [[False] * 4, [False] * 4] + [[True, False, False, False]] * 3

    def pullback(self, inputs, outputs, cotangents):
        reach, _, w, ec, slope = inputs
        _, e, lr, x = outputs
        grad = RFAdstockHillGrad(self.index, self.n_geo)
        return [
            disconnected_type(),
            disconnected_type(),
            *grad(reach, w, ec, slope, e, lr, x, cotangents[0]),
        ]


class RFAdstockHillGrad(Op):
    """The vector-Jacobian product of :class:`RFAdstockHill` (first order only)."""

    __props__ = ("index", "n_geo")

    def __init__(self, index, n_geo: int):
        self.index = tuple(int(i) for i in index)
        self.n_geo = int(n_geo)

    def make_node(self, reach, w, ec, slope, e, lr, x, gy):
        ins = [pt.as_tensor_variable(a) for a in (reach, w, ec, slope, e, lr, x, gy)]
        return Apply(self, ins, [ins[1].type(), ins[2].type(), ins[3].type()])

    def perform(self, node, inputs, outputs):
        reach, w, ec, slope, *saved = inputs
        values = array_grad(reach, w, ec, slope, self.index, *saved, self.n_geo)
        for out, value in zip(outputs, values, strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[1], shapes[2], shapes[3]]


@register_funcify_default_op_cache_key(RFAdstockHill)
def _numba_rf(op, node, **kwargs):
    index, n_geo = np.array(op.index, dtype=np.int64), op.n_geo

    @numba_basic.numba_njit
    def rf_op(reach, freq, w, ec, slope):
        return rf_kernel(
            np.ascontiguousarray(reach),
            np.ascontiguousarray(freq),
            np.ascontiguousarray(w),
            ec,
            slope,
            index,
            n_geo,
        )

    return rf_op, KERNEL_VERSION


@register_funcify_default_op_cache_key(RFAdstockHillGrad)
def _numba_rf_grad(op, node, **kwargs):
    index, n_geo = np.array(op.index, dtype=np.int64), op.n_geo

    @numba_basic.numba_njit
    def rf_grad_op(reach, w, ec, slope, e, lr, x, gy):
        return rf_grad_kernel(
            np.ascontiguousarray(reach),
            np.ascontiguousarray(w),
            ec,
            slope,
            index,
            e,
            lr,
            x,
            np.ascontiguousarray(gy),
            n_geo,
        )

    return rf_grad_op, KERNEL_VERSION


def register_jax() -> None:
    """Teach pytensor's JAX backend the two ops (``sampler="numpyro"`` on a float32 graph)."""
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(RFAdstockHill)
    def _jax_rf(op, **kwargs):
        def rf_op(reach, freq, w, ec, slope):
            return array_forward(reach, freq, w, ec, slope, op.index, op.n_geo, xp=jnp)

        return rf_op

    @jax_funcify.register(RFAdstockHillGrad)
    def _jax_rf_grad(op, **kwargs):
        def rf_grad_op(reach, w, ec, slope, e, lr, x, gy):
            return array_grad(reach, w, ec, slope, op.index, e, lr, x, gy, op.n_geo, xp=jnp)

        return rf_grad_op


def rf_channel_first(reach, freq, w, ec, slope, index, n_geo: int):
    """``adstock(reach × hill(frequency))`` in the graph, dims (rf_channel, date·geo).

    Parameters
    ----------
    reach, freq : tensor, dims (rf_channel, date·geo), float32
        Scaled reach and frequency, date-major, unlagged (the lag-0 rows of
        :class:`rf.RFDesign`'s stacks).
    w : tensor, dims (channel, lag)
        Adstock weights of every channel.
    ec, slope : tensor, dims (channel,)
    index : sequence of int, dims (rf_channel,)
        The R&F channels' positions in ``channel``.

    Same values as :func:`rf.rf_unit_response` in the channel-first layout.
    """
    dtype = reach.dtype
    cast = [pt.cast(a, dtype) for a in (freq, w, ec, slope)]
    outputs = RFAdstockHill(index, n_geo).make_node(reach, *cast).outputs
    return outputs[0]
