"""Media transforms written once for numpy (posterior draws) and pytensor (inside the model).

Every function picks its array namespace from its arguments: pass pytensor tensors and it
builds graph nodes, pass numpy arrays and it computes. ``tests/test_transforms.py`` checks
that the two agree to 1e-10.

Adstock is data-parallel: the lag stack of media (``lag_stack``) is data, computed once,
and adstock is a weighted sum over its lag axis (one matrix-vector product per channel),
so the model needs no ``scan`` and its gradient is one more product per channel.

The registry of kinds (``bayes_mmm.kinds``) names these functions and dispatches on a
kind's name.

Shapes: leading ``...`` dims are sample dims (``chain``/``draw`` flattened, or nothing
inside the model); media arrays end in ``(date, geo, channel)``.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from scipy.special import expit


def xp_of(*arrays):
    """The array namespace for ``arrays``: ``pytensor.tensor`` if any is symbolic,
    ``jax.numpy`` for JAX arrays (the fused ops' JAX backend, ``fused_hill.register_jax``),
    else numpy."""
    if any(isinstance(a, Variable) for a in arrays):
        return pt
    if any(_is_jax(a) for a in arrays):
        import jax.numpy as jnp

        return jnp
    return np


def _is_jax(a) -> bool:
    """A JAX array or tracer, recognised without importing JAX."""
    return type(a).__module__.startswith("jax")


def static_shape(a) -> tuple:
    """The shape of an array or the static shape of a tensor (shared data has one)."""
    return a.type.shape if isinstance(a, Variable) else np.shape(a)


def graph_data(values, name: str | None = None, dtype=None):
    """Data for a model graph: a pytensor shared variable with a static shape.

    Data enter the graph as shared inputs, not constants: numba bakes constants into the
    compiled code (and into its cache key), and treats one over 1 MB as a "dynamic global",
    which makes the whole compiled graph uncacheable. As inputs, a compiled graph is reused
    from numba's disk cache by every later fit of the same model and shapes, whatever the
    data (cross-validation folds, simulation runs, markets), and the static shape keeps
    pytensor's shape-specialised rewrites.
    """
    arr = np.ascontiguousarray(values, dtype=dtype or np.result_type(values, float))
    return pytensor.shared(arr, shape=arr.shape, name=name)


def lag_major(stack) -> bool:
    """Whether a lag stack's channel-first layout is ``(channel, lag, date·geo)`` (float32,
    the fused kernel's, :mod:`bayes_mmm.fused_hill`) rather than ``(channel, date·geo,
    lag)`` (float64). The float64 layout's ``gemv`` sums each cell's lags in the same order
    as ever, so float64 fits (every panel under ``spec.FLOAT32_GEOS`` geos) keep their
    draws to the last bit."""
    return getattr(stack, "dtype", None) == "float32"


def graph_lag_stack(stack: np.ndarray):
    """A lag stack (dims (lag, date, geo, channel)) as graph data for :func:`adstock`.

    One shared input (:func:`graph_data`) in a contiguous channel-first layout that adstock
    multiplies with (:func:`lag_major`): ``(channel, date·geo, lag)`` in float64 (~35%
    faster than a strided one), ``(channel, lag, date·geo)`` in float32, where each lag of a
    channel is one contiguous row that the fused kernel reads in a vectorised loop. It is
    viewed back as ``(lag, date, geo, channel)``. Every adstock of the view in a graph reads
    the same input, so pytensor merges their common work (the mediator equation reuses the
    target equation's adstock).
    """
    n_lag, n_date, n_geo, n_channel = stack.shape
    if lag_major(stack):
        return graph_lag_stacks([stack])[1][0]
    by_channel = graph_data(
        np.transpose(stack, (3, 1, 2, 0)).reshape(n_channel, n_date * n_geo, n_lag),
        dtype=stack.dtype,
    )
    return by_channel.reshape((n_channel, n_date, n_geo, n_lag)).transpose(3, 1, 2, 0)


def graph_lag_stacks(stacks: list[np.ndarray]):
    """Float32 lag stacks (each dims (lag, date, geo, channel), one date and geo grid) as
    one shared input, and a :func:`graph_lag_stack` view of each.

    The input is the stacks' channel-first layouts one after the other, dims (channel
    summed over the stacks, lag, date·geo): one input rather than several, because each
    shared input costs the sampler's compiled wrapper its own extraction and shape check
    (:func:`graph_data_pack`).

    Returns
    -------
    shared : tensor, dims (channel + ..., lag, date·geo)
    views : list of tensor, each dims (lag, date, geo, channel)
    """
    n_lag, n_date, n_geo, _ = stacks[0].shape
    parts = [np.transpose(s, (3, 0, 1, 2)).reshape(-1, n_lag, n_date * n_geo) for s in stacks]
    shared = graph_data(np.concatenate(parts), dtype=stacks[0].dtype)
    views, start = [], 0
    for s in stacks:
        n = s.shape[-1]
        part = shared if len(stacks) == 1 else shared[start : start + n]
        views.append(part.reshape((n, n_lag, n_date, n_geo)).transpose(1, 2, 3, 0))
        start += n
    return shared, views


def graph_data_pack(arrays: dict, name: str) -> dict:
    """Several float64 arrays as slices of one shared vector (see :func:`graph_data`).

    Each shared input costs the sampler's compiled wrapper ~1 s of compile (nutpie builds
    an extraction and a shape check per input), so the model's small data travel together.

    Returns
    -------
    dict
        Name → tensor of the array's shape (a reshaped slice of the pack).
    """
    flat = [np.ravel(np.asarray(a, dtype=float)) for a in arrays.values()]
    pack = graph_data(np.concatenate(flat) if flat else np.zeros(0), name)
    out, start = {}, 0
    for (key, a), f in zip(arrays.items(), flat, strict=True):
        out[key] = pack[start : start + f.size].reshape(np.shape(a))
        start += f.size
    return out


def _sigmoid(z):
    """Overflow-free logistic function for any backend (pytensor, JAX, numpy)."""
    if isinstance(z, Variable):
        return pt.sigmoid(z)
    if _is_jax(z):
        from jax.nn import sigmoid

        return sigmoid(z)
    return expit(z)


def lag_stack(x: np.ndarray, l_max: int, tail: int = 0) -> np.ndarray:
    """Stack lagged copies of media along a new leading ``lag`` axis.

    Parameters
    ----------
    x : ndarray, dims (date, ...)
    l_max : int
        Number of lags (0 … l_max-1) in the adstock window.
    tail : int
        Extra zero-media periods appended after the last date, so that carryover of
        in-window media landing after the window is kept.

    Returns
    -------
    ndarray, dims (lag, date + tail, ...)
        ``out[l, t] = x[t - l]`` (0 before the first date and after the last).
    """
    x = np.asarray(x, dtype=float)
    padded = np.concatenate([x, np.zeros((tail, *x.shape[1:]))], axis=0)
    out = np.zeros((l_max, *padded.shape))
    for lag in range(l_max):
        out[lag, lag:] = padded[: padded.shape[0] - lag]
    return out


def geometric_weights(alpha, l_max: int):
    """Normalised geometric decay weights ``alpha**l / sum(alpha**l)``.

    Parameters
    ----------
    alpha : array, dims (..., channel), in (0, 1)

    Returns
    -------
    array, dims (..., lag, channel), summing to 1 over ``lag``.
    """
    lags = np.arange(l_max, dtype=getattr(alpha, "dtype", float))[:, None]  # keep float32
    w = alpha[..., None, :] ** lags
    return w / w.sum(axis=-2)[..., None, :]


def _lags(param, l_max: int, start: int = 0):
    """Lags ``start … start + l_max - 1`` as a (lag, 1) column in ``param``'s precision."""
    return np.arange(start, start + l_max, dtype=getattr(param, "dtype", float))[:, None]


def _normalise_log_weights(log_w):
    """``exp(log_w)`` normalised to sum 1 over the lag axis (-2), overflow- and
    underflow-free (a softmax): a narrow kernel whose weights all underflow still sums to 1."""
    xp = xp_of(log_w)
    w = xp.exp(log_w - log_w.max(axis=-2)[..., None, :])
    return w / w.sum(axis=-2)[..., None, :]


def delayed_weights(alpha, theta, l_max: int):
    """Delayed geometric weights ``alpha**((l - theta)**2)``, normalised over ``lag``.

    The effect peaks ``theta`` periods after exposure and decays at rate ``alpha`` on
    either side of the peak (PyMC-Marketing's ``delayed_adstock``).

    Parameters
    ----------
    alpha : array, dims (..., channel), in (0, 1)
    theta : array, dims (..., channel), ≥ 0
        Delay of the peak, in periods.

    Returns
    -------
    array, dims (..., lag, channel), summing to 1 over ``lag``.
    """
    xp = xp_of(alpha, theta)
    lags = _lags(alpha, l_max)
    return _normalise_log_weights((lags - theta[..., None, :]) ** 2 * xp.log(alpha)[..., None, :])


def weibull_pdf_weights(weibull_scale, weibull_shape, l_max: int):
    """Weibull-density weights at lags ``1 … l_max`` (for lags ``0 … l_max - 1``),
    normalised over ``lag``: a flexible hump (shape > 1) or decay (shape ≤ 1).

    Parameters
    ----------
    weibull_scale : array, dims (..., channel), > 0
        Scale ``λ`` in periods.
    weibull_shape : array, dims (..., channel), > 0
        Shape ``k``.

    Returns
    -------
    array, dims (..., lag, channel), summing to 1 over ``lag``.
    """
    xp = xp_of(weibull_scale, weibull_shape)
    scale, shape = weibull_scale[..., None, :], weibull_shape[..., None, :]
    log_t = xp.log(_lags(weibull_scale, l_max, start=1)) - xp.log(scale)
    # log density up to the constant log(k / λ), which the normalisation removes
    return _normalise_log_weights((shape - 1.0) * log_t - xp.exp(shape * log_t))


def weibull_cdf_weights(weibull_scale, weibull_shape, l_max: int):
    """Weibull survival weights ``exp(-(l / λ)**k)`` at lags ``0 … l_max - 1`` (1 at lag
    0), normalised over ``lag``: the share of the effect still present after ``l`` periods.

    Parameters
    ----------
    weibull_scale, weibull_shape : array, dims (..., channel), > 0

    Returns
    -------
    array, dims (..., lag, channel), summing to 1 over ``lag``.
    """
    xp = xp_of(weibull_scale, weibull_shape)
    scale, shape = weibull_scale[..., None, :], weibull_shape[..., None, :]
    lags = _lags(weibull_scale, l_max)
    # lag 0 is masked out of the power: 0**k has a NaN gradient in k
    log_t = xp.log(np.maximum(lags, 1.0)) - xp.log(scale)
    return _normalise_log_weights(-xp.exp(shape * log_t) * (lags > 0).astype(lags.dtype))


def adstock(stack, weights):
    """Weighted sum of a lag stack over its lag axis, as one matrix-vector product per channel.

    The stack is laid out channel-first (:func:`lag_major`), so the sum is a batched matmul
    with ``(channel, lag)`` weights (a BLAS ``gemv`` per channel). In
    the model graph the stack is a :func:`graph_lag_stack`, already in that layout, and the
    gradient with respect to the weights is one more ``gemv`` per channel: ~20% faster than
    a fused elementwise sum of lag slices on a 40-geo panel (``benchmarks/RESULTS.md``).

    Parameters
    ----------
    stack : array, dims (lag, date, geo, channel)
    weights : array, dims (..., lag, channel)

    Returns
    -------
    array, dims (..., date, geo, channel)
    """
    _, n_date, n_geo, _ = static_shape(stack)
    return channel_first_to_cube(adstock_channel_first(stack, weights), n_date, n_geo)


def adstock_channel_first(stack, weights):
    """:func:`adstock` before its relayout: dims (..., channel, date·geo), date-major."""
    xp = xp_of(stack, weights)
    by_channel = channel_first_stack(stack)
    if lag_major(stack):
        return xp.matmul(xp.swapaxes(weights, -1, -2)[..., None, :], by_channel)[..., 0, :]
    return xp.matmul(by_channel, xp.swapaxes(weights, -1, -2)[..., None])[..., 0]


def channel_first_stack(stack):
    """A lag stack (dims (lag, date, geo, channel)) in its channel-first layout
    (:func:`lag_major`): dims (channel, lag, date·geo) in float32, (channel, date·geo, lag)
    otherwise. For a :func:`graph_lag_stack` this relayout cancels the view's (pytensor
    folds the transposes and reshapes), so a product reads the contiguous shared input."""
    n_lag, n_date, n_geo, n_channel = static_shape(stack)
    if lag_major(stack):
        return stack.transpose(3, 0, 1, 2).reshape((n_channel, n_lag, n_date * n_geo))
    return stack.transpose(3, 1, 2, 0).reshape((n_channel, n_date * n_geo, n_lag))


def channel_first_to_cube(out, n_date: int, n_geo: int):
    """(..., channel, date·geo) → a contiguous (..., date, geo, channel) array."""
    xp = xp_of(out)
    lead = [out.shape[i] for i in range(out.ndim - 2)]  # sample dims, if any
    n_channel = static_shape(out)[-2] or out.shape[-2]
    # Transposing before the reshape makes the result a contiguous (date, geo, channel)
    # array: a strided view here slows every elementwise op downstream by ~40%.
    return xp.swapaxes(out, -1, -2).reshape((*lead, n_date, n_geo, n_channel))


def geometric_adstock(x, alpha, l_max: int):
    """Geometric adstock of media ``x`` (dims (date, geo, channel)); see :func:`adstock`."""
    return adstock(lag_stack(x, l_max), geometric_weights(alpha, l_max))


def hill(x, ec, slope):
    """Hill saturation ``x**s / (x**s + ec**s)``, exactly 0 at ``x = 0`` for any slope.

    The zero guard keeps both the value and the gradient finite at ``x = 0`` even for
    ``slope < 1`` (where the derivative in ``x`` is unbounded).

    Parameters
    ----------
    x : array, dims (..., date, geo, channel), ≥ 0
    ec, slope : array broadcastable to ``x``, > 0
        Half-saturation point and slope.
    """
    xp = xp_of(x, ec, slope)
    pos = x > 0
    safe = xp.where(pos, x, 1.0)
    log_ratio = xp.log(safe) - xp.log(ec)
    value = _sigmoid(slope * log_ratio)
    return xp.where(pos, value, 0.0)


def log_saturation(x, lam):
    """Log saturation ``log(1 + lam * x)``: concave, unbounded, 0 at 0.

    Parameters
    ----------
    x : array, dims (..., date, geo, channel), ≥ 0
    lam : array broadcastable to ``x``, > 0
    """
    xp = xp_of(x, lam)
    return xp.log1p(lam * x)


def neg_exp_saturation(x, lam):
    """Negative-exponential saturation ``1 - exp(-lam * x)``: bounded by 1, 0 at 0."""
    xp = xp_of(x, lam)
    return -xp.expm1(-lam * x)


def logistic_saturation(x, lam):
    """Logistic saturation ``(1 - exp(-lam x)) / (1 + exp(-lam x))`` (PyMC-Marketing's
    ``logistic_saturation``): bounded by 1, 0 at 0, concave.

    It equals ``tanh(lam x / 2)``: after :func:`bayes_mmm.kinds.unit_saturation` the
    logistic and tanh kinds span the same curves and differ in their parameter and its
    prior (``lam`` is a rate shared with the log and neg_exp kinds; ``tanh_scale`` is the
    exposure scale of the bend).
    """
    xp = xp_of(x, lam)
    return xp.tanh(0.5 * lam * x)


def michaelis_menten(x, km):
    """Michaelis–Menten saturation ``x / (km + x)``: bounded by 1, 0 at 0, concave; half
    of the ceiling at ``km`` (Hill with slope 1).

    Parameters
    ----------
    x : array, dims (..., date, geo, channel), ≥ 0
    km : array broadcastable to ``x``, > 0
    """
    return x / (km + x)


def tanh_saturation(x, tanh_scale):
    """Tanh saturation ``tanh(x / tanh_scale)``: bounded by 1, 0 at 0, concave.

    Parameters
    ----------
    x : array, dims (..., date, geo, channel), ≥ 0
    tanh_scale : array broadcastable to ``x``, > 0
        Exposure at which the curve reaches tanh(1) ≈ 76% of its ceiling.
    """
    xp = xp_of(x, tanh_scale)
    return xp.tanh(x / tanh_scale)


def fourier_features(t, period: float, order: int):
    """Fourier basis ``[sin(2πkt/P), cos(2πkt/P)]`` for k = 1 … order.

    Parameters
    ----------
    t : array, dims (date,)
        Time in the same unit as ``period`` (days here).

    Returns
    -------
    array, dims (date, fourier) with ``2 * order`` columns ordered sin_1, cos_1, sin_2, …
    """
    xp = xp_of(t)
    cols = []
    for k in range(1, order + 1):
        angle = 2.0 * np.pi * k * t / period
        cols += [xp.sin(angle), xp.cos(angle)]
    if not cols:
        return xp.zeros((t.shape[0], 0))
    return xp.stack(cols, axis=-1)
