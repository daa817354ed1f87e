"""One declaration per adstock and saturation kind: the registry every layer reads.

Each kind is declared once, here: its function (written once for numpy, pytensor and JAX
through ``transforms.xp_of``), its parameter names, each parameter's default prior and the
dim it lives on when a spec mixes kinds, the range the simulator draws its true value
from, and, for saturations, the derivative and curvature in exposure and the in-place
optimizer kernel. ``spec`` (priors, validation), ``response`` and ``model`` (the mean
function and its parameters), ``simulate`` (the truth) and ``optimize`` (revenue, its
gradient and curvature) all read :data:`SATURATIONS` and :data:`ADSTOCKS`, so adding a
kind touches this module alone.

Kinds: adstock ``geometric``, ``delayed`` (geometric around a peak delay ``theta``),
``weibull_pdf`` and ``weibull_cdf``; saturation ``hill``, ``log``, ``neg_exp``,
``logistic``, ``michaelis_menten`` and ``tanh``. Adstock weights sum to 1 over the lags and
saturations are used normalised to 1 at typical exposure (:func:`unit_saturation`), so a
channel's coefficient means the same thing whatever its kinds.

Parameter dims: in a single-kind spec every parameter has dims ``channel``. In a spec that
mixes kinds a parameter covers only the channels whose kind uses it, on the parameter's
``mixed_dim``: ``ec``/``slope`` on ``hill_channel``, ``lam`` on ``lam_channel`` (log,
neg_exp, logistic), ``km`` on ``km_channel``, ``tanh_scale`` on ``tanh_channel``,
``alpha`` on ``alpha_channel`` (geometric, delayed), ``theta`` on ``delay_channel`` and
``weibull_scale``/``weibull_shape`` on ``weibull_channel`` (both Weibull kinds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pymc_extras.prior import Prior

from bayes_mmm import transforms as tf

TINY = 1e-12  # exposure treated as zero by the optimizer kernels (scaled units)


@dataclass(frozen=True)
class Parameter:
    """A transform parameter: its name, default prior (dims ``channel``), the dim it lives
    on when a spec mixes kinds, and the range ``simulate`` draws true values from."""

    name: str
    prior: Prior
    mixed_dim: str = "channel"
    truth: tuple[float, float] = (0.5, 1.5)


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
    curvature : callable ``(x, f, df, params) -> array``
        ``d²f/dx²`` in numpy from the exposure (as the kernel left it, at least ``TINY``),
        the value and the slope there: the optimizer's exact diagonal Hessian.
    """

    name: str
    parameters: tuple[Parameter, ...]
    function: Callable
    derivative: Callable
    kernel: Callable
    curvature: Callable

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in declaration order."""
        return tuple(p.name for p in self.parameters)


@dataclass(frozen=True)
class AdstockKind:
    """A carryover shape: ``weights(*params, l_max)`` gives lag weights normalised to sum
    1 over ``lag`` (so a channel's coefficient is the effect of a sustained unit of
    exposure whatever the shape), dims (..., lag, channel), for ``transforms.adstock``."""

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


def logistic_derivative(x, lam):
    """``d tanh(lam x / 2) / dx = lam / 2 (1 - f²)`` (numpy)."""
    f = tf.logistic_saturation(x, lam)
    return 0.5 * lam * (1.0 - f * f)


def michaelis_menten_derivative(x, km):
    """``d (x / (km + x)) / dx = km / (km + x)²`` (numpy)."""
    return km / (km + x) ** 2


def tanh_derivative(x, tanh_scale):
    """``d tanh(x / s) / dx = (1 - f²) / s`` (numpy)."""
    f = tf.tanh_saturation(x, tanh_scale)
    return (1.0 - f * f) / tanh_scale


def hill_curvature(x, f, df, params):
    """``d² hill / dx² = (df / x) (slope - 1 - 2 slope f)``."""
    slope = params["slope"]
    out = f * (-2.0 * slope)
    out += slope - 1.0
    out *= df
    out /= x
    return out


def log_curvature(x, f, df, params):
    """``d² log(1 + lam x) / dx² = -(df)²``."""
    return -df * df


def neg_exp_curvature(x, f, df, params):
    """``d² (1 - exp(-lam x)) / dx² = -lam df``."""
    return df * -params["lam"]


def logistic_curvature(x, f, df, params):
    """``d² tanh(lam x / 2) / dx² = -lam f df``."""
    return -params["lam"] * f * df


def michaelis_menten_curvature(x, f, df, params):
    """``d² (x / (km + x)) / dx² = -2 df / (km + x)``."""
    return -2.0 * df / (params["km"] + x)


def tanh_curvature(x, f, df, params):
    """``d² tanh(x / s) / dx² = -2 f df / s``."""
    return -2.0 * f * df / params["tanh_scale"]


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
_EC = Parameter(
    "ec", Prior("LogNormal", mu=0.0, sigma=0.5, dims="channel"), "hill_channel", (0.6, 1.6)
)
_SLOPE = Parameter(
    "slope",
    Prior("TruncatedNormal", mu=1.2, sigma=0.5, lower=0.5, upper=3.0, dims="channel"),
    "hill_channel",
    (0.8, 2.0),
)
_LAM = Parameter(
    "lam", Prior("LogNormal", mu=0.0, sigma=1.0, dims="channel"), "lam_channel", (0.5, 2.0)
)
# Michaelis–Menten's half-saturation point and tanh's bend, in units of typical exposure:
# centred on it, as Hill's ``ec`` is.
_KM = Parameter(
    "km", Prior("LogNormal", mu=0.0, sigma=0.5, dims="channel"), "km_channel", (0.5, 1.5)
)
_TANH_SCALE = Parameter(
    "tanh_scale",
    Prior("LogNormal", mu=0.0, sigma=0.5, dims="channel"),
    "tanh_channel",
    (0.6, 1.6),
)
_ALPHA = Parameter(
    "alpha", Prior("Beta", alpha=1.0, beta=3.0, dims="channel"), "alpha_channel", (0.1, 0.6)
)
# The peak delay in periods: half-normal with most mass within the first 3 lags, where
# l_max = 8 leaves room for the decay after the peak.
_THETA = Parameter(
    "theta", Prior("HalfNormal", sigma=2.0, dims="channel"), "delay_channel", (0.5, 2.5)
)
# Weibull scale (periods) and shape: mean 2.5 periods and 2 (a hump for the density, a
# shoulder for the survival curve), with enough spread for a decay (shape < 1) or a lag.
_WEIBULL_SCALE = Parameter(
    "weibull_scale",
    Prior("Gamma", alpha=5.0, beta=2.0, dims="channel"),
    "weibull_channel",
    (1.5, 3.5),
)
_WEIBULL_SHAPE = Parameter(
    "weibull_shape",
    Prior("Gamma", alpha=6.0, beta=3.0, dims="channel"),
    "weibull_channel",
    (1.2, 2.8),
)


def _saturation(name, parameters, function, derivative, curvature, kernel=None):
    kernel = kernel or _plain_kernel(function, derivative)
    return SaturationKind(name, tuple(parameters), function, derivative, kernel, curvature)


#: Saturation kinds by name, in the order the model declares their parameters.
SATURATIONS: dict[str, SaturationKind] = {
    k.name: k
    for k in (
        _saturation("hill", (_EC, _SLOPE), tf.hill, hill_derivative, hill_curvature, hill_kernel),
        _saturation("log", (_LAM,), tf.log_saturation, log_derivative, log_curvature),
        _saturation(
            "neg_exp", (_LAM,), tf.neg_exp_saturation, neg_exp_derivative, neg_exp_curvature
        ),
        _saturation(
            "logistic", (_LAM,), tf.logistic_saturation, logistic_derivative, logistic_curvature
        ),
        _saturation(
            "michaelis_menten",
            (_KM,),
            tf.michaelis_menten,
            michaelis_menten_derivative,
            michaelis_menten_curvature,
        ),
        _saturation("tanh", (_TANH_SCALE,), tf.tanh_saturation, tanh_derivative, tanh_curvature),
    )
}

#: Adstock kinds by name, in the order the model declares their parameters.
ADSTOCKS: dict[str, AdstockKind] = {
    k.name: k
    for k in (
        AdstockKind("geometric", (_ALPHA,), tf.geometric_weights),
        AdstockKind("delayed", (_ALPHA, _THETA), tf.delayed_weights),
        AdstockKind("weibull_pdf", (_WEIBULL_SCALE, _WEIBULL_SHAPE), tf.weibull_pdf_weights),
        AdstockKind("weibull_cdf", (_WEIBULL_SCALE, _WEIBULL_SHAPE), tf.weibull_cdf_weights),
    )
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
    kinds: list[AdstockKind | SaturationKind] = [*ADSTOCKS.values(), *SATURATIONS.values()]
    for kind in kinds:
        for p in kind.parameters:
            out.setdefault(p.name, p)
    return out


#: The parameters ``simulate`` draws from its main generator, in its draw order (the
#: first kinds'); the other kinds' truths come from a generator of their own.
FIRST_TRUTHS = ("alpha", "ec", "slope", "lam")


def draw_truth(rng: np.random.Generator, names: Sequence[str], n_channels: int) -> dict:
    """True values of transform parameters ``names`` for a simulation, each uniform on its
    declared range (``Parameter.truth``), dims (channel,), drawn in the order given."""
    params = transform_parameters()
    return {n: rng.uniform(*params[n].truth, n_channels) for n in names}


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
    """Split channels by saturation kind (see :func:`kind_groups`)."""
    return kind_groups(kinds, SATURATIONS)


def adstock_groups(kinds: Sequence[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Split channels by adstock kind (see :func:`kind_groups`)."""
    return kind_groups(kinds, ADSTOCKS)


def kind_groups(
    kinds: Sequence[str], registry: Mapping
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Split channels by kind.

    Parameters
    ----------
    kinds : sequence of str, dims (channel,)
        Each channel's kind, all from ``registry``.
    registry : mapping
        :data:`SATURATIONS` or :data:`ADSTOCKS`.

    Returns
    -------
    list of (kind, channel index, parameter index)
        ``channel index`` selects the kind's channels; ``parameter index`` selects their
        entries in the kind's parameters on their mixed dims (channels sharing a
        ``mixed_dim`` share one index space, e.g. ``lam`` of log and neg_exp channels,
        ``alpha`` of geometric and delayed ones).
    """
    kinds = list(kinds)
    out = []
    for name, kind in registry.items():
        idx = [c for c, k in enumerate(kinds) if k == name]
        if idx:
            pool = mixed_dim_channels(kinds, kind.parameters[0].mixed_dim)
            out.append((name, np.array(idx), np.array([pool.index(c) for c in idx])))
    return out


def mixed_dim_channels(kinds: Sequence[str], dim: str) -> list[int]:
    """Indices of the channels whose (adstock or saturation) kind has a parameter on
    ``dim``."""
    return [c for c, k in enumerate(kinds) if any(p.mixed_dim == dim for p in _kind(k).parameters)]


def _kind(name: str) -> SaturationKind | AdstockKind:
    """The adstock or saturation kind ``name`` (the registries share no name)."""
    return ADSTOCKS[name] if name in ADSTOCKS else saturation_kind(name)


def mixed_dims(registry: Mapping | None = None) -> dict[str, str]:
    """Parameter name → its dim in a spec that mixes kinds of ``registry`` (default
    :data:`SATURATIONS`)."""
    registry = SATURATIONS if registry is None else registry
    return {p.name: p.mixed_dim for k in registry.values() for p in k.parameters}


def mix_by_channel(parts: Sequence, groups, xp):
    """Arrays computed kind by kind (``parts[i]`` on the channels ``groups[i][1]``, last
    axis) put back in channel order: one array, dims (..., channel)."""
    order = np.concatenate([idx for _, idx, _ in groups])
    return xp.take(xp.concatenate(list(parts), axis=-1), np.argsort(order), axis=-1)
