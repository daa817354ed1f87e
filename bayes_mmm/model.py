"""``build_model(data, spec)``: the PyMC model, with named dims and deterministics.

Identification choices (why the geometry is good)
-------------------------------------------------
A naive Hill model on max-scaled media, with coefficients on the saturation's ceiling,
mixes badly: the ceiling, the half-saturation point and the slope trade off along a
banana whenever media sit in the curve's near-linear part, which is most of the time.
Here:

1. **Scale by typical exposure.** Media are divided by their mean non-zero value per
   (geo, channel), the target by its geo mean (``bayes_mmm.data``). "1" is a typical
   active week everywhere.
2. **Coefficients at typical exposure.** The saturation is normalised to 1 at
   exposure 1 (``kinds.unit_saturation``), so ``beta[g, c]`` is the channel's
   contribution in a typical active week as a share of geo revenue. The data pin this
   down directly; ``ec`` and ``slope`` only bend the curve around it, and their prior
   uncertainty does not leak into the effect size.
3. **Bounded Hill slope.** ``slope`` is truncated to [0.5, 3]: steep S-curves create
   near-discontinuities that NUTS cannot traverse.
4. **Non-centred log-normal geo hierarchy.** ``log beta[g, c] = beta_mu[c] +
   beta_sigma[c] * beta_z[g, c]`` with ``beta_z ~ N(0, 1)`` keeps coefficients positive
   and avoids the funnel when geos carry little individual information. ``spec.centred``
   can change the parameterisation per cell with a centring weight ``w``: ``beta_z ~
   Normal(w·(mu - m0), sigma**w)``, ``log beta = mu + sigma**(1-w)·(beta_z - w·(mu -
   m0))`` (``m0`` the prior mean of ``beta_mu``), centred at ``w = 1``. A tuple of channels
   centres those channels; ``"auto"`` estimates the weights from the data
   (:mod:`bayes_mmm.centring`). The weights reparameterise, they do not change the model.
5. **Centred baseline.** The sampled per-geo parameter is ``level`` (the geo's mean scaled
   target, ≈ 1 by construction); the intercept is derived as level minus the time-mean of
   every other component. Without this, intercepts trade off against the mean of always-on
   media (R-hat 1.03 and ESS 250 on a 10-geo panel here), with it they do not.
6. **Geo-relative baseline.** Levels, trends and noise are per geo on the scaled target;
   seasonality and controls are shared shares of revenue.
7. **Saturation per channel.** A ``{channel: kind}`` spec samples ``ec``/``slope`` only for
   Hill channels (dim ``hill_channel``) and ``lam`` only for log / negative-exponential
   ones (dim ``lam_channel``): a parameter that no channel uses would be sampled from its
   prior alone and only add dead dimensions to the sampler.
8. **Events with per-geo size.** ``event_coef[g, e] ~ Normal(event_mu[e], event_sigma[e])``,
   a share of geo revenue per unit of the event column: a holiday surge of different size
   per geo is partially pooled across geos. Unlike channel effects this hierarchy is
   *centred*: each geo sees its surge directly in its own revenue in known weeks, so the
   data pin every ``event_coef`` down far more tightly than the spread across geos, the
   regime where the non-centred form mixes badly. Measured on the 20-geo seed-000 panel
   (2 × 500 draws): non-centred gave R-hat 1.02 and ESS 94 on ``event_mu``, centred
   R-hat 1.003 and ESS 1641, and the whole fit ran 3× faster. Events are in
   the baseline, so the centred level (5.) averages over them like over the trend.
9. **Geo groups.** With ``geo_group`` (e.g. region) the hierarchical coefficients have
   three levels: ``log beta[g, c] = beta_mu[c] + group_sigma[c] * group_z[k(g), c] +
   beta_sigma[c] * beta_z[g, c]``, both deviations non-centred, so geos of a region share
   strength first with each other and then with the whole panel. Used only when there are
   at least two groups and fewer groups than geos (otherwise it adds nothing).
10. **Population scaling.** With ``population=`` the target scale of a geo is population ×
    the panel's per-capita mean (``data.Scaling``) instead of the geo's own mean. A geo's
    ``level`` is then its per-capita revenue relative to the panel (not ≈ 1 by
    construction, so its default prior widens to Normal(1, 0.5)), while ``beta``, events
    and noise are shares of a population-proportional scale: effects are compared per
    capita across geos, which is what the hierarchy pools. The scales stay O(1) and fixed
    (no parameter is divided by population inside the graph), so the geometry is that of
    the default model; the default (geo mean) scaling is still preferred when population
    is unknown or when geos differ in per-capita demand for reasons media do not explain.

11. **Single-precision media cube on large panels.** With ``spec.use_float32(n_geos)``
    (``float32=None``, the default: from ``spec.FLOAT32_GEOS`` geos up) the (date, geo,
    channel) cube (lag stack, adstock, saturation, coefficients) and its gradient run in
    float32; the baseline, likelihood and every posterior analysis stay float64. On
    Meridian's 40-geo panel this cuts a log-density gradient from ~910 to ~720 µs and moves
    the log density by ~1e-9 relative (``benchmarks/RESULTS.md``, section 4). Adstock
    and Hill saturation there are one fused kernel on the channel-first lag stack
    (``bayes_mmm.fused_hill``: vectorised float32 ``exp``/``log``, no transcendental in
    the backward pass), which halves the gradient again (same section).

12. **Time-varying baseline and media** (``bayes_mmm.hsgp``). ``tv_intercept`` (date,
    geo) is a per-geo HSGP with mean 0 over the history, added to the baseline: the centred
    level (5.) is still the geo's mean, and the process only moves the baseline around it.
    ``media_multiplier`` (date, channel) is ``exp(GP)`` normalised to mean 1 over the
    history: ``beta`` stays the channel's *average* effect at typical exposure, and the
    multiplier only redistributes that effect in time, so the two do not trade off (a
    multiplier free in level would make ``beta · c`` and ``c`` the same model for any
    ``c``). Both have length-scale floors of several adstock windows so they cannot absorb
    the media's own week-to-week shape. With a media process, ``season`` and
    ``tv_intercept`` are sampled net of the multiplier's effect (same prior; ``hsgp``).

The deterministic ``channel_contribution`` (target units) is part of the graph for users
who want it from PyMC, but ``fit`` does not store it: analysis recomputes it from the
parameter draws with the same numpy code (``bayes_mmm.response``), which is cheaper than
storing a (chain, draw, date, geo, channel) tensor.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc_extras.prior import Prior

from bayes_mmm import hsgp
from bayes_mmm.centring import centring_weights, process_contributions
from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError
from bayes_mmm.kinds import mixed_dim_channels
from bayes_mmm.response import (
    Design,
    baseline_response,
    fourier_names,
    implied_lift,
    lift_masks,
    make_design,
    media_response,
    mediator_response,
    path_matrix,
    weekday_names,
    weekday_order,
)
from bayes_mmm.rf import RFDesign
from bayes_mmm.spec import (  # noqa: F401 (re-export)
    ADSTOCK_DIM,
    SATURATION_DIM,
    SATURATION_PARAMS,
    ModelSpec,
)
from bayes_mmm.transforms import graph_data, graph_data_pack, graph_lag_stack, graph_lag_stacks


def parameter_names(data: MMMData, spec: ModelSpec) -> list[str]:
    """Names of the parameters that ``response`` needs and ``fit`` stores."""
    spec = spec.for_channels(data.channels)
    names = ["level", "intercept", *spec.transform_param_names(), "beta", "sigma"]
    pooling = spec.resolved_pooling(len(data.geos))
    if pooling == "hierarchical" and _group_index(data) is not None:
        names += ["group_sigma", "group_z"]
    names += {
        "hierarchical": ["beta_mu", "beta_sigma", "beta_z"],
        "pooled": ["beta_mu"],
        "unpooled": ["beta_log"],
    }[pooling]
    if spec.trend:
        names.append("trend")
    if spec.yearly_seasonality:
        names.append("season")
    if weekday_order(data, spec):
        names.append("weekday")
    if data.controls:
        names.append("control_coef")
    if spec.likelihood == "student_t":
        names.append("nu")
    if getattr(data, "events", ()):
        names += ["event_coef", "event_mu"]
        if len(data.geos) > 1:
            names += ["event_sigma"]
    if spec.control_adstock:
        names.append("control_alpha")
    if spec.mediators:
        names += [*MEDIATOR_PARAMS, "mediator_intercept"]
    names += roi_prior_names(spec)
    if spec.time_varying_intercept:
        names += ["tv_intercept", "tv_intercept_eta", "tv_intercept_ls"]
    if spec.time_varying_media:
        names += ["media_multiplier", "tv_media_eta", "tv_media_ls"]
    return names


MEDIATOR_PARAMS = ("mediator_coef", "mediator_level", "mediator_trend", "mediator_sigma")


def coords(data: MMMData, spec: ModelSpec) -> dict[str, list]:
    out = {
        "date": list(data.dates),
        "geo": list(data.geos),
        "channel": list(data.channels),
        "control": list(data.controls),
        "fourier": fourier_names(spec.yearly_seasonality),
        "weekday_fourier": weekday_names(weekday_order(data, spec)),
        "lag": list(range(spec.l_max)),
    }
    for kinds, dims in (
        (spec.adstock_kinds(data.channels), ADSTOCK_DIM),
        (spec.saturation_kinds(data.channels), SATURATION_DIM),
    ):
        if len(set(kinds)) > 1:
            for dim in dict.fromkeys(dims.values()):
                users = [data.channels[c] for c in mixed_dim_channels(kinds, dim)]
                if users:
                    out[dim] = users
    if getattr(data, "events", ()):
        out["event"] = list(data.events)
    if _group_index(data) is not None:
        out["geo_group"] = list(dict.fromkeys(data.geo_group))
    if spec.control_adstock:
        out["adstock_control"] = list(spec.control_adstock)
    if spec.lift_tests:
        out["lift_test"] = [f"{t.channel} {t.start}…{t.end}" for t in spec.lift_tests]
    if spec.mediators:
        out["mediator"] = list(spec.mediators)
        out["path"] = [f"{u}->{m}" for u, m in spec.mediator_paths()]
    return out


def check_identifiable(data: MMMData, spec: ModelSpec) -> None:
    """Raise ``DataError`` when the panel is too short for the spec (``SpecError`` when
    the spec's carryover or kind mappings do not fit the panel: ``ModelSpec.check_panel``)."""
    spec.check_panel(data.n_dates, data.channels)
    need = max(2 * spec.l_max, 4 * spec.yearly_seasonality + 4, len(data.channels) + 4)
    if data.n_dates < need:
        raise DataError(
            f"Only {data.n_dates} periods: with l_max={spec.l_max}, "
            f"{len(data.channels)} channels and seasonality order {spec.yearly_seasonality} "
            f"the model needs at least {need}. Use a longer history, a smaller l_max, or "
            "yearly_seasonality=0."
        )


def build_model(data: MMMData, spec: ModelSpec | None = None) -> pm.Model:
    """Build the PyMC model for ``data`` under ``spec``.

    Returns
    -------
    pm.Model
        Dims ``date``, ``geo``, ``channel``, ``control``, ``fourier``, ``lag``. Observed
        variable ``y`` is the scaled target (dims (date, geo)).
    """
    spec = (spec or ModelSpec()).for_channels(data.channels)
    check_identifiable(data, spec)
    spec.check_drivers(data.channels, data.controls)
    spec.check_time_varying(data.channels, data.n_dates)
    design = make_design(data, spec)
    with pm.Model(coords=coords(data, spec)) as model:
        tensors, packed = _graph_inputs(data, spec, design)
        params = _media_parameters(data, spec, design, packed)
        media = _graph_media_response(tensors.stack, params, spec, tensors.rf)
        contribution = media * design.target_scale[None, :, None]  # target units
        pm.Deterministic("channel_contribution", contribution, dims=("date", "geo", "channel"))
        mu = _expected_target(data, spec, tensors, params, media)
        _target_likelihood(spec, mu, packed["y"], params.get("sigma"))
        if spec.mediators:
            _mediator_likelihood(data, spec, tensors, params, packed["mediator"])
        if spec.lift_tests:
            _lift_likelihood(data, spec, contribution)
    return model


def _graph_inputs(data: MMMData, spec: ModelSpec, design: Design) -> tuple[Design, dict]:
    """The design as graph data (inside a model context).

    Data are shared inputs with static shapes (``transforms.graph_data``), the small ones
    in one pack: the compiled graph is then cached by shape, not by values.

    Returns
    -------
    tensors : Design
        ``design`` with its arrays as graph data; the lag stack in ``spec``'s precision.
    packed : dict
        The packed small inputs: ``y`` (the scaled target, dims (date, geo)), ``trend``,
        ``fourier``, ``controls``, and ``events``, ``mediator`` (the scaled mediators,
        dims (date, geo, mediator)) and ``centring`` (dims (geo, channel), see
        :func:`centring`) when the model has them.
    """
    small = {
        "y": scaled_target(data),
        "trend": design.trend,
        "fourier": design.fourier,
        "controls": design.controls,
    }
    if design.events is not None:
        small["events"] = design.events
    if design.weekday is not None:
        small["weekday"] = design.weekday
    if spec.mediators:
        meds = [data.channels.index(m) for m in spec.mediators]
        small["mediator"] = data.media[..., meds] / data.scaling.media[None, :, meds]
    weights = centring(data, spec)
    if weights is not None:
        small["centring"] = weights
    if spec.time_varying_media:
        small["tv_media_contribution"] = process_contributions(data, spec)
        small["tv_media_information"] = hsgp.residual_information(
            spec, small["tv_media_contribution"], design
        )
    packed = graph_data_pack(small, "model_data")
    dtype = "float32" if spec.use_float32(len(data.geos)) else "float64"
    stack, rf = _graph_media(design.stack.astype(dtype, copy=False), design.rf)
    tensors = Design(
        stack=stack,
        trend=packed["trend"],
        fourier=packed["fourier"],
        controls=packed["controls"],
        target_scale=design.target_scale,
        events=packed.get("events"),
        control_stack=None
        if design.control_stack is None
        else graph_lag_stack(design.control_stack),
        control_adstock_index=design.control_adstock_index,
        rf=rf,
        weekday=packed.get("weekday"),
    )
    return tensors, packed


def _graph_media(stack: np.ndarray, rf: RFDesign | None):
    """The media lag stack and the R&F lag stacks as graph data, in the stack's precision.

    Float32 R&F graphs hold one input (:func:`transforms.graph_lag_stacks`): the media
    stack's channel-first layout, whose R&F channels' rows are their reach, with the
    frequency rows after it; the fused kernel (:mod:`bayes_mmm.fused_rf`) reads it whole.
    Float64 graphs keep the plain (lag, date, geo, rf_channel) R&F inputs, and their draws.
    """
    if rf is None:
        return graph_lag_stack(stack), None
    dtype = str(stack.dtype)
    if dtype != "float32":
        place = partial(graph_data, dtype=dtype)
        return graph_lag_stack(stack), RFDesign(
            index=rf.index,
            reach=place(rf.reach.astype(dtype)),
            frequency=place(rf.frequency.astype(dtype)),
        )
    packed, (media, frequency) = graph_lag_stacks([stack, rf.frequency.astype(dtype)])
    reach = media[..., list(rf.index)]  # the media stack's R&F columns are their reach
    return media, RFDesign(index=rf.index, reach=reach, frequency=frequency, packed=packed)


def _media_parameters(data: MMMData, spec: ModelSpec, design: Design, packed: dict) -> dict:
    """Every sampled parameter but the level and mediator ones (inside a model context),
    ``sigma`` only where a time-varying process needs it first. ``packed``: the graph data
    of :func:`_graph_inputs` (``centring``: the hierarchy's weights, dims (geo, channel))."""
    weights = packed.get("centring")
    params = {}
    if spec.trend:
        params["trend"] = spec.prior("trend").create_variable("trend")
    if spec.yearly_seasonality and not spec.time_varying_media:
        params["season"] = spec.prior("season").create_variable("season")
    if design.weekday is not None:
        params["weekday"] = spec.prior("weekday").create_variable("weekday")
    if data.controls:
        params["control_coef"] = spec.prior("control_coef").create_variable("control_coef")
    if spec.control_adstock:
        params["control_alpha"] = spec.prior("control_alpha").create_variable("control_alpha")
    for name in spec.transform_param_names():
        params[name] = _transform_prior(spec, name).create_variable(name)
    if design.events is not None:
        params["event_coef"] = _event_coefficients(spec, len(data.geos))
    if spec.time_varying_intercept or spec.time_varying_media:
        hsgp.processes(spec, data.channels, data.n_dates, params, packed)
    pooling = spec.resolved_pooling(len(data.geos))
    params["beta"] = _channel_coefficients(
        spec, pooling, len(data.geos), group_index=_group_index(data), centring=weights
    )
    if spec.roi_priors:
        params["beta"] = _roi_prior_coefficients(data, spec, params)
    return params


def _expected_target(data: MMMData, spec: ModelSpec, tensors: Design, params: dict, media):
    """The expected scaled target, dims (date, geo), with a centred baseline.

    Samples each geo's mean ``level`` (≈ 1 on the scaled target) and derives the
    ``intercept`` (added to ``params``), so that intercepts do not trade off against the
    mean of always-on media, the trend or the controls.
    """
    level = _level_prior(spec, data).create_variable("level")
    params["intercept"] = 0.0 * level
    rest = baseline_response(tensors, params, spec) + media.sum(axis=-1)
    params["intercept"] = pm.Deterministic("intercept", level - rest.mean(axis=0), dims="geo")
    return rest + params["intercept"][None, :]


def _target_likelihood(spec: ModelSpec, mu, observed, sigma=None) -> None:
    """The scaled target ``y`` (dims (date, geo)) around ``mu``; ``sigma`` made here if None."""
    if sigma is None:
        sigma = spec.prior("sigma").create_variable("sigma")
    if spec.likelihood == "normal":
        pm.Normal("y", mu=mu, sigma=sigma[None, :], observed=observed, dims=("date", "geo"))
    else:
        nu = spec.prior("nu").create_variable("nu")
        pm.StudentT(
            "y", nu=nu, mu=mu, sigma=sigma[None, :], observed=observed, dims=("date", "geo")
        )


def _lift_likelihood(data: MMMData, spec: ModelSpec, contribution) -> None:
    """Calibration: each experiment observes the channel's contribution over its periods
    and geos (target units), with its own standard error.

    ``contribution`` is the channel contribution in target units, dims (date, geo, channel).
    """
    masks, index = lift_masks(data, spec)
    pm.Normal(
        "lift_obs",
        mu=implied_lift(contribution, masks, index),
        sigma=np.array([t.se for t in spec.lift_tests]),
        observed=np.array([t.lift for t in spec.lift_tests]),
        dims="lift_test",
    )


def _graph_media_response(stack, params: dict, spec: ModelSpec, rf: RFDesign | None = None):
    """``media_response`` in the stack's precision (``spec.float32``), returned as float64.

    The media parameters are cast down so the whole (date, geo, channel) cube (adstock
    ``gemv``, Hill's ``log``/``exp``, the coefficients and their gradients) runs in single
    precision; the cast back happens once, before the sum with the float64 baseline.
    """
    if stack.dtype == "float64":
        return media_response(stack, params, spec, rf)
    names = {"beta", "media_multiplier", *spec.transform_param_names()}
    low = {k: pt.cast(v, stack.dtype) if k in names else v for k, v in params.items()}
    return pt.cast(media_response(stack, low, spec, rf), "float64")


def _mediator_likelihood(
    data: MMMData, spec: ModelSpec, tensors: Design, params: dict, observed
) -> None:
    """The mediator equation, fitted jointly with the target's.

    ``mediator[t, g, m] / typical(m) ~ Normal(intercept[g, m] + trend[m] * t
    + sum_{paths into m} mediator_coef[p] * unit_response[t, g, upstream(p)], sigma[m])``,
    with the intercept derived from ``mediator_level`` as in the target equation (centred).
    ``observed`` is the scaled mediator (dims (date, geo, mediator)), graph data.
    """
    for name in MEDIATOR_PARAMS:
        params[name] = spec.prior(name).create_variable(name)
    paths = mediator_response(tensors.stack, params, spec, data.channels)  # (date, geo, path)
    rest = pt.tensordot(paths, path_matrix(spec), axes=[[-1], [0]])
    rest = rest + params["mediator_trend"][None, None, :] * tensors.trend[:, None, None]
    intercept = pm.Deterministic(
        "mediator_intercept",
        params["mediator_level"] - rest.mean(axis=0),
        dims=("geo", "mediator"),
    )
    pm.Normal(
        "mediator_obs",
        mu=rest + intercept[None],
        sigma=params["mediator_sigma"][None, None, :],
        observed=observed,
        dims=("date", "geo", "mediator"),
    )


def _group_index(data: MMMData) -> np.ndarray | None:
    """Index of each geo's group (dims (geo,)), or None when groups add no level."""
    groups = list(getattr(data, "geo_group", ()) or ())
    names = list(dict.fromkeys(groups))
    if not groups or not 2 <= len(names) < len(groups):
        return None
    return np.array([names.index(g) for g in groups])


def _channel_coefficients(
    spec: ModelSpec,
    pooling: str,
    n_geos: int,
    group_index: np.ndarray | None = None,
    centring=None,
):
    """Positive channel coefficients ``beta`` (dims (geo, channel)) under ``pooling``;
    ``group_index`` (dims (geo,)) adds a geo-group level to the hierarchy.

    ``centring`` (dims (geo, channel), weights ``w`` in [0, 1], see :func:`centring`) sets
    the parameterisation cell by cell with one variable: ``beta_z ~ Normal(w·(mu - m0),
    sigma**w)`` and ``log beta = mu + sigma**(1-w) · (beta_z - w·(mu - m0))``, with ``m0``
    the prior mean of ``beta_mu``. That is the non-centred ``mu + sigma·z`` at ``w = 0``
    (also what None gives) and the centred ``log beta = m0 + beta_z ~ Normal(mu, sigma)``
    at ``w = 1``; every ``w`` is the same model.
    """
    if pooling == "hierarchical":
        beta_mu = spec.prior("beta_mu").create_variable("beta_mu")
        beta_sigma = spec.prior("beta_sigma").create_variable("beta_sigma")
        if centring is None:
            z = pm.Normal("beta_z", 0.0, 1.0, dims=("geo", "channel"))
            log_beta = beta_mu[None, :] + beta_sigma[None, :] * z
        else:
            w, mu, sd = centring, beta_mu[None, :], beta_sigma[None, :]
            # beta_z is shifted by the prior mean m0 of beta_mu and starts at 0 whatever the
            # weights (log beta at m0 in a centred cell): its initial point must not depend
            # on data, or a model compiled for one panel would start where that panel's
            # weights put it, not where a fresh compile for the new panel does
            m0 = np.asarray(spec.prior("beta_mu").parameters.get("mu", 0.0), dtype=float)
            n_channels = len(pm.modelcontext(None).coords["channel"])
            z = pm.Normal(
                "beta_z",
                w * (mu - m0),
                sd**w,
                dims=("geo", "channel"),
                initval=np.zeros((n_geos, n_channels)),
            )
            log_beta = mu + sd ** (1.0 - w) * (z - w * (mu - m0))
        if group_index is not None:
            group_sigma = spec.prior("group_sigma").create_variable("group_sigma")
            group_z = pm.Normal("group_z", 0.0, 1.0, dims=("geo_group", "channel"))
            log_beta = log_beta + group_sigma[None, :] * group_z[group_index]
    elif pooling == "pooled":
        beta_mu = spec.prior("beta_mu").create_variable("beta_mu")
        log_beta = pt.ones((n_geos, 1)) * beta_mu[None, :]
    else:  # unpooled: independent per geo, each with the population prior
        base = spec.prior("beta_mu")
        log_beta = pm.Normal(
            "beta_log",
            mu=base.parameters.get("mu", -2.5),
            sigma=base.parameters.get("sigma", 1.0),
            dims=("geo", "channel"),
        )
    name = "beta_raw" if spec.roi_priors else "beta"  # see _roi_prior_coefficients
    return pm.Deterministic(name, pt.exp(log_beta), dims=("geo", "channel"))


def centring(data: MMMData, spec: ModelSpec) -> np.ndarray | None:
    """The centring weight of each hierarchical channel coefficient, dims (geo, channel).

    ``spec.centred == "auto"``: estimated from the data (:func:`bayes_mmm.centring.
    centring_weights`); a tuple of channels: 1 for those channels and 0 elsewhere. None
    when the coefficients are not hierarchical or ``spec.centred`` is empty (the plain
    non-centred graph). Weights that are all 0 still give the weighted graph, so that
    every panel of one shape shares one compiled model (``bayes_mmm.compile``).
    """
    spec = spec.for_channels(data.channels)
    if spec.resolved_pooling(len(data.geos)) != "hierarchical" or spec.centred == ():
        return None
    if spec.centred == "auto":
        return centring_weights(data, spec)
    row = [float(c in spec.centred) for c in data.channels]
    return np.tile(row, (len(data.geos), 1))


def _level_prior(spec: ModelSpec, data: MMMData) -> Prior:
    """The ``level`` prior: wider by default under population scaling (per-capita levels)."""
    if getattr(data, "population", None) is not None and "level" not in spec.priors:
        return Prior("Normal", mu=1.0, sigma=0.5, dims="geo")
    return spec.prior("level")


def _transform_prior(spec: ModelSpec, name: str):
    """The prior of an adstock or saturation parameter, on its sub-dim when the spec mixes
    that family's kinds."""
    p = spec.prior(name)
    mixed = spec.mixed_adstock if name in ADSTOCK_DIM else spec.mixed_saturation
    if mixed and p.dims == ("channel",):
        dim = {**SATURATION_DIM, **ADSTOCK_DIM}[name]
        p = Prior(p.distribution, dims=dim, centered=p.centered, **p.parameters)
    return p


def _event_coefficients(spec: ModelSpec, n_geos: int):
    """Per-geo event effects ``event_coef`` (dims (geo, event)), centred around a mean."""
    event_mu = spec.prior("event_mu").create_variable("event_mu")
    if n_geos == 1:
        coef = pt.ones((1, 1)) * event_mu[None, :]
        return pm.Deterministic("event_coef", coef, dims=("geo", "event"))
    event_sigma = spec.prior("event_sigma").create_variable("event_sigma")
    return pm.Normal("event_coef", event_mu[None, :], event_sigma[None, :], dims=("geo", "event"))


def scaled_target(data: MMMData) -> np.ndarray:
    """Observed target on the model's scale, dims (date, geo)."""
    return data.target / data.scaling.target[None, :]


# ---------------------------------------------------------------------- ROI priors
def roi_prior_names(spec: ModelSpec) -> list[str]:
    """Names of the sampled ROI parameters of ``spec.roi_priors`` (one scalar per channel)."""
    return [f"roi_{c}" for c in spec.roi_priors]


def _roi_prior_coefficients(data: MMMData, spec: ModelSpec, params: dict):
    """``beta`` (dims (geo, channel)) with a prior on ROI for the channels of
    ``spec.roi_priors``.

    For such a channel ``c`` the graph samples ``roi_c`` from its prior and sets

        beta[g, c] = beta_raw[g, c] * roi_c * spend_c / Σ_g beta_raw[g, c] * U[g, c],

    where ``U[g, c]`` is the channel's revenue at beta = 1 over the data window plus its
    ``l_max - 1``-period carryover tail, in target units (the same stack and the same
    ``media_response`` as ``analysis.roi_draws``). ``roi_draws`` of the resulting ``beta``
    is therefore *exactly* ``roi_c``, draw by draw: no approximation, the carryover tail
    included. Costs one extra media response over (date + tail, geo, channel).

    Geo panels: the hierarchy still gives the geo coefficients their relative structure
    (``beta_raw``), and the ROI prior sets the channel's overall scale. The channel's
    ``beta_mu`` then only moves that relative structure by a common factor that cancels, so
    it is sampled from its prior alone (for national data, where ``beta_raw`` is
    ``exp(beta_mu)``, entirely so): a harmless, independent dimension for the sampler.
    """
    spec.check_roi_priors(data.channels, data.channel_group, data.spend_groups)
    raw = params["beta"]
    tail = make_design(data, spec, tail=spec.l_max - 1)
    stack = pt.as_tensor_variable(tail.stack)
    unit = media_response(stack, {**params, "beta": pt.ones_like(raw)}, spec, tail.rf)
    per_unit = (unit * data.scaling.target[None, :, None]).sum(axis=0)  # (geo, channel)
    implied = (raw * per_unit).sum(axis=0)  # (channel,): revenue at beta_raw
    factor = pt.ones(len(data.channels))
    for (c, prior), name in zip(spec.roi_priors.items(), roi_prior_names(spec)):
        k = data.channels.index(c)
        spend = float(data.spend[..., data.spend_groups.index(data.channel_group[k])].sum())
        scalar = Prior(prior.distribution, centered=prior.centered, **prior.parameters)
        roi = scalar.create_variable(name)
        factor = pt.set_subtensor(factor[k], roi * spend / implied[k])
    return pm.Deterministic("beta", raw * factor[None, :], dims=("geo", "channel"))
