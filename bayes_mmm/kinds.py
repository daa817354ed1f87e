"""One declaration per adstock and saturation kind: the registry every layer reads.

Each kind is declared once, here: its function (written once for numpy, pytensor and JAX
through ``transforms.xp_of``), its parameter names, each parameter's default prior and the
dim it lives on when a spec mixes kinds, and, for saturations, the derivative in exposure
and the in-place optimizer kernel. ``spec`` (priors, validation), ``response`` and
``model`` (the mean function and its parameters), ``simulate`` (the truth's parameter
layout) and ``optimize`` (revenue and its gradient) all read :data:`SATURATIONS` and
:data:`ADSTOCKS`, so adding a kind touches this module alone.

Parameter dims: in a single-kind spec every saturation parameter has dims ``channel``. In
a spec that mixes kinds a parameter covers only the channels whose kind uses it, on the
parameter's ``mixed_dim`` (``ec``/``slope`` on ``hill_channel``, ``lam`` on
``lam_channel``, shared by the log and negative-exponential kinds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pymc_extras.prior import Prior

from bayes_mmm import transforms as tf

TINY = 1e-12  # exposure treated as zero by the optimizer kernels (scaled units)


@dataclass(frozen=True)
class Parameter:
    """A transform parameter: its name, default prior (dims ``channel``) and the dim it
    lives on when a spec mixes saturation kinds."""

    name: str
    prior: Prior
    mixed_dim: str = "channel"


@dataclass(frozen=True)
class SaturationKind:
    """A saturation curve ``f(x)`` of adstocked, scaled exposure ``x`` ≥ 0 with f(0) = 0.

    Attributes
    ----------
    function : callable ``(x, **params) -> array``
        Any backend (numpy, pytensor, JAX); ``x`` has dims (..., date, geo, channel) and
        each parameter broadcasts to it.
    derivative : callable ``(x, **params) -> array``
        ``df/dx`` in numpy, finite at ``x = 0``.
    kernel : callable ``(x, params, grad) -> (f, df or None)``
        ``f`` and (when ``grad``) ``df/dx`` in numpy in one pass, free to overwrite ``x``:
        the optimizer evaluates it thousands of times per plan.
    """

    name: str
    parameters: tuple[Parameter, ...]
    function: Callable
    derivative: Callable
    kernel: Callable

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in declaration order."""
        return tuple(p.name for p in self.parameters)


@dataclass(frozen=True)
class AdstockKind:
    """A carryover shape: ``weights(**params, l_max=...)`` gives normalised lag weights,
    dims (..., lag, channel), for ``transforms.adstock``."""

    name: str
    parameters: tuple[Parameter, ...]
    weights: Callable

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in declaration order."""
        return tuple(p.name for p in self.parameters)


# ---------------------------------------------------------------------- derivatives
def hill_derivative(x, ec, slope):
    """``d hill / dx`` (numpy). At ``x = 0`` it returns 0: the one-sided limit for
    slope > 1; for slope < 1 the limit is infinite and 0 keeps the optimizer finite."""
    f = tf.hill(x, ec, slope)
    pos = x > 0
    return np.where(pos, slope * f * (1.0 - f) / np.where(pos, x, 1.0), 0.0)


def log_derivative(x, lam):
    """``d log(1 + lam x) / dx`` (numpy)."""
    return lam / (1.0 + lam * x)


def neg_exp_derivative(x, lam):
    """``d (1 - exp(-lam x)) / dx`` (numpy)."""
    return lam * np.exp(-lam * x)


def hill_kernel(x, params, grad: bool):
    """Hill and its slope in one pass, in place on ``x``: ``1 / (1 + exp(-slope * (log x -
    log ec)))``, the same values as :func:`transforms.hill` and :func:`hill_derivative`,
    fused because the optimizer spends its time here."""
    live = x > TINY
    np.maximum(x, TINY, out=x)
    with np.errstate(over="ignore"):
        z = np.log(x)
        z -= np.log(params["ec"])
        z *= -params["slope"]
        np.exp(z, out=z)
        z += 1.0
        f = np.reciprocal(z, out=z)
    f *= live
    if not grad:
        return f, None
    df = 1.0 - f
    df *= f
    df /= x
    df *= params["slope"]
    return f, df


def _plain_kernel(function: Callable, derivative: Callable) -> Callable:
    """The kernel of a kind without a fused one: its function, then its derivative."""

    def kernel(x, params, grad: bool):
        f = function(x, **params)
        return f, derivative(x, **params) if grad else None

    return kernel


# ---------------------------------------------------------------------- the registry
_EC = Parameter("ec", Prior("LogNormal", mu=0.0, sigma=0.5, dims="channel"), "hill_channel")
_SLOPE = Parameter(
    "slope",
    Prior("TruncatedNormal", mu=1.2, sigma=0.5, lower=0.5, upper=3.0, dims="channel"),
    "hill_channel",
)
_LAM = Parameter("lam", Prior("LogNormal", mu=0.0, sigma=1.0, dims="channel"), "lam_channel")
_ALPHA = Parameter("alpha", Prior("Beta", alpha=1.0, beta=3.0, dims="channel"))


def _saturation(name, parameters, function, derivative, kernel=None) -> SaturationKind:
    kernel = kernel or _plain_kernel(function, derivative)
    return SaturationKind(name, tuple(parameters), function, derivative, kernel)


#: Saturation kinds by name, in the order the model declares their parameters.
SATURATIONS: dict[str, SaturationKind] = {
    k.name: k
    for k in (
        _saturation("hill", (_EC, _SLOPE), tf.hill, hill_derivative, hill_kernel),
        _saturation("log", (_LAM,), tf.log_saturation, log_derivative),
        _saturation("neg_exp", (_LAM,), tf.neg_exp_saturation, neg_exp_derivative),
    )
}

#: Adstock kinds by name.
ADSTOCKS: dict[str, AdstockKind] = {
    "geometric": AdstockKind("geometric", (_ALPHA,), tf.geometric_weights),
}


def saturation_kind(name: str) -> SaturationKind:
    """The registered saturation ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return SATURATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown saturation {name!r}; choose one of {tuple(SATURATIONS)}"
        ) from None


def transform_parameters() -> dict[str, Parameter]:
    """Every adstock and saturation parameter by name (shared names declared once)."""
    out: dict[str, Parameter] = {}
    for kind in (*ADSTOCKS.values(), *SATURATIONS.values()):
        for p in kind.parameters:
            out.setdefault(p.name, p)
    return out


def saturation(kind: str, x, **params):
    """Saturation ``kind`` of exposure ``x`` (any backend); see :class:`SaturationKind`."""
    return saturation_kind(kind).function(x, **params)


def unit_saturation(kind: str, x, **params):
    """Saturation normalised to 1 at typical exposure: ``f(x) / f(1)``.

    Media are scaled so that 1 is a typical active period; with this normalisation a
    channel coefficient is the channel's effect at typical exposure, which the data pins
    down well, while the curve's shape parameters only bend the response around it.
    """
    one = 1.0 + 0.0 * x[..., :1, :1, :]
    return saturation(kind, x, **params) / saturation(kind, one, **params)


def saturation_derivative(kind: str, x, **params):
    """``df/dx`` of saturation ``kind`` (numpy), dims of ``x``."""
    return saturation_kind(kind).derivative(x, **params)


def saturation_groups(kinds: Sequence[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Split channels by saturation kind.

    Parameters
    ----------
    kinds : sequence of str, dims (channel,)
        Each channel's saturation kind.

    Returns
    -------
    list of (kind, channel index, parameter index)
        ``channel index`` selects the kind's channels; ``parameter index`` selects their
        entries in the kind's parameters on their mixed dims (channels sharing a
        ``mixed_dim`` share one index space, e.g. ``lam`` of log and neg_exp channels).
    """
    kinds = list(kinds)
    out = []
    for name, kind in SATURATIONS.items():
        idx = [c for c, k in enumerate(kinds) if k == name]
        if idx:
            pool = mixed_dim_channels(kinds, kind.parameters[0].mixed_dim)
            out.append((name, np.array(idx), np.array([pool.index(c) for c in idx])))
    return out


def mixed_dim_channels(kinds: Sequence[str], dim: str) -> list[int]:
    """Indices of the channels whose saturation kind has a parameter on ``dim``."""
    return [
        c
        for c, k in enumerate(kinds)
        if any(p.mixed_dim == dim for p in saturation_kind(k).parameters)
    ]


def mixed_dims() -> dict[str, str]:
    """Parameter name → its dim in a spec that mixes saturation kinds."""
    return {p.name: p.mixed_dim for k in SATURATIONS.values() for p in k.parameters}
