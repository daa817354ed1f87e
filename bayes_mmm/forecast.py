"""Forecasts of future periods from new inputs, and plan-versus-plan comparisons.

A *future frame* holds, for dates that continue the history, the same columns as the
training frame (media, spend, controls, events; the target is optional). It is checked
against the fitted panel by :func:`future_panel` and appended to the history
(:func:`extend`), so the design of the future weeks is built from the whole series:

- **Carryover.** The lag stack runs over history + future, so the adstock of the last
  ``l_max - 1`` historical weeks flows into the first future weeks.
- **Scaling.** Media, target and controls use the *training* panel's scales (the draws live
  on that scale), and adstocked controls are lagged after that scaling.
- **Trend and seasonality.** Time is measured from the training panel's first date in units
  of its span, so the linear trend extrapolates at its fitted slope; the Fourier terms are
  periodic in calendar days and continue as they are. Events take the future frame's values.
- **Unknown controls.** A future control the frame does not give is a ``DataError`` unless
  the caller asks for it to be held at each geo's last value (``controls="last"``) or its
  historical mean (``controls="mean"``).

The expected target is ``response.expected_response`` on that design (the media response of
the direct effects; a mediator's own media enter as given in the frame). Predictive draws
add the likelihood's noise (``results.predictive_noise``). Intervals are equal-tailed.

Accuracy. On simulated 10-geo × 5-channel panels fitted on 130 weeks at the defaults, the
posterior-mean expected target of the next 26 weeks is within 0.85–1.25% of the truth on
average over the cells, and the 90% predictive interval covers 88–92% of the held-out
observations (``benchmarks/FORECAST.md``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError, format_rows
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior, chunked, to_sample_array
from bayes_mmm.response import Design, expected_response, make_design, media_response
from bayes_mmm.results import predictive_noise
from bayes_mmm.rf import rf_design
from bayes_mmm.rf_input import future_rf_frame, rf_source_columns
from bayes_mmm.transforms import lag_stack

CONTROL_FILLS = ("error", "last", "mean")


# ---------------------------------------------------------------------- the future panel
def _source(history: MMMData) -> tuple[str, str | None]:
    date = history.source_columns.get("date") or "date"
    geo = history.source_columns.get("geo") or None
    return date, geo


def _check_frame(history: MMMData, frame: pd.DataFrame, controls: str) -> pd.DataFrame:
    """The frame indexed by (date, geo), its keys checked against the history."""
    if controls not in CONTROL_FILLS:
        raise ValueError(f"controls={controls!r}: choose one of {CONTROL_FILLS}.")
    date, geo = _source(history)
    frame = future_rf_frame(frame, history.rf_channels, history.source_columns)
    needed = [date, *([geo] if geo else []), *history.channels, *history.spend_groups]
    needed += _frequency_columns(history)
    if controls == "error":
        needed += list(history.controls)
    needed += [e for e in history.events if not e.startswith("holiday:")]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        unknown_controls = [c for c in missing if c in history.controls]
        hint = (
            f" Future controls {unknown_controls} are unknown: add them, or pass "
            "controls='last' (each geo's last value) or controls='mean' (its mean)."
            if unknown_controls
            else ""
        )
        raise DataError(
            f"The future frame lacks columns {missing}: it needs the training frame's date, "
            f"geo, media, spend, control and event columns.{hint}"
        )
    df = frame.copy()
    try:
        df[date] = pd.to_datetime(df[date])
    except (ValueError, TypeError) as err:
        raise DataError(f"Column '{date}' of the future frame is not dates ({err}).") from err
    df["__geo__"] = df[geo].astype(str) if geo else history.geos[0]
    unknown = sorted(set(df["__geo__"]) - set(history.geos))
    if unknown:
        raise DataError(
            f"The future frame has geos {format_rows(unknown)} that the fit never saw "
            f"(it knows {format_rows(list(history.geos))}): drop them or refit with them."
        )
    dup = df.duplicated([date, "__geo__"], keep=False)
    if dup.any():
        raise DataError(
            f"The future frame repeats (date, geo) keys at rows {format_rows(list(df.index[dup]))}:"
            " keep one row per date and geo."
        )
    return df.set_index([date, "__geo__"])


def _frequency_columns(history: MMMData) -> list[str]:
    """The future frame's frequency column of each R&F channel, dims (rf_channel,)."""
    return [rf_source_columns(history.source_columns, c)[1] for c in history.rf_channels]


def _future_dates(history: MMMData, dates: pd.DatetimeIndex, date_col: str) -> pd.DatetimeIndex:
    """``dates`` checked to continue the history at its frequency, with no gap or overlap."""
    last = history.dates[-1]
    overlap = dates[dates <= last]
    if len(overlap):
        raise DataError(
            f"Column '{date_col}' of the future frame has dates {format_rows(overlap.date)} "
            f"on or before the history's last date {last.date()}: a forecast starts after it "
            "(use refresh for restated history)."
        )
    expected = next_dates(history, len(dates))
    if not dates.equals(expected):
        gaps = [f"{a.date()}→{b.date()}" for a, b in itertools.pairwise([last, *dates])]
        raise DataError(
            f"Column '{date_col}' of the future frame must continue the history at its "
            f"frequency {history.freq} from {last.date()} (next: {expected[0].date()}); its "
            f"steps are {format_rows(gaps)}. Use the training data's frequency and leave "
            "no gaps."
        )
    return dates


def next_dates(history: MMMData, n: int) -> pd.DatetimeIndex:
    """The ``n`` periods after the history's last date at its frequency (calendar-aware:
    months keep their month starts)."""
    try:
        return pd.date_range(history.dates[-1], periods=n + 1, freq=history.freq)[1:]
    except ValueError:
        step = history.dates[-1] - history.dates[-2]
        return pd.DatetimeIndex([history.dates[-1] + step * (k + 1) for k in range(n)])


def _read_cube(wide: pd.DataFrame, cols: list, shape: tuple, non_negative: bool) -> np.ndarray:
    """Columns ``cols`` of a (date, geo)-indexed frame as floats, dims (date, geo, col),
    checked finite (and ≥ 0 when ``non_negative``)."""
    if not cols:
        return np.zeros((*shape, 0))
    values = wide[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | ((values < 0) if non_negative else False)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"Future column '{cols[c]}' has a missing, non-numeric, infinite"
            f"{' or negative' if non_negative else ''} value at "
            f"{wide.index[r][0].date()}/{wide.index[r][1]}: give finite values"
            f"{' ≥ 0' if non_negative else ''}."
        )
    return values.reshape(*shape, len(cols))


def future_panel(history: MMMData, frame: pd.DataFrame, controls: str = "error") -> MMMData:
    """Check a frame of future periods against the fitted panel and read it as a panel.

    Parameters
    ----------
    history : MMMData
        The panel the model was fitted on.
    frame : DataFrame
        One row per (date, geo) for dates right after the history, in the training frame's
        format: its date and geo columns, every media and spend column, the controls and
        the event columns (holiday-calendar events default to 0). A target column is
        optional (it is kept for scoring, NaN otherwise).
    controls : {"error", "last", "mean"}
        What to do with controls the frame does not give: raise (default), hold each geo's
        last historical value, or its historical mean.

    Returns
    -------
    MMMData
        The future periods, dims (date, geo, ...), with the history's labels. It is not a
        fittable panel on its own (no content checks, possibly NaN target).

    Raises
    ------
    DataError
        Missing columns, dates that overlap, skip or change the frequency, unknown or
        missing geos, repeated keys, and non-finite or negative inputs; each message names
        the column or rows and the fix.
    """
    df = _check_frame(history, frame, controls)
    date_col, _ = _source(history)
    dates = pd.DatetimeIndex(sorted(df.index.get_level_values(0).unique()))
    dates = _future_dates(history, dates, date_col)
    idx = pd.MultiIndex.from_product([dates, list(history.geos)])
    absent = idx.difference(df.index)
    if len(absent):
        rows = [f"{d.date()}/{g}" for d, g in absent[:20]]
        raise DataError(
            f"The future frame lacks (date, geo) rows {format_rows(rows)}: give every geo "
            "of the fit on every future date."
        )
    wide = df.reindex(idx)

    def cube(cols, non_negative=False):
        return _read_cube(wide, list(cols), (len(dates), len(history.geos)), non_negative)

    known = [c for c in history.controls if c in wide.columns]
    ctrl = np.empty((len(dates), len(history.geos), len(history.controls)))
    fill = history.control_values[-1] if controls == "last" else history.control_values.mean(0)
    for k, name in enumerate(history.controls):
        ctrl[..., k] = cube([name])[..., 0] if name in known else fill[None, :, k]
    events = None
    if history.events:
        events = np.zeros((len(dates), len(history.geos), len(history.events)))
        for k, name in enumerate(history.events):
            if name in wide.columns:
                events[..., k] = cube([name])[..., 0]
    target = np.full((len(dates), len(history.geos)), np.nan)
    if history.target_name in wide.columns:
        target = wide[history.target_name].to_numpy(float).reshape(target.shape)
    frequency = cube(_frequency_columns(history), True) if history.rf_channels else None
    return replace(
        history,
        dates=dates,
        target=target,
        frequency=frequency,
        media=cube(history.channels, non_negative=True),
        spend=cube(history.spend_groups, non_negative=True),
        control_values=ctrl,
        event_values=events,
    )


def extend(history: MMMData, future: MMMData) -> MMMData:
    """The history followed by the future periods: every array with a leading ``date``
    dim is concatenated (no content checks; the future target may be NaN)."""
    changes = {"dates": history.dates.append(future.dates)}
    for name in ("target", "media", "spend", "control_values", "event_values", "frequency"):
        a, b = getattr(history, name), getattr(future, name)
        if a is not None:
            changes[name] = np.concatenate([a, b], axis=0)
    return replace(history, **changes)


# ---------------------------------------------------------------------- the design
def forecast_design(train: Posterior, panel: MMMData, start: int = 0, tail: int = 0) -> Design:
    """The design of ``panel``'s dates from ``start`` on, on the training fit's scale.

    Parameters
    ----------
    train : Posterior
        The fit whose draws the design is for.
    panel : MMMData
        A panel whose first dates are the training panel's (e.g. :func:`extend` of the
        history and a future panel, or a full panel of which the fit saw the start).
    start : int
        First date of ``panel`` kept; the lag stack and the adstocked controls are built
        over all of ``panel`` first, so the carryover of earlier weeks is kept.
    tail : int
        Zero-media periods appended (carryover after the last date; the baseline there
        holds its last value and is not meant to be used).

    Returns
    -------
    Design
        Dims (lag, date, geo, channel) for ``stack`` with ``date`` = ``panel.n_dates -
        start + tail``; target scale, media scale and control standardisation are the
        training panel's, and the trend is time since the training start over the
        training span.
    """
    post = as_posterior(train)
    spec, tsc, hist = post.spec, post.data.scaling, post.data
    if not panel.dates[: hist.n_dates].equals(hist.dates):
        raise DataError(
            f"The forecast panel must start with the fit's {hist.n_dates} dates "
            f"({hist.dates[0].date()}…{hist.dates[-1].date()})."
        )
    base = make_design(panel, spec, tail=tail)
    days = (panel.dates - hist.dates[0]).days.to_numpy(dtype=float)
    step = days[1] - days[0]
    days = np.concatenate([days, days[-1] + step * np.arange(1, tail + 1)])
    span = max(float((hist.dates[-1] - hist.dates[0]).days), 1.0)
    controls = (panel.control_values - tsc.control_center) / tsc.control_scale
    if tail:
        controls = np.concatenate([controls, np.repeat(controls[-1:], tail, axis=0)])
    index = list(base.control_adstock_index)
    control_stack = lag_stack(controls[..., index], spec.l_max) if index else None
    keep = slice(start, None)
    return replace(
        base,
        rf=_forecast_rf(hist, spec, panel, keep, tail),
        stack=lag_stack(panel.media / tsc.media[None], spec.l_max, tail=tail)[:, keep],
        trend=(days / span)[keep],
        fourier=base.fourier[keep],
        controls=controls[keep],
        target_scale=tsc.target,
        events=None if base.events is None else base.events[keep],
        control_stack=None if control_stack is None else control_stack[:, keep],
    )


def _forecast_rf(hist: MMMData, spec, panel: MMMData, keep: slice, tail: int):
    """The R&F lag stacks of ``panel`` on the training panel's reach and frequency scales
    (``Design.rf``), dates from ``keep``; None without R&F channels."""
    if not hist.rf_channels:
        return None
    tsc, index = hist.scaling, [hist.channels.index(c) for c in hist.rf_channels]
    reach = panel.media[..., index] / tsc.media[None][..., index]
    full = rf_design(reach, panel.frequency / tsc.frequency, index, spec.l_max, tail)
    return _slice_rf(full, keep)


def _slice_rf(rf, dates: slice):
    """``Design.rf`` on the dates ``dates`` (None stays None)."""
    if rf is None:
        return None
    return replace(rf, reach=rf.reach[:, dates], frequency=rf.frequency[:, dates])


# ---------------------------------------------------------------------- draws
@dataclass(frozen=True)
class Forecast:
    """Draws of a forecast of future periods.

    Attributes
    ----------
    expected : DataArray, dims (chain, draw, date, geo)
        Expected target, target units.
    predictive : DataArray, dims (chain, draw, date, geo)
        Posterior predictive target (expected + the likelihood's noise).
    contributions : DataArray, dims (chain, draw, date, geo, channel)
        Channel contributions in the future periods (history's carryover included).
    future : MMMData
        The future periods as read from the frame.
    """

    expected: xr.DataArray
    predictive: xr.DataArray
    contributions: xr.DataArray
    future: MMMData

    def to_dataset(self) -> xr.Dataset:
        """The three draws in one Dataset, with ``observed`` (dims (date, geo)) when the
        future frame gave the target."""
        ds = xr.Dataset(
            {
                "expected": self.expected,
                "predictive": self.predictive,
                "contribution": self.contributions,
            }
        )
        if np.isfinite(self.future.target).any():
            ds["observed"] = (("date", "geo"), self.future.target)
        return ds


def forecast_draws(
    fit, frame: pd.DataFrame | MMMData, controls: str = "error", random_seed: int | None = 0
) -> Forecast:
    """Posterior draws of the target in the periods of a future frame.

    Parameters
    ----------
    fit : Posterior or Fit
    frame : DataFrame or MMMData
        Future periods (see :func:`future_panel`), or a panel already read by it.
    controls : {"error", "last", "mean"}
        Unknown future controls (see :func:`future_panel`).
    """
    post = as_posterior(fit)
    hist = post.data
    future = frame if isinstance(frame, MMMData) else future_panel(hist, frame, controls)
    design = forecast_design(post, extend(hist, future), start=hist.n_dates)
    values, shape = post.draws
    scale = design.target_scale[None, None, :]
    mu = chunked(values, lambda c: expected_response(design, c, post.spec)) * scale
    contrib = chunked(values, lambda c: media_response(design.stack, c, post.spec))
    contrib = contrib * scale[..., None]
    rng = np.random.default_rng(random_seed)
    pred = predictive_noise(mu, values, post.spec, design.target_scale, rng)
    coords = {"date": future.dates, "geo": list(hist.geos)}
    ccoords = {**coords, "channel": list(hist.channels)}
    return Forecast(
        expected=to_sample_array(mu, shape, ("date", "geo"), coords, "expected"),
        predictive=to_sample_array(pred, shape, ("date", "geo"), coords, "predictive"),
        contributions=to_sample_array(
            contrib, shape, ("date", "geo", "channel"), ccoords, "contribution"
        ),
        future=future,
    )


def _eti(da: xr.DataArray, prob: float) -> tuple[xr.DataArray, xr.DataArray]:
    q = da.quantile([(1 - prob) / 2, (1 + prob) / 2], dim=SAMPLE_DIMS)
    return q.isel(quantile=0, drop=True), q.isel(quantile=1, drop=True)


def predict(
    fit,
    frame: pd.DataFrame,
    hdi_prob: float = 0.9,
    controls: str = "error",
    random_seed: int | None = 0,
    as_xarray: bool = False,
) -> pd.DataFrame | xr.Dataset:
    """Forecast the target for the periods of a future frame.

    Parameters
    ----------
    fit : Posterior or Fit
    frame : DataFrame
        Future periods in the training frame's format (see :func:`future_panel`).
    hdi_prob : float
        Probability of the (equal-tailed) intervals.
    controls : {"error", "last", "mean"}
        Unknown future controls: raise, hold each geo's last value, or its mean.
    as_xarray : bool
        Return the draws (:meth:`Forecast.to_dataset`) instead of the table.

    Returns
    -------
    DataFrame
        One row per (date, geo): ``mean``, ``lower``, ``upper`` of the expected target,
        ``pred_lower``, ``pred_upper`` of the posterior predictive, ``observed`` when the
        frame has the target, and ``contribution_<channel>`` (posterior means);
        ``attrs["interval"]`` states the interval.
    """
    fc = forecast_draws(fit, frame, controls=controls, random_seed=random_seed)
    if as_xarray:
        return fc.to_dataset()
    lo, hi = _eti(fc.expected, hdi_prob)
    plo, phi = _eti(fc.predictive, hdi_prob)
    cols = {
        "mean": fc.expected.mean(SAMPLE_DIMS),
        "lower": lo,
        "upper": hi,
        "pred_lower": plo,
        "pred_upper": phi,
    }
    table = xr.Dataset(cols).to_dataframe()[list(cols)]
    if np.isfinite(fc.future.target).any():
        table["observed"] = fc.future.target.reshape(-1)
    mean_contrib = fc.contributions.mean(SAMPLE_DIMS)
    for c in fc.contributions["channel"].values:
        table[f"contribution_{c}"] = mean_contrib.sel(channel=c).values.reshape(-1)
    table.attrs["interval"] = f"central {hdi_prob:.0%} (equal-tailed) posterior interval"
    table.attrs["hdi_prob"] = hdi_prob
    return table


# ---------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class ScenarioComparison:
    """Future plans compared on the same posterior draws.

    Attributes
    ----------
    revenue : DataArray, dims (chain, draw, scenario)
        Expected target summed over each scenario's dates and geos, plus the carryover of
        its media into the ``l_max - 1`` periods after its last date.
    uplift : DataArray, dims (chain, draw, scenario)
        ``revenue`` minus the reference scenario's, draw by draw.
    table : DataFrame
        Per scenario: ``revenue`` mean/lower/upper, ``spend``, ``uplift`` mean/lower/upper
        and ``prob_better`` (P(uplift > 0)); ``attrs`` name the reference and interval.
    reference : str
    """

    revenue: xr.DataArray
    uplift: xr.DataArray
    table: pd.DataFrame
    reference: str


def scenario_revenue(post: Posterior, future: MMMData) -> np.ndarray:
    """Expected target over a future panel's dates and geos plus its media's carryover in
    the ``l_max - 1`` periods after, per draw, dims (sample,)."""
    hist, spec = post.data, post.spec
    tail = spec.l_max - 1
    design = forecast_design(post, extend(hist, future), start=hist.n_dates, tail=tail)
    n = future.n_dates
    window = replace(
        design,
        stack=design.stack[:, :n],
        trend=design.trend[:n],
        fourier=design.fourier[:n],
        controls=design.controls[:n],
        events=None if design.events is None else design.events[:n],
        control_stack=None if design.control_stack is None else design.control_stack[:, :n],
        rf=_slice_rf(design.rf, slice(None, n)),
    )
    scale, rf_after = design.target_scale, _slice_rf(design.rf, slice(n, None))

    def one(c):
        inside = (expected_response(window, c, spec) * scale).sum(axis=(-2, -1))
        after = media_response(design.stack[:, n:], c, spec, rf_after).sum(axis=-1) * scale
        return inside + after.sum(axis=(-2, -1))

    return chunked(post.draws.values, one)


def compare_scenarios(
    fit,
    frames: Mapping[str, pd.DataFrame],
    reference: str | None = None,
    hdi_prob: float = 0.9,
    controls: str = "error",
) -> ScenarioComparison:
    """Revenue of future plans and their differences against a reference, on the same draws.

    Parameters
    ----------
    fit : Posterior or Fit
    frames : mapping of str to DataFrame
        ``{name: future frame}``; every frame must cover the same dates (see
        :func:`future_panel`).
    reference : str, optional
        The scenario the others are compared with (default: the first).
    hdi_prob : float
        Probability of the (equal-tailed) intervals.

    Returns
    -------
    ScenarioComparison
    """
    post = as_posterior(fit)
    if not frames:
        raise ValueError("compare_scenarios needs at least one {name: frame}.")
    names = list(frames)
    reference = names[0] if reference is None else reference
    if reference not in frames:
        raise ValueError(f"reference={reference!r} is not one of {names}.")
    panels = {n: future_panel(post.data, f, controls) for n, f in frames.items()}
    dates = {n: (p.dates[0].date(), p.dates[-1].date()) for n, p in panels.items()}
    if len(set(dates.values())) > 1:
        raise DataError(f"Scenarios must cover the same dates to be compared; they cover {dates}.")
    shape = post.draws.shape
    rev = np.stack([scenario_revenue(post, panels[n]) for n in names], axis=-1)
    coords = {"scenario": names}
    revenue = to_sample_array(rev, shape, ("scenario",), coords, "revenue")
    uplift = (revenue - revenue.sel(scenario=reference)).rename("uplift")
    rlo, rhi = _eti(revenue, hdi_prob)
    ulo, uhi = _eti(uplift, hdi_prob)
    table = pd.DataFrame(
        {
            "revenue": revenue.mean(SAMPLE_DIMS).values,
            "revenue_lower": rlo.values,
            "revenue_upper": rhi.values,
            "spend": [float(panels[n].spend.sum()) for n in names],
            "uplift": uplift.mean(SAMPLE_DIMS).values,
            "uplift_lower": ulo.values,
            "uplift_upper": uhi.values,
            "prob_better": (uplift > 0).mean(SAMPLE_DIMS).values,
        },
        index=pd.Index(names, name="scenario"),
    )
    table.loc[reference, "prob_better"] = np.nan
    table.attrs.update(
        reference=reference,
        hdi_prob=hdi_prob,
        interval=f"central {hdi_prob:.0%} (equal-tailed) posterior interval",
    )
    return ScenarioComparison(revenue=revenue, uplift=uplift, table=table, reference=reference)
