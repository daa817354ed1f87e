"""Time-varying latent processes: Hilbert-space GPs over time for the baseline and media.

Both time-varying parts of the model (``ModelSpec.time_varying_intercept`` and
``ModelSpec.time_varying_media``) are batches of Matérn-5/2 Gaussian processes over the
period index, built with PyMC's own Hilbert-space approximation
(``pm.gp.HSGP(...).prior_linearized``): a fixed basis ``phi`` (date, basis) and the square
root of the kernel's spectral density, so that a batch of processes is one matrix
product, ``phi @ (sqrt_psd * z)`` with ``z ~ Normal(0, 1)`` in PyMC's coordinates and
``values @ chol(S) @ e`` in the history-aligned ones the model samples ("Sampling
coordinates" below). The batch
shares one length scale and one amplitude: per geo for the baseline (a geo panel pools
the drift's length scale and amplitude), per channel group for media. One batched product
instead of one GP per geo keeps the graph, and its compile time, independent of the
number of geos.

Length scale and its floor
--------------------------
``ls = floor · (1 + r)`` with ``r ~ Gamma(2, 1)`` (the spec's ``tv_*_ls`` prior) and
``floor = TV_FLOOR_LAGS · l_max`` periods. The adstock spreads a burst of media over at most
``l_max`` periods, so a process that may wiggle on that time scale can copy the shape of
any channel's adstocked flights and absorb its effect: the baseline would then explain
media-driven sales and the media multiplier would trade off with the adstock decay. A
floor several adstock windows long leaves the GP only the variation that media
cannot produce: slow drifts of the baseline (distribution, pricing, competitors) and
slow changes of effectiveness (creative wear-out, seasonal relevance). ``Gamma(2, 1)``
has no mass at 0 and a tail to several floors, so the data can still choose a smoother
process. A panel needs at least ``spec.TV_MIN_FLOORS`` floors of history for the process to vary
at all (``ModelSpec.check_time_varying``).

Basis size
----------
``m`` and the boundary ``L`` come from PyMC's heuristic
(``pm.gp.hsgp_approx.approx_hsgp_hyperparams``, Ruitort-Mayol et al. 2022) for the
prior's 5%–95% length-scale range, with ``m`` clipped to ``[M_MIN, M_MAX]``: below 8
basis functions even a smooth drift is coarse, above 40 the process costs more than the
rest of the baseline for length scales the floor already rules out.

Compile time
------------
Each part adds one matrix product whatever the number of geos or channels, so compile
time does not grow with the panel. It grows with the new op types numba must compile
(the spectral density's gradient, ``exp`` and the mean-1 normalisation): on the 3-geo
fixture panel ``nutpie.compile_pymc_model`` took 47 CPU-s with the baseline process
against 18 CPU-s for the static model. Wall times on a loaded machine are several times
the CPU time (320 s and 113 s there, with the load at ~14 on 2 cores).

The processes are centred over the history (``phi`` minus its time-mean), so a baseline
process has mean 0 over the observed dates and never trades off with the geo's level
(``bayes_mmm.model``, centred baseline).

Sampling coordinates
--------------------
The model samples the process in coordinates aligned with the history, not in PyMC's
basis coefficients. The prior is PyMC's HSGP prior unchanged; only the coordinates differ.

- **Why.** The basis is built for the prior's longest length scales, so ``L`` is several
  half-spans, and its sine functions are close to polynomials on the history. On 156
  weekly dates with ``l_max`` 8, the 40 centred functions span only 12 directions that
  carry more than 1e-10 of the variance, and their Gram matrix is singular to machine
  precision. The data then pin a few *oblique* combinations of 40 unit-normal
  coefficients, and NUTS with a diagonal mass matrix needs long trajectories to move
  along them: sampled in PyMC's coefficients, a 10-geo drift panel takes 210 leapfrog
  steps per draw, and 31 in these coordinates, as many as the static model
  (``benchmarks/KINDS.md``).
- **How** (:func:`frame`, numpy, once per panel shape). The centred basis is factored
  ``phi_c = U M`` (thin SVD, ``U`` orthonormal on the history). The coefficients' prior
  covariance ``M diag(psd) M'`` at the prior's median length scale is diagonalised
  (``W``). The directions whose variance is below :data:`FRAME_TOL` of the largest at
  each of the prior's 5%, 50% and 95% length scales are dropped.
  This keeps ``k`` directions: ``values = U W_k`` (date, k), orthonormal on the history,
  and ``loadings = W_k' M`` (k, m).
- **In the graph.** The process is ``eta · values @ chol(S) @ e`` with ``e ~ Normal(0, 1)``
  of dims (k, batch), where ``S = (loadings · sqrt_psd) (loadings · sqrt_psd)'`` is the
  coefficients' prior covariance at the sampled length scale, plus a jitter of
  :data:`JITTER` times its largest diagonal term. This is the same distribution as
  ``phi_c @ (sqrt_psd · z)``, less the dropped variance.
- **The effect.** At the median length scale ``S`` is diagonal and each ``e`` is one
  orthogonal direction on the history. Where the data weigh every date alike (the
  baseline), the posterior is then close to axis-aligned, which a diagonal mass matrix
  adapts to. Away from the median, ``S``'s Cholesky factor mixes neighbouring
  directions only.

Centring from the data
----------------------
Non-centred coefficients suit directions the data barely measure. Where the data pin a
direction down, its unit normal and the amplitude ``eta`` trade off along a funnel, and
``eta`` mixes slowly (R-hat 1.039 on ``tv_intercept_eta`` on the 10-geo drift panel).
Every process's directions are therefore sampled partly centred, with the weight of
Gorinova, Moore & Hoffman (2020) that :mod:`bayes_mmm.centring` uses for the geo
hierarchy: ``z ~ Normal(0, r**w)`` and ``e = z / r**w``, where ``r = tau / s`` and
``w = tau**2 / (tau**2 + s**2)``.

- ``tau = eta · chol(S)[j, j]`` is direction ``j``'s prior standard deviation.
- ``s`` is the standard error with which the data measure it. The directions are
  orthonormal over the dates, so for a geo's baseline ``s`` is that geo's observation
  noise ``sigma``.

``w`` is computed in the graph from the current ``eta``, length scale and ``sigma``. The
model is unchanged for any ``w``: ``e`` is a unit normal given those parameters, and only
the geometry moves. With ``r`` measured against ``s``, the funnel's first-order slope
left by a ``w`` that moves with ``tau`` is at most 0.45, against up to 2 for the
non-centred form (``d log Var(z | data) / d log tau``).

A media process multiplies its channels' contributions, so the data measure it in
proportion to the contribution, less what the additive terms can copy (next section):
its ``s`` comes from ``sum_g residual_information[j, g] / sigma_g**2``, with the
contributions estimated once before sampling
(``bayes_mmm.centring.process_contributions``).

Shearing off the multiplier's confounds
---------------------------------------
A multiplier ``exp(f)`` on an always-on channel moves the target by about
``contribution · f``, a smooth curve that the seasonality and each geo's baseline
process can copy. The data pin the sum, not the parts: on a 10-geo drift panel the
posterior correlation of the geos' mean baseline coordinate with the multiplier's was
-0.88 to -0.95 in the leading directions, and of ``season[cos_1]`` with one multiplier
direction 0.93. A diagonal mass matrix crosses such ridges slowly. So, with a media
process:

- the seasonality is sampled as ``season_net = season + fit``, where ``fit`` is the
  least-squares fit on the Fourier terms of the geos' mean ``effect = sum_p
  contribution[:, :, p] · f_p`` (:func:`_season`); its prior given ``f`` is
  ``Normal(mu + fit, sigma)``, so the joint prior is unchanged;
- each geo's baseline process is sampled net of what is left of ``effect`` in that geo,
  projected on the process's directions and scaled by each direction's centring weight
  (``shift`` of :func:`latent_processes`): ``unit + x ~ Normal(x, 1)``, again the same
  prior;
- a media process's centring weight is computed from what the data measure of it beyond
  what these terms copy (:func:`residual_information`), not from its whole contribution:
  on that panel 1.5% of it.

Each is a change of variables with unit Jacobian given the other parameters, so the
model is unchanged
(``tests/test_time_varying.py::test_seasonality_and_baseline_sampled_net_of_the_multiplier_keep_their_prior``).
Measured effect: ``benchmarks/KINDS.md``, "Time-varying baseline and media against the
static model".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular
from scipy import stats

from bayes_mmm.spec import TV_FLOOR_LAGS, ModelSpec
from bayes_mmm.transforms import graph_data

M_MIN, M_MAX = 8, 40
#: Directions of the centred basis with less than this share of the largest direction's
#: prior variance at each of the prior's 5%, 50% and 95% length scales are dropped
#: (:func:`frame`).
FRAME_TOL = 1e-10
#: Jitter on the coefficients' prior covariance, relative to its largest diagonal term.
JITTER = 1e-9
#: Shape and rate of the Gamma prior on the length-scale excess ``r`` (``ls = floor (1 + r)``).
LS_SHAPE, LS_RATE = 2.0, 1.0


def length_scale_floor(l_max: int) -> float:
    """The smallest length scale a time-varying process may take, in periods."""
    return float(TV_FLOOR_LAGS * l_max)


@dataclass(frozen=True)
class Basis:
    """A Hilbert-space basis over the history.

    Attributes
    ----------
    m : int
        Number of basis functions.
    L : float
        Boundary of the approximation, in periods, around the centre of the history.
    floor : float
        The length-scale floor, in periods.
    """

    m: int
    L: float
    floor: float


def basis(n_dates: int, l_max: int) -> Basis:
    """The basis size for a history of ``n_dates`` periods and an adstock of ``l_max``.

    ``m`` and ``c`` (``L = c · S``, ``S`` the half-span) from
    ``pm.gp.hsgp_approx.approx_hsgp_hyperparams`` over the length-scale prior's 5%–95%
    range, ``m`` clipped to ``[M_MIN, M_MAX]``.
    """
    floor = length_scale_floor(l_max)
    lo, hi = floor * (1.0 + stats.gamma.ppf([0.05, 0.95], LS_SHAPE, scale=1.0 / LS_RATE))
    span = max(n_dates - 1, 1)
    m, c = pm.gp.hsgp_approx.approx_hsgp_hyperparams([0.0, float(span)], [lo, hi], "matern52")
    return Basis(m=int(np.clip(m, M_MIN, M_MAX)), L=float(c * span / 2.0), floor=floor)


@dataclass(frozen=True)
class Frame:
    """History-aligned coordinates of a centred HSGP (see the module docstring).

    Attributes
    ----------
    values : ndarray, dims (date, k)
        Orthonormal directions on the history, each with mean 0 over it.
    loadings : ndarray, dims (k, m)
        The process is ``values @ loadings @ (sqrt_psd · z)`` for PyMC's basis
        coefficients ``z``, up to the dropped directions.
    """

    values: np.ndarray
    loadings: np.ndarray


def _hsgp(b: Basis, n_dates: int, ls):
    """PyMC's basis (date, m), the HSGP centred on the history, and ``sqrt_psd`` (m) at
    length scale ``ls`` with unit amplitude."""
    gp = pm.gp.HSGP(m=[b.m], L=[b.L], cov_func=pm.gp.cov.Matern52(1, ls=ls))
    return gp.prior_linearized(np.arange(n_dates, dtype=float)[:, None])


@functools.lru_cache(maxsize=8)
def frame(n_dates: int, l_max: int) -> Frame:
    """The history-aligned coordinates of the processes over ``n_dates`` periods.

    Remembered per panel shape: a model with both processes, and every fold of a
    cross-validation or refit of one shape, shares one (its arrays are read-only)."""
    b = basis(n_dates, l_max)
    quantiles = b.floor * (1.0 + stats.gamma.ppf([0.05, 0.5, 0.95], LS_SHAPE, scale=1.0 / LS_RATE))
    phi = np.asarray(_hsgp(b, n_dates, quantiles[1])[0].eval())
    psd = np.stack([np.asarray(_hsgp(b, n_dates, ls)[1].eval()) ** 2 for ls in quantiles])
    u, s, vt = np.linalg.svd(phi - phi.mean(axis=0, keepdims=True), full_matrices=False)
    m = s[:, None] * vt  # phi_c = u @ m
    lam, w = np.linalg.eigh((m * psd[1]) @ m.T)
    w = w[:, np.argsort(lam)[::-1]]
    load = w.T @ m  # (directions, m)
    var = psd @ (load**2).T  # (quantile, direction)
    keep = (var >= FRAME_TOL * var.max(axis=1, keepdims=True)).any(axis=0)
    values, loadings = u @ w[:, keep], load[keep]
    values.setflags(write=False)
    loadings.setflags(write=False)
    return Frame(values=values, loadings=loadings)


def residual_information(spec: ModelSpec, contribution: np.ndarray, design) -> np.ndarray:
    """How much each media process's directions are measured beyond what the additive
    terms can copy, dims (tv_process_basis, geo, tv_process): ``‖(I - P) (c_gp ·
    v_j)‖²``, with ``c_gp`` the process's contribution in geo ``g`` (date,
    ``bayes_mmm.centring.process_contributions``), ``v_j`` direction ``j`` of
    :func:`frame` and ``P`` the projection onto the level, the trend or the baseline
    process's directions, and the seasonality (``design``: the model's design).

    An always-on channel's smooth multiplier moves the target by a smooth curve that
    these terms copy. What the data measure of the multiplier is what they cannot copy,
    so the media processes' centring (module docstring) divides it by each geo's noise.
    """
    n_dates = contribution.shape[0]
    fr = frame(n_dates, spec.l_max)
    cols = [np.ones((n_dates, 1)), np.asarray(design.fourier).reshape(n_dates, -1)]
    if spec.time_varying_intercept:
        cols.append(fr.values)
    elif spec.trend:
        cols.append(np.reshape(design.trend, (n_dates, -1))[:, :1])
    q, _ = np.linalg.qr(np.concatenate(cols, axis=1))
    x = contribution[:, None] * fr.values[:, :, None, None]  # (date, k, geo, process)
    resid = x - np.einsum("tq,sq,skgp->tkgp", q, q, x)
    return (resid**2).sum(axis=0)


def latent_processes(
    name: str,
    n_dates: int,
    l_max: int,
    eta,
    ls_excess,
    dim: str,
    precision=None,
    shift=None,
    info: bool = False,
):
    """A batch of centred Matérn-5/2 HSGPs over the history (inside a model context).

    Sampled in the history-aligned coordinates of :func:`frame` (module docstring),
    non-centred unless ``precision`` is given, then partly centred per direction and
    process (module docstring, "Centring from the data").

    Parameters
    ----------
    name : str
        Prefix of the coefficient variable ``{name}_z`` (dims (``{name}_basis``, dim)): one
        unit normal per history-aligned direction and process.
    n_dates : int
        Length of the history.
    l_max : int
        Adstock window: sets the length-scale floor.
    eta : tensor, scalar
        Amplitude (marginal standard deviation) shared by the batch.
    ls_excess : tensor, scalar
        ``r`` in ``ls = floor · (1 + r)``, shared by the batch.
    dim : str
        The model dim that indexes the batch (``geo``, ``tv_process``).
    precision : tensor, dims (date, dim), optional
        How precisely the data measure each process at each date (one over the squared
        standard error): for a geo's baseline ``1 / sigma**2``. With ``info``, dims
        (``{name}_basis``, dim): each direction's precision itself.
    shift : tensor, dims (date, dim), optional
        An additive curve the data cannot tell from the process (with ``precision``
        only): each direction is then sampled net of it, by the direction's centring
        weight (module docstring, "Shearing off the multiplier's confounds").

    Returns
    -------
    tensor, dims (date, dim)
        The processes, each with mean 0 over the history.
    """
    b = basis(n_dates, l_max)
    fr = frame(n_dates, l_max)
    _, sqrt_psd = _hsgp(b, n_dates, b.floor * (1.0 + ls_excess))
    # The frame depends on the dates only: computed once here and handed to the graph as
    # data, so the compiler does not constant-fold PyMC's eigenfunction graph op by op
    # (that folding tripled the compile time of a tiny panel), and a compiled model is
    # reused for any panel of the same shape.
    values = graph_data(fr.values, f"{name}_basis_values")
    scaled = fr.loadings * sqrt_psd[None, :]
    cov = pt.dot(scaled, scaled.T)
    cov = cov + JITTER * pt.max(pt.diag(cov)) * pt.eye(fr.loadings.shape[0])
    chol = pt.linalg.cholesky(cov)
    model = pm.modelcontext(None)
    model.add_coord(f"{name}_basis", np.arange(fr.loadings.shape[0]))
    dims = (f"{name}_basis", dim)
    if precision is None:
        unit = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    else:
        # tau / s per (direction, process): each direction's information is its squared
        # values' weighted sum of the dates' precisions
        info = precision if info else pt.dot(pt.as_tensor(fr.values**2).T, precision)
        ratio = eta * pt.diag(chol)[:, None] * pt.sqrt(info)
        weight = ratio**2 / (1.0 + ratio**2)
        scale = ratio**weight  # (tau / s) ** w
        if shift is None:
            unit = pm.Normal(f"{name}_z", 0.0, scale, dims=dims) / scale
        else:
            # unit + x ~ Normal(x, 1): the shift in unit coordinates, by the weight
            x = weight * solve_triangular(chol, pt.dot(values.T, shift), lower=True) / eta
            unit = pm.Normal(f"{name}_z", x * scale, scale, dims=dims) / scale - x
    return eta * pt.dot(values, pt.dot(chol, unit))


def processes(spec: ModelSpec, channels, n_dates: int, params: dict, packed: dict) -> None:
    """The time-varying parts of the model, added to ``params`` (inside a model context).

    ``sigma`` first (it sets the processes' centring), then ``media_multiplier``, the
    seasonality ``season`` and ``tv_intercept``, in that order: with a media process the
    other two are sampled net of the multiplier's first-order effect (module docstring,
    "Shearing off the multiplier's confounds"). ``packed``: the model's graph data
    (``fourier``, dims (date, fourier); ``tv_media_contribution``, ``tv_media_information``).
    """
    params["sigma"] = sigma = spec.prior("sigma").create_variable("sigma")
    effect = None  # the multiplier's first-order effect on the scaled target, (date, geo)
    if spec.time_varying_media:
        contribution = packed["tv_media_contribution"]
        params["media_multiplier"], f = media_multiplier(
            spec, channels, n_dates, sigma, packed["tv_media_information"]
        )
        effect = (contribution * f[:, None, :]).sum(axis=-1)
    if spec.yearly_seasonality and spec.time_varying_media:
        params["season"], seasonal = _season(spec, packed["fourier"], effect)
        if effect is not None:
            effect = effect - seasonal[:, None]
    if spec.time_varying_intercept:
        params["tv_intercept"] = tv_intercept(spec, n_dates, sigma, effect)


def _season(spec: ModelSpec, fourier, effect):
    """The seasonality coefficients ``season`` (dims (fourier,)) and the seasonal curve
    (date,) the data cannot tell from the multiplier's ``effect`` (dims (date, geo)): the
    least-squares fit of its mean over geos on ``fourier``.

    Where the prior is a plain ``Normal`` the sampled variable is ``season_net = season +
    that fit``, whose prior given the multiplier is ``Normal(mu + fit, sigma)``: the same
    joint prior as ``season ~ Normal(mu, sigma)``. Otherwise (or without ``effect``) the
    prior is used as it is and the curve is 0.
    """
    prior = spec.prior("season")
    mu, sd = (prior.parameters.get(k) for k in ("mu", "sigma"))
    plain = prior.distribution == "Normal" and all(
        isinstance(v, int | float | np.ndarray) for v in (mu, sd)
    )
    if effect is None or not plain:
        return prior.create_variable("season"), pt.zeros(fourier.shape[0])
    fit = pt.linalg.solve(pt.dot(fourier.T, fourier), pt.dot(fourier.T, effect.mean(axis=1)))
    net = pm.Normal("season_net", mu + fit, sd, dims=prior.dims)
    return pm.Deterministic("season", net - fit, dims=prior.dims), pt.dot(fourier, fit)


def tv_intercept(spec: ModelSpec, n_dates: int, sigma, effect=None):
    """The time-varying baseline ``tv_intercept`` (inside a model context).

    One process per geo with the shared hyperparameters ``tv_intercept_eta`` and
    ``tv_intercept_ls``, on the scaled target (a share of the geo's mean revenue), mean 0
    over the history. ``sigma`` (dims (geo,)), the observation noise of the scaled target,
    sets how centred each direction is sampled, and ``effect`` (dims (date, geo)), the
    media multiplier's first-order effect left after the seasonality, what each geo's
    process is sampled net of (module docstring).

    Returns
    -------
    tensor, dims (date, geo)
    """
    eta = spec.prior("tv_intercept_eta").create_variable("tv_intercept_eta")
    excess = spec.prior("tv_intercept_ls").create_variable("tv_intercept_ls")
    precision = pt.broadcast_to(sigma[None, :] ** -2, (n_dates, sigma.shape[0]))
    f = latent_processes(
        "tv_intercept", n_dates, spec.l_max, eta, excess, "geo", precision, shift=effect
    )
    return pm.Deterministic("tv_intercept", f, dims=("date", "geo"))


def media_multiplier(spec: ModelSpec, channels, n_dates: int, sigma, information):
    """The media multiplier ``media_multiplier`` (inside a model context).

    ``exp(f) / mean_t exp(f)`` for each process ``f`` of ``spec.media_processes`` (dim
    ``tv_process``, shared hyperparameters ``tv_media_eta`` and ``tv_media_ls``); 1 for
    static channels. Mean 1 over the history: the channel coefficient stays the average
    effect over the history and the multiplier only moves it in time, so the two do not
    trade off.

    ``sigma`` (dims (geo,)) and ``information`` (dims (tv_media_basis, geo, tv_process),
    :func:`residual_information`) set how centred each direction is sampled: the data
    measure direction ``j`` with precision ``sum_g information[j, g] / sigma_g**2``.

    Returns
    -------
    multiplier : tensor, dims (date, channel)
    f : tensor, dims (date, tv_process)
        The processes, mean 0 over the history.
    """
    names, index = spec.media_processes(channels)
    pm.modelcontext(None).add_coord("tv_process", names)
    eta = spec.prior("tv_media_eta").create_variable("tv_media_eta")
    excess = spec.prior("tv_media_ls").create_variable("tv_media_ls")
    info = (information / sigma[None, :, None] ** 2).sum(axis=1)
    f = latent_processes(
        "tv_media", n_dates, spec.l_max, eta, excess, "tv_process", info, info=True
    )
    ef = pt.exp(f)
    mult = ef / ef.mean(axis=0, keepdims=True)
    full = pt.concatenate([mult, pt.ones((n_dates, 1))], axis=1)  # last column: static
    column = np.where(index < 0, len(names), index)
    return pm.Deterministic("media_multiplier", full[:, column], dims=("date", "channel")), f
