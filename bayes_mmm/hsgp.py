"""Time-varying latent processes: Hilbert-space GPs over time for the baseline and media.

Both time-varying parts of the model (``ModelSpec.time_varying_intercept`` and
``ModelSpec.time_varying_media``) are batches of Matérn-5/2 Gaussian processes over the
period index, built with PyMC's own Hilbert-space approximation
(``pm.gp.HSGP(...).prior_linearized``): a fixed basis ``phi`` (date, basis) and the square
root of the kernel's spectral density, so that a batch of ``k`` processes is one matrix
product ``phi @ (sqrt_psd * z)`` with ``z ~ Normal(0, 1)`` of dims (basis, k). The batch
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import stats

from bayes_mmm.spec import TV_FLOOR_LAGS, ModelSpec
from bayes_mmm.transforms import graph_data

M_MIN, M_MAX = 8, 40
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


def latent_processes(name: str, n_dates: int, l_max: int, eta, ls_excess, dim: str):
    """A batch of centred Matérn-5/2 HSGPs over the history (inside a model context).

    Parameters
    ----------
    name : str
        Prefix of the basis-coefficient variable ``{name}_z`` (dims (``{name}_basis``, dim)).
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

    Returns
    -------
    tensor, dims (date, dim)
        The processes, each with mean 0 over the history.
    """
    b = basis(n_dates, l_max)
    ls = b.floor * (1.0 + ls_excess)
    cov = eta**2 * pm.gp.cov.Matern52(1, ls=ls)
    gp = pm.gp.HSGP(m=[b.m], L=[b.L], cov_func=cov)
    x = np.arange(n_dates, dtype=float)[:, None]
    phi, sqrt_psd = gp.prior_linearized(x)
    # The basis depends on the dates only: evaluated once here and handed to the graph as
    # data, so the compiler does not constant-fold PyMC's eigenfunction graph op by op
    # (that folding tripled the compile time of a tiny panel), and a compiled model is
    # reused for any panel of the same shape.
    phi = np.asarray(phi.eval())
    phi = graph_data(phi - phi.mean(axis=0, keepdims=True), f"{name}_basis_values")
    model = pm.modelcontext(None)
    model.add_coord(f"{name}_basis", np.arange(b.m))
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=(f"{name}_basis", dim))
    return pt.dot(phi, sqrt_psd[:, None] * z)


def tv_intercept(spec: ModelSpec, n_dates: int):
    """The time-varying baseline ``tv_intercept`` (inside a model context).

    One process per geo with the shared hyperparameters ``tv_intercept_eta`` and
    ``tv_intercept_ls``, on the scaled target (a share of the geo's mean revenue), mean 0
    over the history.

    Returns
    -------
    tensor, dims (date, geo)
    """
    eta = spec.prior("tv_intercept_eta").create_variable("tv_intercept_eta")
    excess = spec.prior("tv_intercept_ls").create_variable("tv_intercept_ls")
    f = latent_processes("tv_intercept", n_dates, spec.l_max, eta, excess, "geo")
    return pm.Deterministic("tv_intercept", f, dims=("date", "geo"))


def media_multiplier(spec: ModelSpec, channels, n_dates: int):
    """The media multiplier ``media_multiplier`` (inside a model context).

    ``exp(f) / mean_t exp(f)`` for each process ``f`` of ``spec.media_processes`` (dim
    ``tv_process``, shared hyperparameters ``tv_media_eta`` and ``tv_media_ls``); 1 for
    static channels. Mean 1 over the history: the channel coefficient stays the average
    effect over the history and the multiplier only moves it in time, so the two do not
    trade off.

    Returns
    -------
    tensor, dims (date, channel)
    """
    names, index = spec.media_processes(channels)
    pm.modelcontext(None).add_coord("tv_process", names)
    eta = spec.prior("tv_media_eta").create_variable("tv_media_eta")
    excess = spec.prior("tv_media_ls").create_variable("tv_media_ls")
    f = latent_processes("tv_media", n_dates, spec.l_max, eta, excess, "tv_process")
    ef = pt.exp(f)
    mult = ef / ef.mean(axis=0, keepdims=True)
    full = pt.concatenate([mult, pt.ones((n_dates, 1))], axis=1)  # last column: static
    column = np.where(index < 0, len(names), index)
    return pm.Deterministic("media_multiplier", full[:, column], dims=("date", "channel"))
