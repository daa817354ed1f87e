"""Validated, labelled MMM panels.

``MMMData`` is the observed data only (no modelling choices): a long-format frame with one
row per (date, geo) becomes dense arrays with dims ``date``, ``geo``, ``channel``,
``spend_group`` and ``control``. Every check runs before a model is built, and every
failure is a :class:`~bayes_mmm.errors.DataError` that names the column, the rows or geos
and the fix.

Scaling (kept, reversible, see :class:`Scaling`)
------------------------------------------------
- target: divided by its mean in each geo, so geo intercepts sit near 1 and channel
  effects are shares of a geo's revenue. That is what lets geo coefficients pool across
  geos of very different size.
- media: divided by the mean *non-zero* value of each (geo, channel), so "1" is a typical
  week's exposure where the channel is on. Priors on effects at typical exposure are then
  meaningful for every channel (max-scaling would put typical weeks near 0.1 for spiky
  channels and leave the Hill curve unidentified).
- controls: centred and scaled by their panel-wide mean and standard deviation.

Checks (each names the column, rows or geos, and the fix)
---------------------------------------------------------
Columns: missing (with close-match hints; a missing spend column is named as such),
duplicated, listed in two roles; dates that do not parse or are plain numbers (pandas would
read them as nanoseconds since 1970); a boolean target; non-numeric, NaN, infinite, negative
(media, spend) or overflow-prone (``|x| > MAX_ABS``) cells. Rows: duplicate (date, geo)
keys, uneven or mixed spacing, geos with different ranges, missing periods or fewer than 3
rows, and panels with fewer periods than their media, organic, control and event columns +
4. Content: a target mean ≤ 0 in a geo, all-zero or constant channels and controls, spend
without media (a ``DataWarning`` on up to 20% of a spend column's positive rows, an error
above), and pairs of channels/controls that are perfectly collinear (``|r| > COLLINEAR_R``
over all rows: no model can tell their effects apart). Unsorted rows are accepted and
sorted.
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.errors import DataError, DataWarning, format_rows
from bayes_mmm.rf_input import rf_fields, rf_source_attr, rf_sources, source_columns_of, with_rf
from bayes_mmm.validate import (
    Roles,
    _check_calendar,
    _check_columns_exist,
    _geo_fields,
    check_length,
    check_spend_columns,
    clean_frame,
    holiday_events,
    resolve_roles,
)

COLLINEAR_R = 0.999  # |correlation| above which two regressors cannot be told apart
UNIT = "__unit__"  # the (brand, geo) unit column of ``from_panel_frame``


@dataclass(frozen=True)
class Scaling:
    """Per-geo and per-channel scales used for sampling; ``x_model = x / scale``.

    Attributes
    ----------
    target : ndarray, dims (geo,)
        Mean target of each geo; with a population, population × the panel's per-capita
        mean target.
    media : ndarray, dims (geo, channel)
        Mean non-zero media of each (geo, channel).
    control_center, control_scale : ndarray, dims (control,)
        Panel-wide mean and standard deviation of each control.
    frequency : ndarray, dims (rf_channel,)
        Mean frequency of each reach-and-frequency channel where its reach is positive
        (``bayes_mmm.rf``); empty without R&F channels.
    """

    target: np.ndarray
    media: np.ndarray
    control_center: np.ndarray
    control_scale: np.ndarray
    frequency: np.ndarray = field(default_factory=lambda: np.ones(0))


@dataclass(frozen=True, eq=False)
class MMMData:
    """A validated marketing panel. Build it with :meth:`from_frame` or :meth:`from_csv`.

    Attributes
    ----------
    dates : pd.DatetimeIndex, dims (date,)
    geos, channels, spend_groups, controls : tuple of str
    target : ndarray, dims (date, geo)
    media : ndarray, dims (date, geo, channel)
        Exposure that drives the effect (spend or impressions).
    spend : ndarray, dims (date, geo, spend_group)
        Money behind the media; one spend group may pay for several channels.
    channel_group : tuple of (str or None), dims (channel,)
        The spend group paying for each channel; None for organic media.
    control_values : ndarray, dims (date, geo, control)
    target_name : str
    freq : str
        Pandas frequency of the dates (e.g. ``"W-MON"``).
    national : bool
        True when the frame had no geo column (one implicit geo).
    """

    dates: pd.DatetimeIndex
    geos: tuple[str, ...]
    channels: tuple[str, ...]
    spend_groups: tuple[str, ...]
    controls: tuple[str, ...]
    target: np.ndarray
    media: np.ndarray
    spend: np.ndarray
    channel_group: tuple[str | None, ...]
    control_values: np.ndarray
    target_name: str = "revenue"
    freq: str = "W"
    national: bool = False
    source_columns: Mapping[str, str] = field(default_factory=dict)
    # Events (holidays, promotions): names and values, dims (date, geo, event); None if none.
    events: tuple[str, ...] = ()
    event_values: np.ndarray | None = None
    # The group (region) of each geo, dims (geo,); empty without ``geo_group``.
    geo_group: tuple[str, ...] = ()
    # Population of each geo, dims (geo,); None without ``population``.
    population: np.ndarray | None = None
    # Reach-and-frequency channels (their reach is their ``media``) and their frequency,
    # dims (date, geo, rf_channel); ``()`` and None without ``reach_frequency``.
    rf_channels: tuple[str, ...] = ()
    frequency: np.ndarray | None = None

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        date: str,
        target: str,
        media: Sequence[str],
        geo: str | None = None,
        spend: Mapping[str, str] | None = None,
        controls: Sequence[str] = (),
        organic: Sequence[str] = (),
        events: Sequence[str] = (),
        holidays: pd.DataFrame | None = None,
        country: str | None = None,
        geo_group: str | None = None,
        population: str | None = None,
        reach_frequency: Mapping[str, tuple[str, str]] | None = None,
    ) -> MMMData:
        """Validate a long-format frame (one row per date and geo) and build the panel.

        Parameters
        ----------
        df : DataFrame
            Never modified.
        date, target : str
            Column names of the period start and of the outcome (e.g. revenue).
        media : list of str
            Paid exposure columns (spend or impressions) that drive the effect.
        geo : str, optional
            Geo column; without it the data is national (one implicit geo).
        spend : dict, optional
            Maps each media column to the spend column behind it. Several media may map to
            the same spend column (a spend group). Without it, media *are* spend.
        controls : list of str
            Non-media regressors of either sign (price, promotions, competitor sales).
        organic : list of str
            Media without spend (organic reach, owned channels): modelled and reported,
            never given ROI or budget.
        events : list of str
            Event columns (0/1 dummies or intensities, e.g. a holiday flag); each gets a
            per-geo effect in the baseline.
        holidays : DataFrame, optional
            A holiday calendar (Prophet / Robyn format) with columns ``ds`` (date) and
            ``holiday`` (name); each holiday in the panel becomes an event column
            ``holiday:<name>``, 1 in the period containing it.
        country : str, optional
            Keep only the calendar's rows whose ``country`` column is this code (e.g. "US").
        geo_group : str, optional
            Column naming each geo's group (e.g. region), constant within a geo: channel
            effects then pool geo → group → channel.
        population : str, optional
            Column with each geo's population (constant within a geo, > 0). The target
            scale of a geo becomes population × the panel's per-capita mean target, so
            geo levels are per-capita differences (see ``Scaling``).
        reach_frequency : dict, optional
            ``{channel: (reach column, frequency column)}``, spend in ``spend``: see ``rf``.
        """
        check_spend_columns(df, media, spend)
        df, media, rf = with_rf(df, media, reach_frequency, spend, population, date, geo)
        roles = resolve_roles(date, target, media, geo, spend, controls, organic, events, geo_group)
        _check_columns_exist(df, roles.needed)
        frame, geo_col = clean_frame(df, roles)
        dates, freq = _check_calendar(frame, date, geo_col)
        check_length(len(dates), roles)
        geos = tuple(pd.unique(frame[geo_col]))
        cube = _Cubes(frame.set_index([date, geo_col]), dates, geos)
        data = cls(
            **_panel_arrays(cube, roles),
            dates=dates,
            geos=geos,
            target_name=target,
            freq=freq,
            national=geo is None,
            source_columns=rf_sources(rf, date=date, geo=geo or "", geo_group=geo_group or ""),
            **_event_arrays(cube, roles.events, holidays, country),
            **_geo_fields(df.loc[frame.index], frame, geo_col, geo, geo_group, population),
            **rf_fields(df.loc[frame.index], cube, rf),
        )
        data._check_content()
        return data

    @classmethod
    def from_panel_frame(cls, df: pd.DataFrame, *, brand: str, geo: str, **kwargs) -> MMMData:
        """A panel indexed by (date, brand, geo), other arguments as :meth:`from_frame`'s.

        Each (brand, geo) pair is a unit of the geo hierarchy (``"brand/geo"``) whose
        ``geo_group`` is its brand: coefficients pool brands around the channel's mean and
        geos within a brand around the brand's (``bayes_mmm.model``, 9.), one model family
        for national, geo and brand × geo panels. ``roi(by=brand)`` reports by brand.
        """
        _check_columns_exist(df, [brand, geo])
        unit = df[brand].astype(str) + "/" + df[geo].astype(str)
        data = cls.from_frame(df.assign(**{UNIT: unit}), geo=UNIT, geo_group=brand, **kwargs)
        return data

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs) -> MMMData:
        """Read a CSV and call :meth:`from_frame` with the same keyword arguments."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"File '{path}' does not exist: check the path.")
        try:
            df = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise DataError(f"File '{path}' is not a readable CSV ({err}).") from err
        return cls.from_frame(df, **kwargs)

    # ------------------------------------------------------------------ content checks
    def _check_content(self) -> None:
        g_idx = np.arange(len(self.geos))
        tmean = self.target.mean(axis=0)
        bad = g_idx[~(tmean > 0)]
        if bad.size:
            raise DataError(
                f"Column '{self.target_name}' (target) has a mean ≤ 0 in geos "
                f"{format_rows([self.geos[i] for i in bad])}: the target must be positive on "
                "average in every geo (drop those geos or model a shifted target)."
            )
        for c, name in enumerate(self.channels):
            x = self.media[..., c]
            if not np.any(x > 0):
                raise DataError(
                    f"Media column '{name}' is zero in every row: a channel that never runs "
                    "cannot be estimated; drop it from `media`."
                )
            if np.all(x == x.flat[0]):
                raise DataError(
                    f"Media column '{name}' is constant ({x.flat[0]:g}) in every row: its "
                    "effect cannot be told apart from the intercept; drop it."
                )
        for s, name in enumerate(self.spend_groups):
            if not np.any(self.spend[..., s] > 0):
                raise DataError(
                    f"Spend column '{name}' is zero in every row: ROI is undefined; list its "
                    "media under `organic` instead, or fix the spend."
                )
            paid = [self.channels[c] for c, g in enumerate(self.channel_group) if g == name]
            on_spend = self.spend[..., s] > 0
            on_media = (self.media[..., [self.channels.index(p) for p in paid]] > 0).any(-1)
            orphan = np.argwhere(on_spend & ~on_media)
            rows = [f"{self.dates[t].date()}/{self.geos[g]}" for t, g in orphan]
            if len(orphan) > 0.2 * on_spend.sum():
                raise DataError(
                    f"Spend column '{name}' is positive where its media {paid} are all zero, "
                    f"at {format_rows(rows)}: spend without media. Check the `spend` mapping."
                )
            if len(orphan):
                # A few such rows are usually billing lags; the spend still counts in ROI.
                warnings.warn(
                    f"Spend column '{name}' is positive where its media {paid} are all zero, "
                    f"at {format_rows(rows)} ({len(orphan)} of {int(on_spend.sum())} rows with "
                    "spend): that spend counts in ROI but drives no effect. Check for billing "
                    "lags or a wrong `spend` mapping.",
                    DataWarning,
                    stacklevel=3,
                )
        for k, name in enumerate(self.controls):
            x = self.control_values[..., k]
            if np.all(x == x.flat[0]):
                raise DataError(
                    f"Control column '{name}' is constant ({x.flat[0]:g}) in every row: it "
                    "cannot be told apart from the intercept; drop it from `controls`."
                )
        for k, name in enumerate(self.events):
            x = np.asarray(self.event_values)[..., k]  # events always come with their values
            if x.flat[0] == 0 and np.all(x == 0):
                why = "zero in every row: the event never happens in the panel"
            elif np.all(x == x.flat[0]):
                why = f"constant ({x.flat[0]:g}) in every row: it is the intercept"
            else:
                continue
            raise DataError(
                f"Event column '{name}' is {why}, so its effect cannot be estimated; "
                "drop it from `events`."
            )
        self._check_collinear()

    def _check_collinear(self) -> None:
        """Raise when a control is (almost) a linear function of a channel or another
        control, or two channels are: their effects cannot be told apart."""
        cols = [("media", n, self.media[..., c]) for c, n in enumerate(self.channels)]
        cols += [("control", n, self.control_values[..., k]) for k, n in enumerate(self.controls)]
        if len(cols) < 2:
            return
        mat = np.stack([x.reshape(-1) for _, _, x in cols], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(mat, rowvar=False)
        for i, j in itertools.combinations(range(len(cols)), 2):
            r = corr[i, j]
            if np.isfinite(r) and abs(r) > COLLINEAR_R:
                (ki, ni, _), (kj, nj, _) = cols[i], cols[j]
                fix = (
                    f"drop '{nj}' from `controls`"
                    if kj == "control"
                    else f"merge the two channels or drop one of them from `{ki}`"
                )
                raise DataError(
                    f"{ki.capitalize()} column '{ni}' and {kj} column '{nj}' are perfectly "
                    f"collinear (correlation {r:+.4f} over all rows): their effects cannot be "
                    f"told apart; {fix}."
                )

    # ------------------------------------------------------------------ derived values
    @cached_property
    def scaling(self) -> Scaling:
        """The scaling used for sampling (see module docstring)."""
        media_scale = np.ones((len(self.geos), len(self.channels)))
        for c in range(len(self.channels)):
            x = self.media[..., c]
            overall = x[x > 0].mean()
            for g in range(len(self.geos)):
                nz = x[:, g][x[:, g] > 0]
                media_scale[g, c] = nz.mean() if nz.size else overall
        k = len(self.controls)
        cv = self.control_values.reshape(-1, k) if k else np.zeros((1, 0))
        center, scale = cv.mean(axis=0), cv.std(axis=0)
        target_scale = self.target.mean(axis=0)
        if self.population is not None:  # population × panel-wide per-capita mean
            target_scale = self.population * (target_scale.sum() / self.population.sum())
        return Scaling(
            target=target_scale,
            media=media_scale,
            control_center=center,
            control_scale=np.where(scale > 0, scale, 1.0),
            frequency=self._frequency_scale(),
        )

    def _frequency_scale(self) -> np.ndarray:
        """Mean frequency of each R&F channel where its reach is positive, dims (rf_channel,)."""
        out = np.ones(len(self.rf_channels))
        for r, name in enumerate(self.rf_channels):
            on = self.media[..., self.channels.index(name)] > 0
            out[r] = np.asarray(self.frequency)[..., r][on].mean()  # set with rf_channels
        return out

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Channels with a spend group (everything but organic media)."""
        return tuple(c for c, g in zip(self.channels, self.channel_group) if g is not None)

    @property
    def group_labels(self) -> list[str]:
        """ROI labels of the spend groups, dims (spend_group,): the channel's name when a
        group pays for one channel, else the spend column's name."""
        labels = []
        for name in self.spend_groups:
            members = [c for c, g in zip(self.channels, self.channel_group) if g == name]
            labels.append(members[0] if len(members) == 1 else name)
        return labels

    @property
    def group_matrix(self) -> np.ndarray:
        """Membership of channels in spend groups, dims (channel, spend_group), 0/1."""
        m = np.zeros((len(self.channels), len(self.spend_groups)))
        for c, g in enumerate(self.channel_group):
            if g is not None:
                m[c, self.spend_groups.index(g)] = 1.0
        return m

    def group_membership(self) -> tuple[list[str], np.ndarray]:
        """The geo groups (e.g. brands) and the 0/1 membership of geos in them, dims
        (geo, geo_group)."""
        names = list(dict.fromkeys(self.geo_group))
        member = np.zeros((len(self.geos), len(names)))
        member[np.arange(len(self.geos)), [names.index(g) for g in self.geo_group]] = 1.0
        return names, member

    @property
    def n_dates(self) -> int:
        return len(self.dates)

    @cached_property
    def data_hash(self) -> str:
        """SHA-256 of all arrays and labels: identifies the data a fit was made on."""
        h = hashlib.sha256()
        for arr in (self.target, self.media, self.spend, self.control_values):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        labels = (self.dates.astype(str).tolist(), self.geos, self.channels, self.spend_groups)
        h.update(repr((labels, self.controls, self.channel_group)).encode())
        if self.events:
            h.update(np.ascontiguousarray(self.event_values, dtype=np.float64).tobytes())
            h.update(repr(self.events).encode())
        if self.geo_group:
            h.update(repr(self.geo_group).encode())
        if self.population is not None:
            h.update(np.ascontiguousarray(self.population, dtype=np.float64).tobytes())
        if self.rf_channels:
            h.update(np.ascontiguousarray(self.frequency, dtype=np.float64).tobytes())
            h.update(repr(self.rf_channels).encode())
        return h.hexdigest()

    # ------------------------------------------------------------------ sub-panels
    def truncate(self, n_dates: int) -> MMMData:
        """The panel's first ``n_dates`` periods (e.g. a training set for a holdout check).

        Every array field whose leading dim is ``date`` (target, media, spend, controls,
        events, …) is cut, so fields added to ``MMMData`` later are cut too; labels and
        per-geo fields (``population``) are kept.

        Raises
        ------
        DataError
            When ``n_dates`` is not between 1 and ``self.n_dates``.
        """
        if not 1 <= n_dates <= self.n_dates:
            raise DataError(f"Cannot keep {n_dates} of {self.n_dates} periods.")
        changes = {"dates": self.dates[:n_dates]}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.ndim >= 2 and len(value) == self.n_dates:
                changes[f.name] = value[:n_dates]
        return replace(self, **changes)

    # ------------------------------------------------------------------ conversions
    def to_dataset(self) -> xr.Dataset:
        """The panel as a labelled ``xr.Dataset`` (used for bundles and plotting)."""
        ds = xr.Dataset(
            {
                "target": (("date", "geo"), self.target),
                "media": (("date", "geo", "channel"), self.media),
                "spend": (("date", "geo", "spend_group"), self.spend),
                "control_values": (("date", "geo", "control"), self.control_values),
                "channel_group": (("channel",), [g or "" for g in self.channel_group]),
            },
            coords={
                "date": self.dates,
                "geo": list(self.geos),
                "channel": list(self.channels),
                "spend_group": list(self.spend_groups),
                "control": list(self.controls),
            },
        )
        ds.attrs.update(
            target_name=self.target_name,
            freq=self.freq,
            national=int(self.national),
            source_date=self.source_columns.get("date", "date"),
            source_geo=self.source_columns.get("geo", ""),
            source_group=self.source_columns.get("geo_group", ""),
        )
        if self.events:
            ds["event_values"] = (("date", "geo", "event"), self.event_values)
            ds = ds.assign_coords(event=list(self.events))
        if self.geo_group:
            ds = ds.assign_coords(geo_group=("geo", list(self.geo_group)))
        if self.population is not None:
            ds["population"] = (("geo",), self.population)
        if self.rf_channels:
            ds["frequency"] = (("date", "geo", "rf_channel"), self.frequency)
            ds = ds.assign_coords(rf_channel=list(self.rf_channels))
            ds.attrs["source_rf"] = rf_source_attr(self.source_columns)
        return ds

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> MMMData:
        """Inverse of :meth:`to_dataset`."""
        return cls(
            dates=pd.DatetimeIndex(ds["date"].values),
            geos=tuple(str(g) for g in ds["geo"].values),
            channels=tuple(str(c) for c in ds["channel"].values),
            spend_groups=tuple(str(s) for s in ds["spend_group"].values),
            controls=tuple(str(k) for k in ds["control"].values),
            target=ds["target"].values,
            media=ds["media"].values,
            spend=ds["spend"].values,
            channel_group=tuple(str(g) or None for g in ds["channel_group"].values),
            control_values=ds["control_values"].values,
            target_name=str(ds.attrs["target_name"]),
            freq=str(ds.attrs["freq"]),
            national=bool(ds.attrs["national"]),
            source_columns=source_columns_of(ds.attrs),
            events=tuple(str(e) for e in ds["event"].values) if "event" in ds.coords else (),
            event_values=ds["event_values"].values if "event_values" in ds else None,
            geo_group=tuple(str(g) for g in ds["geo_group"].values) if "geo_group" in ds else (),
            population=ds["population"].values if "population" in ds else None,
            rf_channels=tuple(str(c) for c in ds["rf_channel"].values)
            if "rf_channel" in ds.coords
            else (),
            frequency=ds["frequency"].values if "frequency" in ds else None,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long format again: one row per (date, geo)."""
        idx = pd.MultiIndex.from_product([self.dates, self.geos], names=["date", "geo"])
        cols = {self.target_name: self.target.reshape(-1)}
        for c, name in enumerate(self.channels):
            cols[name] = self.media[..., c].reshape(-1)
        for s, name in enumerate(self.spend_groups):
            cols[name] = self.spend[..., s].reshape(-1)
        for k, name in enumerate(self.controls):
            cols[name] = self.control_values[..., k].reshape(-1)
        return pd.DataFrame(cols, index=idx).reset_index()

    def __repr__(self) -> str:
        return (
            f"MMMData({self.n_dates} {self.freq} periods {self.dates[0].date()}…"
            f"{self.dates[-1].date()}, {len(self.geos)} geos, channels={list(self.channels)}, "
            f"controls={list(self.controls)}, target='{self.target_name}')"
        )


# ---------------------------------------------------------------------- from_frame helpers
@dataclass(frozen=True)
class _Cubes:
    """Reads columns of a cleaned frame as dense arrays, dims (date, geo, column).

    Attributes
    ----------
    indexed : DataFrame
        The frame indexed by (date, geo), one row per pair.
    dates : DatetimeIndex, dims (date,)
    geos : tuple of str, dims (geo,)
    """

    indexed: pd.DataFrame
    dates: pd.DatetimeIndex
    geos: tuple[str, ...]

    def __call__(self, cols: Sequence[str]) -> np.ndarray:
        """Columns ``cols`` as floats, dims (date, geo, len(cols))."""
        cols = list(cols)
        if not cols:
            return np.zeros((len(self.dates), len(self.geos), 0))
        idx = pd.MultiIndex.from_product([self.dates, list(self.geos)])
        wide = self.indexed[cols].reindex(idx)
        return wide.to_numpy(dtype=float).reshape(len(self.dates), len(self.geos), len(cols))


def _panel_arrays(cube: _Cubes, roles: Roles) -> dict:
    """The labels and arrays of ``MMMData`` that come from the frame's own columns."""
    return {
        "channels": roles.media + roles.organic,
        "spend_groups": roles.spend_cols,
        "controls": roles.controls,
        "target": cube([roles.target])[..., 0],
        "media": cube(roles.media + roles.organic),
        "spend": cube(roles.spend_cols),
        "channel_group": tuple([roles.spend[m] for m in roles.media] + [None] * len(roles.organic)),
        "control_values": cube(roles.controls),
    }


def _event_arrays(
    cube: _Cubes, events: Sequence[str], holidays: pd.DataFrame | None, country: str | None
) -> dict:
    """``events`` (names) and ``event_values`` (dims (date, geo, event)): the event columns,
    then the calendar's holidays (the same in every geo); ``()`` and None without any."""
    names, values = list(events), cube(events) if events else None
    if holidays is not None:
        h_names, h_values = holiday_events(holidays, cube.dates, country)
        names += h_names
        h_values = np.repeat(h_values[:, None, :], len(cube.geos), axis=1)
        values = h_values if values is None else np.concatenate([values, h_values], -1)
    return {"events": tuple(names), "event_values": values if names else None}
