"""An independent reference for the model's definitions: plain loops, numpy only.

Written from the model's equations as the package documents them (``bayes_mmm.data``'s
scalings, ``bayes_mmm.transforms``' geometric adstock and Hill curve, ``bayes_mmm.results``'
ROI), with no import from ``bayes_mmm``. Tests compare the package's simulator and analyses
with it, so an error in how an effect or an ROI is *defined* shows up as a disagreement
instead of being reproduced on both sides of a recovery check.

Equations (one geo ``g``, one channel ``c``, periods ``t``):

- media scale ``m[g, c]``: mean of the non-zero media of (g, c) (the channel's panel-wide
  non-zero mean if the geo never runs it); target scale ``s[g]``: mean target of geo g;
- scaled media ``x[t] = media[t, g, c] / m[g, c]``;
- geometric adstock ``a[t] = sum_{l < L} w[l] x[t - l]``, ``w[l] = alpha**l / sum_k alpha**k``
  (``x`` is 0 before the first period and after the last);
- unit saturation ``h(a) = H(a) / H(1)``: Hill ``H(a) = a**slope / (a**slope + ec**slope)``
  (``H(0) = 0``) by default; logistic ``H(a) = (1 - exp(-lam a)) / (1 + exp(-lam a))`` and
  tanh ``H(a) = tanh(a / tanh_scale)`` (PyMC-Marketing's definitions) on request;
- contribution ``s[g] * beta[g, c] * h(a[t])`` in target units;
- mediation path (upstream u → mediator k): the mediator's shift caused by u is
  ``mediator_coef * h_u(a_u[t]) * m[g, k]``; the indirect effect is k's contributions on its
  observed values minus those on the observed values less that shift (floored at 0, on the
  observed scales), summed over periods and geos; direct is u's own contributions;
- ROI of channel c: its contributions summed over geos and over the observed periods plus
  ``L - 1`` periods of carryover after them, divided by its total spend;
- baseline ``s[g] * (intercept[g] + trend[g] * d[t] / d[T-1] + sum_k season[k] f_k(d[t])
  + sum_j control_coef[j] z[t, g, j])``, ``d`` days since the first period, ``f`` the
  yearly Fourier terms sin, cos of ``2 pi k d / 365.25`` (k = 1, 2, …), ``z`` the controls
  standardised by their panel-wide mean and (population) standard deviation.
"""

from __future__ import annotations

import math

import numpy as np

YEAR_DAYS = 365.25


def media_scale(media: np.ndarray) -> np.ndarray:
    """Mean non-zero media per (geo, channel); ``media`` dims (date, geo, channel)."""
    n_date, n_geo, n_channel = media.shape
    out = np.zeros((n_geo, n_channel))
    for c in range(n_channel):
        every = [media[t, g, c] for t in range(n_date) for g in range(n_geo) if media[t, g, c] > 0]
        for g in range(n_geo):
            on = [media[t, g, c] for t in range(n_date) if media[t, g, c] > 0]
            out[g, c] = sum(on) / len(on) if on else sum(every) / len(every)
    return out


def target_scale(target: np.ndarray) -> np.ndarray:
    """Mean target per geo; ``target`` dims (date, geo)."""
    n_date, n_geo = target.shape
    return np.array([sum(target[t, g] for t in range(n_date)) / n_date for g in range(n_geo)])


def adstock(x: list[float], alpha: float, l_max: int, tail: int = 0) -> list[float]:
    """Normalised geometric adstock of one series, ``tail`` zero periods appended."""
    total = sum(alpha**k for k in range(l_max))
    w = [alpha**k / total for k in range(l_max)]
    padded = list(x) + [0.0] * tail
    return [
        sum(w[lag] * padded[t - lag] for lag in range(l_max) if t - lag >= 0)
        for t in range(len(padded))
    ]


def hill(a: float, ec: float, slope: float) -> float:
    """``a**slope / (a**slope + ec**slope)``, 0 at ``a = 0``."""
    if a <= 0:
        return 0.0
    return a**slope / (a**slope + ec**slope)


def logistic(a: float, lam: float) -> float:
    """``(1 - exp(-lam a)) / (1 + exp(-lam a))``."""
    e = math.exp(-lam * a)
    return (1.0 - e) / (1.0 + e)


def tanh(a: float, tanh_scale: float) -> float:
    """``tanh(a / tanh_scale)``."""
    return math.tanh(a / tanh_scale)


def curve(params: dict, c: int, saturation: str):
    """Channel ``c``'s saturation ``H`` as a function of adstocked exposure."""
    if saturation == "logistic":
        return lambda a: logistic(a, params["lam"][c])
    if saturation == "tanh":
        return lambda a: tanh(a, params["tanh_scale"][c])
    return lambda a: hill(a, params["ec"][c], params["slope"][c])


def unit_response(
    x: list[float], params: dict, c: int, l_max: int, tail: int = 0, saturation: str = "hill"
) -> list[float]:
    """``h(a[t])`` of channel ``c``'s scaled series ``x``: adstock, then the unit saturation
    ``saturation`` (``"hill"``, ``"logistic"`` or ``"tanh"``)."""
    h = curve(params, c, saturation)
    unit = 1.0 / h(1.0)
    return [h(a) * unit for a in adstock(x, params["alpha"][c], l_max, tail)]


def contributions(
    media: np.ndarray,
    scale_t: np.ndarray,
    params: dict,
    l_max: int,
    tail: int = 0,
    scale_m: np.ndarray | None = None,
    saturation: str = "hill",
) -> np.ndarray:
    """Channel contributions in target units.

    Parameters
    ----------
    media : ndarray, dims (date, geo, channel), original units
    scale_t : ndarray, dims (geo,)
        Target scale of each geo.
    params : dict
        ``alpha``, ``ec``, ``slope`` (channel) and ``beta`` (geo, channel).
    tail : int
        Zero-media periods appended after the last date (carryover).
    scale_m : ndarray, dims (geo, channel), optional
        Media scales; by default ``media_scale(media)``. A counterfactual plan keeps the
        observed panel's scales.
    saturation : str
        ``"hill"`` (``params`` has ``ec``, ``slope``), ``"logistic"`` (``lam``) or ``"tanh"``
        (``tanh_scale``).

    Returns
    -------
    ndarray, dims (date + tail, geo, channel)
    """
    n_date, n_geo, n_channel = media.shape
    m = media_scale(media) if scale_m is None else scale_m
    out = np.zeros((n_date + tail, n_geo, n_channel))
    for g in range(n_geo):
        for c in range(n_channel):
            x = [media[t, g, c] / m[g, c] for t in range(n_date)]
            h = unit_response(x, params, c, l_max, tail, saturation)
            for t in range(n_date + tail):
                out[t, g, c] = scale_t[g] * params["beta"][g][c] * h[t]
    return out


def mediation(
    media: np.ndarray,
    scale_t: np.ndarray,
    params: dict,
    l_max: int,
    channels: list[str],
    paths: list[tuple[str, str]],
) -> dict[str, np.ndarray]:
    """Direct, indirect and total effect of each path ``(upstream, mediator)``, dims (path,),
    target units summed over dates and geos (no carryover tail).

    - direct: the upstream channel's own contributions;
    - the mediator's shift caused by the upstream channel, in mediator units:
      ``mediator_coef[p] * h_u(a_u[t]) * m[g, mediator]`` (the upstream channel's unit
      response, scaled by the mediator's media scale);
    - indirect: the mediator's contributions on its observed values minus those on the
      observed values less that shift (floored at 0), both on the observed panel's scales;
    - total = direct + indirect.
    """
    n_date, n_geo, _ = media.shape
    m = media_scale(media)
    observed = contributions(media, scale_t, params, l_max)
    out = {"direct": [], "indirect": [], "total": []}
    for p, (up, med) in enumerate(paths):
        u, k = channels.index(up), channels.index(med)
        without = media.copy()
        for g in range(n_geo):
            h = unit_response([media[t, g, u] / m[g, u] for t in range(n_date)], params, u, l_max)
            for t in range(n_date):
                shift = params["mediator_coef"][p] * h[t] * m[g, k]
                without[t, g, k] = max(media[t, g, k] - shift, 0.0)
        kept = contributions(without, scale_t, params, l_max, scale_m=m)
        direct = float(observed[..., u].sum())
        indirect = float(observed[..., k].sum() - kept[..., k].sum())
        out["direct"].append(direct)
        out["indirect"].append(indirect)
        out["total"].append(direct + indirect)
    return {key: np.array(v) for key, v in out.items()}


def roi(
    media: np.ndarray,
    spend: np.ndarray,
    scale_t: np.ndarray,
    params: dict,
    l_max: int,
    saturation: str = "hill",
) -> tuple[np.ndarray, np.ndarray]:
    """True ROI with the carryover tail: (channel,) overall and (geo, channel) by geo.

    ``spend`` has dims (date, geo, channel): the money behind each media column.
    """
    contrib = contributions(media, scale_t, params, l_max, tail=l_max - 1, saturation=saturation)
    n_all, n_geo, n_channel = contrib.shape
    by_geo = np.zeros((n_geo, n_channel))
    overall = np.zeros(n_channel)
    for c in range(n_channel):
        inc_all, spend_all = 0.0, 0.0
        for g in range(n_geo):
            inc = sum(contrib[t, g, c] for t in range(n_all))
            money = sum(spend[t, g, c] for t in range(spend.shape[0]))
            by_geo[g, c] = inc / money
            inc_all += inc
            spend_all += money
        overall[c] = inc_all / spend_all
    return overall, by_geo


def baseline(
    days: np.ndarray, controls: np.ndarray, scale_t: np.ndarray, params: dict
) -> np.ndarray:
    """Non-media expected target in target units.

    Parameters
    ----------
    days : ndarray, dims (date,)
        Days since the first period.
    controls : ndarray, dims (date, geo, control), original units
    params : dict
        ``intercept``, ``trend`` (geo), ``season`` (fourier: sin_1, cos_1, sin_2, …) and
        ``control_coef`` (control).

    Returns
    -------
    ndarray, dims (date, geo)
    """
    n_date, n_geo, n_control = controls.shape
    center, sd = [], []
    for j in range(n_control):
        values = [controls[t, g, j] for t in range(n_date) for g in range(n_geo)]
        mean = sum(values) / len(values)
        center.append(mean)
        sd.append(math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)))
    span = max(days[-1], 1.0)
    out = np.zeros((n_date, n_geo))
    for t in range(n_date):
        season = 0.0
        for k in range(len(params["season"]) // 2):
            angle = 2.0 * math.pi * (k + 1) * days[t] / YEAR_DAYS
            season += params["season"][2 * k] * math.sin(angle)
            season += params["season"][2 * k + 1] * math.cos(angle)
        for g in range(n_geo):
            level = params["intercept"][g] + params["trend"][g] * days[t] / span + season
            for j in range(n_control):
                level += params["control_coef"][j] * (controls[t, g, j] - center[j]) / sd[j]
            out[t, g] = scale_t[g] * level
    return out
