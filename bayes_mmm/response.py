"""The model's expected response, written once for the PyMC graph and for posterior draws.

``build_model`` calls these functions with pytensor random variables; the analysis and
optimizer call them with numpy arrays of posterior draws (leading sample dim). One
definition of the mean is what makes "contribution", "ROI", "marginal ROI" and the
optimizer's response agree with the fitted model by construction.

With a mixed adstock or saturation spec (``{channel: kind}``, resolved to the data's
channel order by ``ModelSpec.for_channels``), each kind is applied to its own channels with
its own parameters (e.g. ``ec``/``slope`` on ``hill_channel``, ``theta`` on
``delay_channel``) and the results are put back in channel order; the same code runs on
tensors and on draws.

Events (holidays, promotions) enter the baseline with a per-geo coefficient
``event_coef`` (dims (geo, event)): a share of the geo's mean target per unit of the event
column.

Time-varying parts (``ModelSpec.time_varying_intercept`` / ``time_varying_media``) enter
as draws of their latent curves: ``tv_intercept`` (..., date, geo) is added to the
baseline and ``media_multiplier`` (..., date, channel) multiplies each channel's
contribution. A design longer than the history (a carryover tail, a planning window)
holds both at their last value (:func:`hold_last`): the latest level is the best guess a
process with a long length scale gives for the near future, and, unlike a forecast, it
needs no extrapolation of the GP beyond the data.

Everything here is on the *scaled* problem (``bayes_mmm.data.Scaling``); multiply by
``Design.target_scale`` (dims geo) to get target units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pytensor.graph.basic import Variable

from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.kinds import (
    ADSTOCKS,
    SATURATIONS,
    adstock_groups,
    mix_by_channel,
    saturation_groups,
    unit_saturation,
)
from bayes_mmm.rf import RFDesign, merge_rf, rf_design, rf_unit_response
from bayes_mmm.spec import ModelSpec
from bayes_mmm.transforms import (
    adstock,
    channel_first_stack,
    channel_first_to_cube,
    fourier_features,
    lag_stack,
    static_shape,
    xp_of,
)

YEAR_DAYS = 365.25
WEEK_DAYS = 7.0
#: Build float32 Hill graphs through the fused adstock + Hill kernel
#: (``bayes_mmm.fused_hill``). False
#: builds the reference graph of separate ops, against which the kernel is tested.
FUSED_HILL = True


@dataclass(frozen=True)
class Design:
    """Numeric inputs of the mean function, derived from data and spec.

    Attributes
    ----------
    stack : ndarray, dims (lag, date, geo, channel)
        Lag stack of scaled media (``date`` may include a zero-media tail).
    trend : ndarray, dims (date,)
        Time rescaled to [0, 1] over the observed span.
    fourier : ndarray, dims (date, fourier)
    controls : ndarray, dims (date, geo, control)
        Standardised controls.
    target_scale : ndarray, dims (geo,)
    events : ndarray, dims (date, geo, event), optional
        Event columns (0/1 or intensity); zero in the tail.
    control_stack : ndarray, dims (lag, date, geo, adstock_control), optional
        Lag stack of the standardised controls in ``spec.control_adstock`` (0, the
        control's mean, before the first date).
    control_adstock_index : tuple of int
        Position of each adstocked control in ``controls``.
    rf : RFDesign, optional
        Lag stacks of the reach-and-frequency channels' scaled reach and frequency
        (``bayes_mmm.rf``); None without R&F channels.
    """

    stack: np.ndarray
    trend: np.ndarray
    fourier: np.ndarray
    controls: np.ndarray
    target_scale: np.ndarray
    events: np.ndarray | None = None
    control_stack: np.ndarray | None = None
    control_adstock_index: tuple[int, ...] = ()
    rf: RFDesign | None = None
    weekday: np.ndarray | None = None


def weekday_order(data: MMMData, spec: ModelSpec) -> int:
    """Fourier order of the day-of-week cycle: ``spec.weekday_seasonality`` on daily
    panels, 0 otherwise (a weekly or monthly panel has no day-of-week variation)."""
    return spec.weekday_seasonality if getattr(data, "freq", "") == "D" else 0


def weekday_names(order: int) -> list[str]:
    return [f"dow_{name}" for name in fourier_names(order)]


def fourier_names(order: int) -> list[str]:
    return [f"{f}_{k}" for k in range(1, order + 1) for f in ("sin", "cos")]


def make_design(
    data: MMMData,
    spec: ModelSpec,
    media: np.ndarray | None = None,
    tail: int = 0,
    frequency: np.ndarray | None = None,
) -> Design:
    """Build the design for the observed media, or for counterfactual ``media``.

    Parameters
    ----------
    media : ndarray, dims (date, geo, channel), optional
        Media in original units replacing the observed media (a counterfactual); its
        length may differ from the data's only through ``tail``.
    tail : int
        Zero-media periods appended (carryover after the last date). Trend, seasonality
        and controls are held at their last value there; only the media part is used.
    frequency : ndarray, dims (date, geo, rf_channel), optional
        Frequency of the R&F channels replacing the observed one (default: observed);
        their reach is the R&F channels' entries of ``media``.
    """
    sc = data.scaling
    x = data.media if media is None else np.asarray(media, dtype=float)
    stack = lag_stack(x / sc.media[None], spec.l_max, tail=tail)
    days = (data.dates - data.dates[0]).days.to_numpy(dtype=float)
    span = max(days[-1], 1.0)
    step = days[1] - days[0] if len(days) > 1 else 7.0
    days = np.concatenate([days, days[-1] + step * np.arange(1, tail + 1)])
    controls = (data.control_values - sc.control_center) / sc.control_scale
    if tail:
        controls = np.concatenate([controls, np.repeat(controls[-1:], tail, axis=0)])
    events = getattr(data, "event_values", None)
    if events is not None and tail:
        events = np.concatenate([events, np.zeros((tail, *events.shape[1:]))])
    index = tuple(data.controls.index(c) for c in spec.control_adstock if c in data.controls)
    control_stack = lag_stack(controls[..., list(index)], spec.l_max) if index else None
    return Design(
        stack=stack,
        trend=days / span,
        fourier=fourier_features(days, YEAR_DAYS, spec.yearly_seasonality),
        controls=controls,
        target_scale=sc.target,
        events=events,
        control_stack=control_stack,
        control_adstock_index=index,
        rf=_rf_design(data, spec, x, frequency, tail),
        weekday=fourier_features(days, WEEK_DAYS, weekday_order(data, spec))
        if weekday_order(data, spec)
        else None,
    )


def _rf_design(data: MMMData, spec: ModelSpec, media, frequency, tail: int) -> RFDesign | None:
    """The R&F lag stacks of ``media`` (reach) and ``frequency``; None without R&F."""
    rf_channels = getattr(data, "rf_channels", ())
    if not rf_channels:
        return None
    index = [data.channels.index(c) for c in rf_channels]
    reach = media[..., index] / data.scaling.media[None, :, index]
    freq = data.frequency if frequency is None else np.asarray(frequency, dtype=float)
    return rf_design(reach, freq / data.scaling.frequency, index, spec.l_max, tail)


def saturation_params(params: Mapping, spec: ModelSpec) -> dict:
    """The saturation parameters of a single-kind spec, expanded to (..., 1, 1, channel)."""
    if not isinstance(spec.saturation, str):  # a {channel: kind} spec
        raise SpecError(
            "saturation_params needs one saturation kind for all channels; for a "
            "{channel: kind} spec use media_response (or saturation_groups)."
        )
    return {n: params[n][..., None, None, :] for n in SATURATIONS[spec.saturation].names}


def _mixed_saturation(ad, params: Mapping, kinds):
    """Unit saturation of adstocked media ``ad`` (..., date, geo, channel), kind by channel."""
    xp = xp_of(ad)
    groups = saturation_groups(kinds)
    parts = [
        unit_saturation(
            kind,
            xp.take(ad, idx, axis=-1),
            **{
                n: xp.take(params[n], pidx, axis=-1)[..., None, None, :]
                for n in SATURATIONS[kind].names
            },
        )
        for kind, idx, pidx in groups
    ]
    return mix_by_channel(parts, groups, xp)


def adstock_weights(params: Mapping, spec: ModelSpec):
    """Lag weights, dims (..., lag, channel), from the adstock parameters in ``params``
    (each dims (..., channel), or (..., its mixed dim) when ``spec`` mixes adstock kinds,
    whose mapping then lists every channel in order: ``spec.for_channels``)."""
    if isinstance(spec.adstock, str):  # one kind for every channel
        kind = ADSTOCKS[spec.adstock]
        return kind.weights(*(params[n] for n in kind.names), spec.l_max)
    groups = adstock_groups(list(spec.adstock.values()))
    xp = xp_of(*(params[n] for n in spec.adstock_param_names()))
    parts = [
        ADSTOCKS[kind].weights(
            *(xp.take(params[n], pidx, axis=-1) for n in ADSTOCKS[kind].names), spec.l_max
        )
        for kind, _, pidx in groups
    ]
    return mix_by_channel(parts, groups, xp)


def media_response(stack, params: Mapping, spec: ModelSpec, rf: RFDesign | None = None):
    """Scaled contribution of each channel.

    Parameters
    ----------
    stack : array, dims (lag, date, geo, channel)
    rf : RFDesign, optional
        The R&F channels' reach and frequency (``Design.rf``): their response is
        ``beta · adstock(reach × saturation(frequency))`` (``bayes_mmm.rf``) instead of
        ``beta · saturation(adstock(media))``.
    params : mapping
        ``beta`` (..., geo, channel) and the adstock's and saturation's parameters
        (..., channel); for a mixed spec each on its mixed dim (``bayes_mmm.kinds``), e.g.
        ``ec``/``slope`` (..., hill_channel) and ``lam`` (..., lam_channel).

    Returns
    -------
    array, dims (..., date, geo, channel)
    """
    out = params["beta"][..., None, :, :] * _unit_media_response(stack, params, spec, rf)
    if "media_multiplier" in params:
        mult = hold_last(params["media_multiplier"], static_shape(stack)[1])
        out = out * mult[..., :, None, :]
    return out


def hold_last(x, n: int | None, axis: int = -2):
    """``x`` extended to ``n`` entries along ``axis`` by repeating its last entry.

    Parameters
    ----------
    x : array, e.g. dims (..., date, geo) or (..., date, channel)
        A latent curve over the history.
    n : int or None
        Length wanted (history plus tail); None or the current length: ``x`` unchanged.
    """
    length = static_shape(x)[axis]
    if n is None or length == n:
        return x
    xp = xp_of(x)
    if length is None:
        length = x.shape[axis]
    return xp.take(x, xp.minimum(xp.arange(n), length - 1), axis=axis)


def _unit_media_response(stack, params: Mapping, spec: ModelSpec, rf: RFDesign | None = None):
    """Adstocked, saturated media at beta = 1, dims (..., date, geo, channel); R&F
    channels take ``adstock(reach × saturation(frequency))``."""
    weights = adstock_weights(params, spec)
    if rf is not None and rf.packed is not None and _fused_hill_applies(stack, params, spec):
        return _fused_unit_hill_rf(stack, weights, params, rf)
    unit = _unit_response(stack, weights, params, spec)
    if rf is not None:
        n_channel = static_shape(stack)[-1]
        unit = merge_rf(unit, rf_unit_response(rf, weights, params, spec), rf.index, n_channel)
    return unit


def _unit_response(stack, weights, params: Mapping, spec: ModelSpec):
    """``saturation(adstock(media))`` of every channel, dims (..., date, geo, channel)."""
    if _fused_hill_applies(stack, params, spec):
        return _fused_unit_hill(stack, weights, params)
    ad = adstock(stack, weights)
    if not isinstance(spec.saturation, str):  # a {channel: kind} spec
        kinds = list(spec.saturation.values())
        n_channels = static_shape(stack)[-1]
        if len(kinds) != n_channels:
            raise SpecError(
                f"The saturation mapping covers {len(kinds)} channels but the media have "
                f"{n_channels}: resolve the spec with spec.for_channels(data.channels)."
            )
        return _mixed_saturation(ad, params, kinds)
    return unit_saturation(spec.saturation, ad, **saturation_params(params, spec))


def _fused_hill_applies(stack, params: Mapping, spec: ModelSpec) -> bool:
    """Use :mod:`bayes_mmm.fused_hill`: a float32 model graph, Hill on every channel and
    parameters without sample dims (the numpy path on draws never takes it)."""
    return (
        FUSED_HILL
        and isinstance(stack, Variable)
        and getattr(stack, "dtype", None) == "float32"  # tensors, shared ones included
        and not spec.mixed_saturation
        and spec.saturation == "hill"
        and params["ec"].ndim == 1
        and params["slope"].ndim == 1
    )


def _fused_unit_hill(stack, weights, params: Mapping):
    """``unit_saturation("hill", adstock(stack, weights))`` through the fused kernel."""
    _, n_date, n_geo, _ = static_shape(stack)
    return channel_first_to_cube(_fused_channel_first(stack, weights, params), n_date, n_geo)


def _fused_unit_hill_rf(stack, weights, params: Mapping, rf: RFDesign):
    """:func:`_fused_unit_hill` with R&F channels: every channel through one op of
    :mod:`bayes_mmm.fused_rf` on the graph's packed input (``rf.packed``: the media stack
    and the frequency stacks, whose lag-0 rows are all the R&F channels need, each lag
    being the same series shifted). Same values as ``merge_rf`` of the two reference paths.
    """
    from bayes_mmm.fused_rf import media_channel_first

    _, n_date, n_geo, _ = static_shape(stack)
    w, ec, slope = weights.T, params["ec"], params["slope"]
    out = media_channel_first(rf.packed, w, ec, slope, rf.index, n_geo)
    return channel_first_to_cube(out, n_date, n_geo)


def _fused_channel_first(stack, weights, params: Mapping):
    """The fused kernel's output, dims (channel, date·geo)."""
    from bayes_mmm.fused_hill import adstock_hill_channel_first

    by_lag = channel_first_stack(stack)  # (channel, lag, date·geo): the stack is float32
    return adstock_hill_channel_first(by_lag, weights.T, params["ec"], params["slope"])


def baseline_response(design: Design, params: Mapping, spec: ModelSpec):
    """Scaled non-media part of the mean: intercept, trend, seasonality, controls, events.

    Returns
    -------
    array, dims (..., date, geo)
    """
    out = params["intercept"][..., None, :] + 0.0 * design.trend[:, None]
    if spec.trend:
        out = out + params["trend"][..., None, :] * design.trend[:, None]
    if spec.yearly_seasonality:
        season = (params["season"][..., None, :] * design.fourier).sum(axis=-1)
        out = out + season[..., None]
    if "control_coef" in params:
        out = out + control_response(design, params).sum(axis=-1)
    if "weekday" in params and design.weekday is not None:
        out = out + (params["weekday"][..., None, :] * design.weekday).sum(axis=-1)[..., None]
    if "event_coef" in params and design.events is not None:
        out = out + (params["event_coef"][..., None, :, :] * design.events).sum(axis=-1)
    if "tv_intercept" in params:
        out = out + hold_last(params["tv_intercept"], static_shape(design.trend)[0])
    return out


def expected_response(design: Design, params: Mapping, spec: ModelSpec):
    """Scaled expected target, dims (..., date, geo)."""
    media = media_response(design.stack, params, spec, design.rf)
    return baseline_response(design, params, spec) + media.sum(axis=-1)


def control_response(design: Design, params: Mapping):
    """Scaled effect of each control: ``control_coef`` × the standardised control, adstocked
    (``control_alpha``, normalised weights) for the controls in ``spec.control_adstock``.

    Returns
    -------
    array, dims (..., date, geo, control)
    """
    coef = params["control_coef"][..., None, None, :]
    index = list(design.control_adstock_index)
    if not index or design.control_stack is None:
        return coef * design.controls
    xp = xp_of(params["control_coef"], params["control_alpha"])
    l_max = static_shape(design.control_stack)[0]
    weights = ADSTOCKS["geometric"].weights(params["control_alpha"], l_max)
    carried = adstock(design.control_stack, weights)
    n = static_shape(design.controls)[-1]
    # Adstocked columns replace the plain ones; building the (..., date, geo, control) array
    # by a constant 0/1 scatter keeps the code identical for numpy and pytensor.
    scatter = np.zeros((len(index), n))
    scatter[np.arange(len(index)), index] = 1.0
    keep = np.ones(n)
    keep[index] = 0.0
    values = design.controls * keep + xp.tensordot(carried, scatter, axes=[[-1], [0]])
    return coef * values


def mediator_response(stack, params: Mapping, spec: ModelSpec, channels) -> Any:
    """Scaled effect of each upstream channel on its mediator, path by path.

    The upstream channel's own adstock and saturation shape (``alpha``, ``ec``/``slope`` or
    ``lam``) is reused: one carryover and one saturation per channel, whichever outcome it
    moves; only the size ``mediator_coef`` (dims (..., path)) is path-specific.

    Parameters
    ----------
    stack : array, dims (lag, date, geo, channel)
    channels : sequence of str
        The data's channels, in ``stack`` order.

    Returns
    -------
    array, dims (..., date, geo, path)
        In units of the mediator's typical (mean non-zero) value.
    """
    xp = xp_of(stack, params["beta"])
    unit = media_response(stack, {**params, "beta": xp.ones_like(params["beta"])}, spec)
    up = np.array([list(channels).index(u) for u, _ in spec.mediator_paths()])
    return params["mediator_coef"][..., None, None, :] * xp.take(unit, up, axis=-1)


def path_matrix(spec: ModelSpec) -> np.ndarray:
    """0/1 matrix mapping each path to its mediator, dims (path, mediator)."""
    meds = list(spec.mediators)
    out = np.zeros((len(spec.mediator_paths()), len(meds)))
    for p, (_, m) in enumerate(spec.mediator_paths()):
        out[p, meds.index(m)] = 1.0
    return out


def lift_masks(data: MMMData, spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``spec.lift_tests`` ran.

    Returns
    -------
    masks : ndarray, dims (lift_test, date, geo)
        1 for the periods (start date in [start, end]) and geos of the test.
    channel_index : ndarray of int, dims (lift_test,)
    """
    masks = np.zeros((len(spec.lift_tests), data.n_dates, len(data.geos)))
    index = np.zeros(len(spec.lift_tests), dtype=int)
    for k, t in enumerate(spec.lift_tests):
        if t.channel not in data.channels:
            raise SpecError(
                f"Lift test {k} names channel {t.channel!r}, not in the data "
                f"({list(data.channels)})."
            )
        unknown = [g for g in t.geos if g not in data.geos]
        if unknown:
            raise SpecError(f"Lift test {k} names geos {unknown}, not in the data.")
        when = (data.dates >= np.datetime64(t.start)) & (data.dates <= np.datetime64(t.end))
        if not when.any():
            raise SpecError(
                f"Lift test {k} ({t.channel}, {t.start}…{t.end}) covers no period of the data "
                f"({data.dates[0].date()}…{data.dates[-1].date()}): fix its dates or drop it."
            )
        where = np.array([not t.geos or g in t.geos for g in data.geos])
        masks[k] = when[:, None] & where[None, :]
        index[k] = data.channels.index(t.channel)
    return masks, index


def implied_lift(contribution, masks: np.ndarray, channel_index: np.ndarray):
    """Model-implied lift of each test: the channel's contribution summed over the test's
    periods and geos.

    Parameters
    ----------
    contribution : array, dims (..., date, geo, channel), target units
    masks : ndarray, dims (lift_test, date, geo)
    channel_index : ndarray of int, dims (lift_test,)

    Returns
    -------
    array, dims (..., lift_test)
    """
    xp = xp_of(contribution)
    picked = xp.take(contribution, channel_index, axis=-1)  # (..., date, geo, lift_test)
    weights = np.moveaxis(masks, 0, -1)  # (date, geo, lift_test)
    return (picked * weights).sum(axis=(-3, -2))
