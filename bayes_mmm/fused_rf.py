"""A float32 graph's media response with reach & frequency channels, as one fused kernel.

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

One op for every channel. The impressions channels go through the same kernel, one
channel at a time (:func:`fused_hill.hill_channel`), so the graph holds one op and its
gradient op in place of two of each plus the join, gather, split and gradient scatters
that would put two ops' channels back in order. Each node is a function that nutpie's
compile types and lowers in every new process: the R&F graph's compile is about that of
the same panel with the channel as impressions (``benchmarks/RF.md``).

Where. Only in float32 graphs with Hill on every channel and parameters without sample
dims, the fused Hill kernel's own conditions (``response._fused_hill_applies``), sampled
by nutpie; elsewhere (numpy draws, float64 graphs, ``perform``, JAX through
:func:`register_jax`) the same function is :func:`rf.rf_unit_response` beside Hill of the
adstocked media, and the fused graph's log density and gradient match the reference
graph's to float32 rounding (``tests/test_fused_rf.py``).
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

from bayes_mmm import fused_hill
from bayes_mmm.fused_hill import (
    KERNEL_VERSION,
    _array_unit,
    _unit,
    expf,
    hill_channel,
    hill_grad_channel,
    logf,
)

F = np.float32


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def rf_channel(rc, fc, w_k, ec, s, n_geo, yc, ec_, lrc, xc):
    """One R&F channel of :func:`media_kernel`: fills ``yc`` (zeroed), ``ec_``, ``lrc``
    and ``xc`` (dims (date·geo,)) from its reach ``rc`` and frequency ``fc`` rows and
    adstock weights ``w_k`` (dims (lag,))."""
    n = rc.shape[0]
    log_ec = logf(ec)
    inv_unit = F(1.0) / _unit(s, log_ec)[0]
    for i in range(n):
        f = fc[i]
        lrc[i] = logf(f if f > F(0.0) else F(1.0)) - log_ec
    for i in range(n):
        z = s * lrc[i]
        ee = expf(-abs(z))
        r = F(1.0) / (F(1.0) + ee)
        ec_[i] = ee
        xc[i] = rc[i] * (r if z >= F(0.0) else ee * r) * inv_unit
    for lag in range(w_k.shape[0]):
        shift, wl = lag * n_geo, w_k[lag]
        # slices, not ``xc[i - shift]``: an index that may look negative to numba gets a
        # wraparound check, and that loop does not vectorise (4.5× slower)
        yv, xv = yc[shift:], xc[: n - shift]
        for i in range(n - shift):
            yv[i] += wl * xv[i]


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def rf_grad_channel(rc, ec, s, ec_, lrc, xc, gc, gx, w_k, gw_k, n_geo):
    """One R&F channel of :func:`media_grad_kernel`: fills ``gw_k`` (dims (lag,)) and
    returns ``(gec, gslope)``; ``gx`` (dims (date·geo,)) is scratch.

    The exposure's cotangent is the adstock's transpose (shifted sums forward in time) of
    ``gy``; each cell passes ``reach / h(1) · dh/dz`` on, ``dh/dz`` as
    ``e / (1 + e)**2`` (accurate on both tails, see :mod:`bayes_mmm.fused_hill`), and
    the normalisation adds ``-(Σ gx·x) / h(1) · dh(1)/dθ``.
    """
    n = rc.shape[0]
    log_ec = logf(ec)
    unit, dunit = _unit(s, log_ec)
    inv_unit = F(1.0) / unit
    gx[:] = F(0.0)
    for lag in range(w_k.shape[0]):
        shift, wl = lag * n_geo, w_k[lag]
        gv, gxv, xv = gc[shift:], gx[: n - shift], xc[: n - shift]
        acc = 0.0
        for i in range(n - shift):
            gxv[i] += wl * gv[i]
        for i in range(n - shift):
            acc += np.float64(gv[i] * xv[i])
        gw_k[lag] = F(acc)
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
    return F(-(acc_ec + norm) * s / ec), F(acc_s - norm * log_ec)


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def media_kernel(packed, w, ec, slope, slot, n_geo):
    """Every channel's unit response: Hill of adstocked media for the impressions
    channels (:func:`fused_hill.hill_channel`), ``adstock(reach × hill(frequency))`` for
    the R&F ones (:func:`rf_channel`).

    Parameters
    ----------
    packed : ndarray, dims (channel + rf_channel, lag, date·geo), float32, C-contiguous
        The channel-first media lag stack, then the R&F channels' frequency lag stacks
        (:class:`rf.RFDesign`'s ``packed``): an R&F channel ``c`` reads its reach from
        ``packed[c, 0]`` and its frequency from ``packed[channel + slot[c], 0]``, both
        scaled and date-major (cell ``t · n_geo + g``; frequency 1 where reach is 0).
    w : ndarray, dims (channel, lag)
        Adstock weights.
    ec, slope : ndarray, dims (channel,)
        Hill parameters (of frequency for the R&F channels).
    slot : ndarray of int, dims (channel,)
        Each channel's R&F position, -1 for an impressions channel.
    n_geo : int

    Returns
    -------
    y, e, log_ratio, ad : ndarray, dims (channel, date·geo)
        The unit response (normalised to 1 at media or frequency 1,
        ``kinds.unit_saturation``) and what :func:`media_grad_kernel` needs:
        ``exp(-|z|)``, the log ratio to ``ec`` and the adstocked media (impressions) or
        the exposure ``reach · hill(frequency)`` (R&F).
    """
    n_channel = w.shape[0]
    n = packed.shape[2]
    y = np.zeros((n_channel, n), dtype=packed.dtype)
    e = np.empty_like(y)
    lr = np.empty_like(y)
    ad = np.zeros_like(y)
    for c in range(n_channel):
        j = slot[c]
        if j < 0:
            hill_channel(packed[c], w[c], ec[c], slope[c], y[c], e[c], lr[c], ad[c])
        else:
            reach, freq = packed[c, 0], packed[n_channel + j, 0]
            rf_channel(reach, freq, w[c], ec[c], slope[c], n_geo, y[c], e[c], lr[c], ad[c])
    return y, e, lr, ad


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def media_grad_kernel(packed, w, ec, slope, slot, y, e, lr, ad, gy, n_geo):
    """Vector-Jacobian product of :func:`media_kernel`: ``(gw, gec, gslope)``."""
    n_channel, n_lag = w.shape
    gw = np.zeros((n_channel, n_lag), dtype=packed.dtype)
    gec = np.zeros_like(ec)
    gslope = np.zeros_like(slope)
    scratch = np.empty(packed.shape[2], dtype=packed.dtype)
    for c in range(n_channel):
        if slot[c] < 0:
            gec[c], gslope[c] = hill_grad_channel(
                packed[c], ec[c], slope[c], y[c], e[c], lr[c], ad[c], gy[c], scratch, gw[c]
            )
        else:
            gec[c], gslope[c] = rf_grad_channel(
                packed[c, 0],
                ec[c],
                slope[c],
                e[c],
                lr[c],
                ad[c],
                gy[c],
                scratch,
                w[c],
                gw[c],
                n_geo,
            )
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


def rf_array_forward(reach, freq, w, ec, slope, index, n_geo: int, xp=np):
    """The R&F channels of :func:`media_kernel` with array ops, dims (rf_channel,
    date·geo) each: numpy (``perform``) or ``jax.numpy``."""
    at = np.asarray(index)
    w, ec, slope = w[at], ec[at], slope[at]
    lr = xp.log(xp.where(freq > 0, freq, 1.0)) - xp.log(ec)[:, None]
    z = slope[:, None] * lr
    e = xp.exp(-xp.abs(z))
    h = xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) / _array_unit(slope, ec, xp)[0][:, None]
    x = reach * h
    y = sum(w[:, lag, None] * _shift(x, lag * n_geo, xp) for lag in range(w.shape[1]))
    return y, e, lr, x


def rf_array_grad(reach, w, ec, slope, index, e, lr, x, gy, n_geo: int, xp=np):
    """The R&F channels of :func:`media_grad_kernel` with array ops: ``(gw, gec,
    gslope)`` of the R&F channels only, dims (rf_channel, ...)."""
    at = np.asarray(index)
    w, ec, slope = w[at], ec[at], slope[at]
    unit, dunit = _array_unit(slope, ec, xp)
    n_lag = w.shape[1]
    gx = sum(w[:, lag, None] * _unshift(gy, lag * n_geo, xp) for lag in range(n_lag))
    gw = xp.stack([(_unshift(gy, lag * n_geo, xp) * x).sum(axis=1) for lag in range(n_lag)], 1)
    wv = gx * reach / unit[:, None] * e / (1.0 + e) ** 2
    norm = -(gx * x).sum(axis=1) / unit * dunit
    gec = -(wv.sum(axis=1) + norm) * slope / ec
    gslope = (wv * lr).sum(axis=1) - norm * xp.log(ec)
    return gw, gec, gslope


def _place(whole, rows, index, xp):
    """``whole`` (dims (channel, ...)) with row ``index[j]`` replaced by ``rows[j]``."""
    at = {int(c): j for j, c in enumerate(index)}
    return xp.stack([rows[at[c]] if c in at else whole[c] for c in range(whole.shape[0])])


def _split(packed, index, n_channel: int):
    """The media stack and the R&F reach and frequency rows of a ``packed`` input."""
    return packed[:n_channel], packed[np.asarray(index), 0], packed[n_channel:, 0]


def array_forward(packed, w, ec, slope, index, n_geo: int, xp=np):
    """:func:`media_kernel` with array ops: numpy (``perform``) or ``jax.numpy``."""
    stack, reach, freq = _split(packed, index, w.shape[0])
    hill = fused_hill.array_forward(stack, w, ec, slope, xp)
    rf = rf_array_forward(reach, freq, w, ec, slope, index, n_geo, xp)
    dtype = packed.dtype
    return tuple(_place(h, r, index, xp).astype(dtype) for h, r in zip(hill, rf, strict=True))


def array_grad(packed, w, ec, slope, index, y, e, lr, ad, gy, n_geo: int, xp=np):
    """:func:`media_grad_kernel` with array ops: numpy (``perform``, float64 in the tests)
    or ``jax.numpy`` (:func:`register_jax`)."""
    stack, reach, _ = _split(packed, index, w.shape[0])
    hill = fused_hill.array_grad(stack, ec, slope, y, e, lr, ad, gy, xp)
    at = np.asarray(index)
    rf = rf_array_grad(reach, w, ec, slope, index, e[at], lr[at], ad[at], gy[at], n_geo, xp)
    return tuple(
        _place(h, r, index, xp).astype(p.dtype)
        for h, r, p in zip(hill, rf, (w, ec, slope), strict=True)
    )


class MediaAdstockHill(Op):
    """Every channel's unit response from the packed float32 input (:func:`media_kernel`):
    the impressions channels from the media lag stack, the R&F channels (at ``index``) from
    their reach and frequency rows.

    Outputs ``(y, e, log_ratio, ad)``; only ``y`` is for the model, the other three are
    the gradient's saved values. The packed input is data: it gets no gradient.
    """

    __props__ = ("index", "n_geo")

    def __init__(self, index, n_geo: int):
        self.index = tuple(int(i) for i in index)
        self.n_geo = int(n_geo)

    def make_node(self, packed, w, ec, slope):
        ins = [pt.as_tensor_variable(a) for a in (packed, w, ec, slope)]
        out = pt.tensor(dtype=ins[0].dtype, shape=(ins[1].type.shape[0], ins[0].type.shape[2]))
        return Apply(self, ins, [out.type() for _ in range(4)])

    def perform(self, node, inputs, outputs):
        values = array_forward(*inputs, self.index, self.n_geo)
        for out, value in zip(outputs, values, strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [(shapes[1][0], shapes[0][2])] * 4

    def connection_pattern(self, node):
        return [[False] * 4] + [[True, False, False, False]] * 3

    def pullback(self, inputs, outputs, cotangents):
        packed, w, ec, slope = inputs
        grad = MediaAdstockHillGrad(self.index, self.n_geo)
        return [disconnected_type(), *grad(packed, w, ec, slope, *outputs, cotangents[0])]


class MediaAdstockHillGrad(Op):
    """The vector-Jacobian product of :class:`MediaAdstockHill` (first order only)."""

    __props__ = ("index", "n_geo")

    def __init__(self, index, n_geo: int):
        self.index = tuple(int(i) for i in index)
        self.n_geo = int(n_geo)

    def make_node(self, packed, w, ec, slope, y, e, lr, ad, gy):
        ins = [pt.as_tensor_variable(a) for a in (packed, w, ec, slope, y, e, lr, ad, gy)]
        return Apply(self, ins, [ins[1].type(), ins[2].type(), ins[3].type()])

    def perform(self, node, inputs, outputs):
        packed, w, ec, slope, *saved = inputs
        values = array_grad(packed, w, ec, slope, self.index, *saved, self.n_geo)
        for out, value in zip(outputs, values, strict=True):
            out[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[1], shapes[2], shapes[3]]


@numba.njit(cache=True)
def _slots(n_channel, index):
    """Each channel's R&F position, -1 for an impressions channel (:func:`media_kernel`)."""
    slot = np.full(n_channel, -1, dtype=np.int64)
    for j in range(index.shape[0]):
        slot[index[j]] = j
    return slot


@register_funcify_default_op_cache_key(MediaAdstockHill)
def _numba_media(op, node, **kwargs):
    index, n_geo = np.array(op.index, dtype=np.int64), op.n_geo

    @numba_basic.numba_njit
    def media_op(packed, w, ec, slope):
        w = np.ascontiguousarray(w)
        slot = _slots(w.shape[0], index)
        return media_kernel(np.ascontiguousarray(packed), w, ec, slope, slot, n_geo)

    return media_op, KERNEL_VERSION


@register_funcify_default_op_cache_key(MediaAdstockHillGrad)
def _numba_media_grad(op, node, **kwargs):
    index, n_geo = np.array(op.index, dtype=np.int64), op.n_geo

    @numba_basic.numba_njit
    def media_grad_op(packed, w, ec, slope, y, e, lr, ad, gy):
        w = np.ascontiguousarray(w)
        slot = _slots(w.shape[0], index)
        gy = np.ascontiguousarray(gy)
        return media_grad_kernel(
            np.ascontiguousarray(packed), w, ec, slope, slot, y, e, lr, ad, gy, n_geo
        )

    return media_grad_op, KERNEL_VERSION


def register_jax() -> None:
    """Teach pytensor's JAX backend the two ops (``sampler="numpyro"`` on a float32 graph)."""
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(MediaAdstockHill)
    def _jax_media(op, **kwargs):
        def media_op(packed, w, ec, slope):
            return array_forward(packed, w, ec, slope, op.index, op.n_geo, xp=jnp)

        return media_op

    @jax_funcify.register(MediaAdstockHillGrad)
    def _jax_media_grad(op, **kwargs):
        def media_grad_op(packed, w, ec, slope, y, e, lr, ad, gy):
            args = (packed, w, ec, slope, op.index, y, e, lr, ad, gy, op.n_geo)
            return array_grad(*args, xp=jnp)

        return media_grad_op


def media_channel_first(packed, w, ec, slope, index, n_geo: int):
    """Every channel's unit response in the graph, dims (channel, date·geo).

    Parameters
    ----------
    packed : tensor, dims (channel + rf_channel, lag, date·geo), float32
        :class:`rf.RFDesign`'s ``packed`` input (see :func:`media_kernel`).
    w : tensor, dims (channel, lag)
        Adstock weights.
    ec, slope : tensor, dims (channel,)
    index : sequence of int, dims (rf_channel,)
        The R&F channels' positions in ``channel``.

    Same values as ``merge_rf`` of ``unit_saturation("hill", adstock(...))`` and
    :func:`rf.rf_unit_response`, in the channel-first layout.
    """
    dtype = packed.dtype
    cast = [pt.cast(a, dtype) for a in (w, ec, slope)]
    return MediaAdstockHill(index, n_geo).make_node(packed, *cast).outputs[0]
