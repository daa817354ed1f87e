"""``bm.simulate``: synthetic geo panels with known truth, for recovery checks.

The generative process is the model's own (``bayes_mmm.response``) evaluated at known
parameters, so a correct sampler must recover it: the spec's adstock kinds (normalised lag
weights) and saturation kinds (normalised at typical exposure), each kind's true parameters
drawn from the range its registry entry declares (``kinds.Parameter.truth``), log-normal
geo-level channel effects around a channel mean, geo intercepts and trends, shared yearly
seasonality and controls, Gaussian noise proportional to each geo's size.

Ground truth ROI is the same counterfactual the analysis uses: the channel's revenue
(carryover tail included) divided by its spend. With ``spend_groups`` one spend column pays
for several channels and the truth has one ROI per group: the summed revenue of its
channels divided by the group's spend (``MMMData.group_labels`` names the groups).

Optional parts (all off by default, so default panels are unchanged bit for bit; their
randomness comes from a second stream seeded by ``(seed, 1)``; the parameters of the
adstock and saturation kinds added after the first four parameters come from a third,
``(seed, 2)``):

- media as impressions with spend behind them (``spend_groups``: cost per impression
  varies by channel and a little by week);
- organic media (``organic``): always-on impressions with an effect and no spend;
- a Christmas / New-Year ``holiday`` event column with a per-geo surge (``holiday_effect``,
  ``holiday_spread``), the model's own event term (``Truth.event_effect`` on its scale);
- a drifting baseline and a seasonal media multiplier (``bayes_mmm.drift``);
- the range of the true geometric carryover ``alpha`` (``alpha_range``): the same uniform
  draw mapped linearly from the declared range (``kinds``: 0.1 to 0.6) onto the one given,
  so every other part of the panel stays that of the default panel of the same seed, and
  ``alpha_range=(0, 0.05)`` gives a panel with (almost) no carryover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm import drift
from bayes_mmm.data import MMMData
from bayes_mmm.kinds import FIRST_TRUTHS, draw_truth, transform_parameters
from bayes_mmm.response import baseline_response, make_design, media_response
from bayes_mmm.simulate_drivers import (  # noqa: F401 (re-export)
    SEED003_CONTROLS,
    SEED003_GENERATOR_SEED,
    SEED003_ORGANIC,
    SEED003_PAID,
    SEED003_UPSTREAM,
    seed003_setup,
    simulate_drivers,
)
from bayes_mmm.spec import ModelSpec

CHANNEL_NAMES = (
    "tv", "search", "social", "display", "radio", "video", "ooh", "print", "email",
    "affiliate", "podcast", "influencer", "retail", "cinema", "sms",
)  # fmt: skip


@dataclass(frozen=True)
class Truth:
    """The simulator's ground truth.

    Attributes
    ----------
    params : dict of str to ndarray
        Parameters on the model's scale (``alpha``, ``ec``, ``slope`` (channel), ``beta``
        (geo, channel), ``intercept``, ``trend``, ``sigma`` (geo), ``season`` (fourier),
        ``control_coef`` (control)), with ``geo_size`` (geo) the revenue scale of each geo.
    roi : pd.Series
        True ROI per spend group (carryover included), labelled like ``fit.roi()``: the
        channel's name for a one-channel group, else the spend column's name.
    roi_by_geo : pd.DataFrame
        True ROI, geo × spend group.
    contributions : DataArray, dims (date, geo, channel)
        True channel contributions in target units.
    baseline : DataArray, dims (date, geo)
        True non-media expected target.
    spec : ModelSpec
        The structure the data were generated with.
    event_effect : DataFrame or None
        True event effect, geo × event, as the model's ``event_coef``: a share of the geo's
        mean target (``params["event_coef"]``: a share of ``geo_size``).
    """

    params: dict
    roi: pd.Series
    roi_by_geo: pd.DataFrame
    contributions: xr.DataArray
    baseline: xr.DataArray
    spec: ModelSpec
    event_effect: pd.DataFrame | None = None


def simulate(
    n_geos: int = 10,
    n_weeks: int = 156,
    n_channels: int = 5,
    n_controls: int = 1,
    noise: float = 0.05,
    seed: int = 0,
    start: str = "2022-01-03",
    spec: ModelSpec | None = None,
    geo_spread: float = 0.2,
    channels: Sequence[str] | None = None,
    spend_groups: Mapping[str, Sequence[str]] | None = None,
    organic: Sequence[str] = (),
    holiday_effect: float = 0.0,
    holiday_spread: float = 0.5,
    spend_variation: float = 1.0,
    baseline_drift: float = 0.0,
    media_seasonality: float = 0.0,
    alpha_range: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, Truth]:
    """Simulate a weekly panel with known truth.

    Parameters
    ----------
    n_geos, n_weeks, n_channels, n_controls, seed : int
    noise : float
        Observation noise as a share of each geo's revenue level.
    spec : ModelSpec, optional
        Structure to simulate from (saturation, ``l_max``, seasonality order).
    geo_spread : float
        Standard deviation of log channel effects across geos.
    channels : list of str, optional
        Names of the paid channels (overrides ``n_channels``).
    spend_groups : dict of str to list of str, optional
        ``{spend column: channels it pays for}``, covering every paid channel once. Media
        columns are then impressions and the spend columns hold money; without it the
        media columns are spend.
    organic : list of str
        Organic media (impressions, no spend), with an effect like paid media.
    holiday_effect, holiday_spread : float
        Mean holiday surge as a share of geo revenue, and the sd of its per-geo log; > 0
        adds a 0/1 ``holiday`` column (the weeks containing Dec 25 and Jan 1).
    spend_variation : float
        Multiplies the spread of spend across geos (log-sd 0.2) and weeks (log-sd 0.35 of
        the AR(1) pattern): > 1 covers more of each response curve, 1 is the default panel.
    baseline_drift, media_seasonality : float
        Sizes of a drifting baseline and a seasonal media multiplier (``drift.drifts``).
    alpha_range : (float, float), optional
        Range of the true carryover ``alpha``, default (0.1, 0.6); see the module notes.

    Returns
    -------
    frame : DataFrame
        Columns ``date``, ``geo``, media (spend, or impressions with ``spend_groups``),
        spend columns, organic media, ``control_1`` …, ``holiday`` (if any) and
        ``revenue``; one row per (date, geo).
    truth : Truth
    """
    spec = spec or ModelSpec()
    rng = np.random.default_rng(seed)
    extra = np.random.default_rng([seed, 1])  # new options only: defaults stay unchanged
    lay = _layout(channels, n_channels, organic, n_controls, n_geos, n_weeks, start)
    frame, geo_size, kwargs = _observed(
        rng, extra, lay, spend_groups, spend_variation, holiday_effect > 0
    )
    # A provisional panel whose target equals the geo size reproduces the model's scalings.
    provisional = MMMData.from_frame(frame, **kwargs)
    params = _draw_params(rng, extra, spec, lay, noise, geo_spread, alpha_range)
    params |= _event_params(extra, provisional, holiday_effect, holiday_spread)
    spec = spec.for_channels(provisional.channels)
    params |= _other_kind_params(seed, len(provisional.channels))
    params |= drift.drifts(seed, provisional, baseline_drift, media_seasonality)
    params = _kind_layout(params, spec, provisional.channels)
    design = make_design(provisional, spec)
    base = baseline_response(design, params, spec)
    media = media_response(design.stack, params, spec, design.rf)
    y_scaled = base + media.sum(axis=-1) + noise * rng.standard_normal(base.shape)
    frame["revenue"] = np.round((y_scaled * geo_size[None, :]).reshape(-1), 2)
    truth = _truth(provisional, spec, params, geo_size, media, base, lay)
    return frame, _with_events(truth, frame, kwargs, geo_size) if provisional.events else truth


@dataclass(frozen=True)
class _Layout:
    """Labels of a simulated panel: paid ``channels``, ``organic`` media, ``controls``,
    ``geos`` and ``dates`` (dims (date,))."""

    channels: list[str]
    organic: list[str]
    controls: list[str]
    geos: list[str]
    dates: pd.DatetimeIndex


def _layout(channels, n_channels, organic, n_controls, n_geos, n_weeks, start) -> _Layout:
    """The labels ``simulate``'s arguments describe; ``channels`` overrides ``n_channels``
    (default names: the first ``n_channels`` of ``CHANNEL_NAMES``, then ``ch_<i>``)."""
    if channels is None:
        channels = [
            CHANNEL_NAMES[i] if i < len(CHANNEL_NAMES) else f"ch_{i}" for i in range(n_channels)
        ]
    return _Layout(
        channels=list(channels),
        organic=list(organic),
        controls=[f"control_{k + 1}" for k in range(n_controls)],
        geos=[f"geo_{g:02d}" for g in range(n_geos)],
        dates=pd.date_range(start, periods=n_weeks, freq="W-MON"),
    )


def _observed(
    rng, extra, lay: _Layout, spend_groups, spend_variation: float, holiday: bool
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The simulated frame with ``revenue`` equal to each geo's size, the geo sizes
    (dims (geo,)) and the ``MMMData.from_frame`` keywords that describe the frame."""
    _check_groups(lay.channels, spend_groups)
    geo_size, spend, control_values = _draw_inputs(rng, lay, spend_variation)
    frame = _frame(lay, spend, control_values, geo_size)
    options = _extras(extra, frame, lay, geo_size, spend, spend_groups)
    events = []
    if holiday:
        n_geos = len(lay.geos)
        frame["holiday"] = np.repeat(_holiday_weeks(lay.dates)[:, None], n_geos, 1).reshape(-1)
        events = ["holiday"]
    kwargs = {
        "date": "date",
        "target": "revenue",
        "media": lay.channels,
        "geo": "geo",
        "controls": lay.controls,
        "organic": lay.organic,
        "events": events,
    }
    return frame, geo_size, kwargs | options


def _kind_layout(params: dict, spec: ModelSpec, channels: Sequence[str]) -> dict:
    """``params`` in the model's layout: each of the spec's transform parameters only for
    the channels whose kind uses it (all channels in a single-kind spec); the truth of
    kinds the spec does not use is kept whole, for reference."""
    out = dict(params)
    for name in spec.transform_param_names():
        keep = [list(channels).index(c) for c in spec.parameter_channels(name, channels)]
        out[name] = params[name][keep]
    return out


def _other_kind_params(seed: int, n_channels: int) -> dict:
    """True values of the transform parameters outside ``FIRST_TRUTHS``, dims (channel,),
    from a generator of their own: adding a kind leaves existing panels unchanged."""
    names = [n for n in transform_parameters() if n not in FIRST_TRUTHS]
    return draw_truth(np.random.default_rng([seed, 2]), names, n_channels)


def _draw_inputs(
    rng, lay: _Layout, spend_variation: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geo sizes (geo,), spend (date, geo, channel) and controls (date, geo, control)."""
    n_weeks, n_geos, n_channels = len(lay.dates), len(lay.geos), len(lay.channels)
    n_controls = len(lay.controls)
    geo_size = np.exp(rng.normal(np.log(1e5), 0.6, n_geos))
    spend_share = rng.dirichlet(np.full(n_channels, 3.0)) * 0.2
    spend = np.empty((n_weeks, n_geos, n_channels))
    for c in range(n_channels):
        level = geo_size * spend_share[c] * np.exp(rng.normal(0, 0.2 * spend_variation, n_geos))
        pattern = drift.ar1(rng, n_weeks, n_geos, rho=0.6, sd=0.35 * spend_variation)
        if c % 2 == 1:  # flighted: the channel is off in blocks of weeks
            pattern = pattern * drift.flights(rng, n_weeks, n_geos)
        spend[..., c] = np.round(level * pattern, 2)
    control_values = rng.normal(0.0, 1.0, (n_weeks, n_geos, n_controls)).cumsum(axis=0) * 0.3
    control_values += rng.normal(0, 1, (1, n_geos, n_controls))
    return geo_size, spend, control_values


def _draw_params(
    rng, extra, spec: ModelSpec, lay: _Layout, noise, geo_spread, alpha_range=None
) -> dict:
    """True parameters on the model's scale: paid channels and baseline from ``rng``,
    organic media from ``extra``; ``alpha`` mapped onto ``alpha_range`` when given."""
    n_geos, n_channels = len(lay.geos), len(lay.channels)
    params = {
        **draw_truth(rng, FIRST_TRUTHS, n_channels),
        "intercept": rng.uniform(0.5, 0.8, n_geos),
        "trend": rng.normal(0.05, 0.05, n_geos),
        "season": rng.normal(0.0, 0.06, 2 * spec.yearly_seasonality),
        "control_coef": rng.normal(0.0, 0.04, len(lay.controls)),
        "sigma": np.full(n_geos, noise),
    }
    beta_mu = np.log(rng.uniform(0.04, 0.12, n_channels))
    params["beta"] = np.exp(beta_mu[None, :] + geo_spread * rng.normal(size=(n_geos, n_channels)))
    params["beta_mu"] = beta_mu
    if lay.organic:
        _add_organic_params(extra, params, n_geos, len(lay.organic), geo_spread)
    if alpha_range is not None:
        params["alpha"] = _mapped_alpha(params["alpha"], alpha_range)
    return params


def _event_params(extra, provisional: MMMData, effect: float, spread: float) -> dict:
    """The true per-geo event surge, ``event_coef`` dims (geo, 1), when the panel has
    the holiday event (from ``extra``); else nothing."""
    if not provisional.events:
        return {}
    size = effect * np.exp(spread * extra.normal(size=len(provisional.geos)))
    return {"event_coef": size[:, None]}


def _mapped_alpha(alpha: np.ndarray, alpha_range) -> np.ndarray:
    """``alpha`` (dims (channel,), paid and organic) mapped linearly from the declared
    truth range onto ``alpha_range``."""
    low, high = (float(v) for v in alpha_range)
    if not 0.0 <= low <= high < 1.0:
        raise ValueError(f"alpha_range={alpha_range!r} must satisfy 0 <= low <= high < 1.")
    lo0, hi0 = transform_parameters()["alpha"].truth
    return low + (np.asarray(alpha, dtype=float) - lo0) / (hi0 - lo0) * (high - low)


def _add_organic_params(extra, params: dict, n_geos: int, n_org: int, geo_spread) -> None:
    """Append the organic channels' true parameters to ``params`` (in place)."""
    for name, value in draw_truth(extra, FIRST_TRUTHS, n_org).items():
        params[name] = np.concatenate([params[name], value])
    org_mu = np.log(extra.uniform(0.02, 0.06, n_org))
    org_beta = np.exp(org_mu[None, :] + geo_spread * extra.normal(size=(n_geos, n_org)))
    params["beta"] = np.concatenate([params["beta"], org_beta], axis=1)
    params["beta_mu"] = np.concatenate([params["beta_mu"], org_mu])


def _truth(provisional: MMMData, spec: ModelSpec, params, geo_size, media, base, lay) -> Truth:
    """The ground truth of a simulated panel from the geo sizes (dims (geo,)), the channel
    contributions (``media``, dims (date, geo, channel)) and the non-media expected target
    (``base``, dims (date, geo)), both on the model's scale."""
    tail = make_design(provisional, spec, tail=spec.l_max - 1)
    tail_media = media_response(tail.stack, params, spec, tail.rf)
    total = (tail_media * geo_size[None, :, None]).sum(axis=0)
    incr = total @ provisional.group_matrix  # (geo, spend_group)
    spend_total = provisional.spend.sum(axis=0)  # (geo, spend_group)
    labels = provisional.group_labels
    return Truth(
        params={**params, "geo_size": geo_size},
        roi=pd.Series(incr.sum(0) / spend_total.sum(0), index=labels, name="roi"),
        roi_by_geo=pd.DataFrame(incr / spend_total, index=lay.geos, columns=labels),
        contributions=xr.DataArray(
            media * geo_size[None, :, None],
            dims=("date", "geo", "channel"),
            coords={"date": lay.dates, "geo": lay.geos, "channel": list(provisional.channels)},
            name="contribution",
        ),
        baseline=xr.DataArray(
            base * geo_size[None, :],
            dims=("date", "geo"),
            coords={"date": lay.dates, "geo": lay.geos},
            name="baseline",
        ),
        spec=spec,
    )


def _with_events(truth: Truth, frame: pd.DataFrame, kwargs: dict, geo_size) -> Truth:
    """``truth`` with ``event_effect``: the surge as a share of each geo's mean target."""
    data = MMMData.from_frame(frame, **kwargs)
    effect = truth.params["event_coef"] * (geo_size / data.scaling.target)[:, None]
    return replace(truth, event_effect=pd.DataFrame(effect, data.geos, data.events))


def _frame(lay: _Layout, spend, control_values, geo_size) -> pd.DataFrame:
    """Media (spend), controls and ``revenue`` = geo size, one row per (date, geo)."""
    idx = pd.MultiIndex.from_product([lay.dates, lay.geos], names=["date", "geo"])
    cols = {ch: spend[..., c].reshape(-1) for c, ch in enumerate(lay.channels)}
    cols |= {k: control_values[..., i].reshape(-1) for i, k in enumerate(lay.controls)}
    cols["revenue"] = np.repeat(geo_size[None, :], len(lay.dates), axis=0).reshape(-1)
    return pd.DataFrame(cols, index=idx).reset_index()


def _check_groups(channels, spend_groups) -> None:
    if spend_groups is None:
        return
    members = [c for group in spend_groups.values() for c in group]
    missing = [c for c in channels if c not in members]
    unknown = [c for c in members if c not in channels]
    twice = sorted({c for c in members if members.count(c) > 1})
    if missing or unknown or twice:
        raise ValueError(
            f"spend_groups must name every paid channel once: missing {missing}, unknown "
            f"{unknown}, repeated {twice} (channels: {channels})."
        )


def _extras(rng, frame, lay: _Layout, geo_size, spend, spend_groups) -> dict:
    """Add impressions, spend columns and organic media to ``frame`` (in place); return
    the ``from_frame`` keywords that describe them."""
    channels = lay.channels
    n_weeks, n_geos = len(lay.dates), len(lay.geos)
    if spend_groups is not None:
        cpm = np.exp(rng.normal(np.log(10.0), 0.5, len(channels)))  # cost per 1000
        wobble = np.exp(rng.normal(0.0, 0.05, spend.shape))
        impressions = np.round(1000 * spend / (cpm * wobble))
        # The money actually paid is what the impressions cost.
        paid = impressions * cpm * wobble / 1000
        for c, ch in enumerate(channels):
            frame[ch] = impressions[..., c].reshape(-1)
        for group, members in spend_groups.items():
            idx = [channels.index(m) for m in members]
            frame[group] = np.round(paid[..., idx].sum(-1), 2).reshape(-1)
    for name in lay.organic:
        level = geo_size * 0.05 * np.exp(rng.normal(0, 0.2, n_geos))
        pattern = drift.ar1(rng, n_weeks, n_geos, rho=0.8, sd=0.25)
        frame[name] = np.round(200 * level * pattern).reshape(-1)  # impressions
    if spend_groups is None:
        return {}
    return {"spend": {m: g for g, members in spend_groups.items() for m in members}}


def _holiday_weeks(dates: pd.DatetimeIndex) -> np.ndarray:
    """1 for periods containing Dec 25 or Jan 1, dims (date,)."""
    step = dates[1] - dates[0] if len(dates) > 1 else pd.Timedelta(days=7)
    out = np.zeros(len(dates))
    for t, d in enumerate(dates):
        days = pd.date_range(d, d + step - pd.Timedelta(days=1))
        if any((x.month, x.day) in ((12, 25), (1, 1)) for x in days):
            out[t] = 1.0
    return out
