"""The model's expected response, written once for the PyMC graph and for posterior draws.

``build_model`` calls these functions with pytensor random variables; the analysis and
optimizer call them with numpy arrays of posterior draws (leading sample dim). One
definition of the mean is what makes "contribution", "ROI", "marginal ROI" and the
optimizer's response agree with the fitted model by construction.

Everything here is on the *scaled* problem (``bayes_mmm.data.Scaling``); multiply by
``Design.target_scale`` (dims geo) to get target units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.spec import ModelSpec
from bayes_mmm.transforms import (
    adstock,
    fourier_features,
    geometric_weights,
    lag_stack,
    unit_saturation,
)

YEAR_DAYS = 365.25


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
    """

    stack: np.ndarray
    trend: np.ndarray
    fourier: np.ndarray
    controls: np.ndarray
    target_scale: np.ndarray


def fourier_names(order: int) -> list[str]:
    return [f"{f}_{k}" for k in range(1, order + 1) for f in ("sin", "cos")]


def make_design(
    data: MMMData, spec: ModelSpec, media: np.ndarray | None = None, tail: int = 0
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
    return Design(
        stack=stack,
        trend=days / span,
        fourier=fourier_features(days, YEAR_DAYS, spec.yearly_seasonality),
        controls=controls,
        target_scale=sc.target,
    )


def saturation_params(params: Mapping, spec: ModelSpec) -> dict:
    """The saturation parameters of ``spec.saturation``, expanded to (..., 1, 1, channel)."""
    names = ("ec", "slope") if spec.saturation == "hill" else ("lam",)
    return {n: params[n][..., None, None, :] for n in names}


def media_response(stack, params: Mapping, spec: ModelSpec):
    """Scaled contribution of each channel.

    Parameters
    ----------
    stack : array, dims (lag, date, geo, channel)
    params : mapping
        ``alpha`` (..., channel), ``beta`` (..., geo, channel) and the saturation's
        parameters (..., channel).

    Returns
    -------
    array, dims (..., date, geo, channel)
    """
    ad = adstock(stack, geometric_weights(params["alpha"], spec.l_max))
    sat = unit_saturation(spec.saturation, ad, **saturation_params(params, spec))
    return params["beta"][..., None, :, :] * sat


def baseline_response(design: Design, params: Mapping, spec: ModelSpec):
    """Scaled non-media part of the mean: intercept, trend, seasonality and controls.

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
        out = out + (params["control_coef"][..., None, None, :] * design.controls).sum(axis=-1)
    return out


def expected_response(design: Design, params: Mapping, spec: ModelSpec):
    """Scaled expected target, dims (..., date, geo)."""
    media = media_response(design.stack, params, spec)
    return baseline_response(design, params, spec) + media.sum(axis=-1)
