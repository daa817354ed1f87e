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
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.errors import DataError, format_rows

NATIONAL_GEO = "national"


@dataclass(frozen=True)
class Scaling:
    """Per-geo and per-channel scales used for sampling; ``x_model = x / scale``.

    Attributes
    ----------
    target : ndarray, dims (geo,)
        Mean target of each geo.
    media : ndarray, dims (geo, channel)
        Mean non-zero media of each (geo, channel).
    control_center, control_scale : ndarray, dims (control,)
        Panel-wide mean and standard deviation of each control.
    """

    target: np.ndarray
    media: np.ndarray
    control_center: np.ndarray
    control_scale: np.ndarray


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
        """
        media, controls, organic = list(media), list(controls), list(organic)
        if not media and not organic:
            raise DataError("`media` is empty: name at least one media column, e.g. media=['tv'].")
        spend = dict(spend) if spend is not None else {m: m for m in media}
        _check_roles(date, target, geo, media, controls, organic, spend)
        spend_cols = list(dict.fromkeys(spend[m] for m in media))
        needed = [date, target, *media, *organic, *spend_cols, *controls]
        if geo is not None:
            needed.append(geo)
        _check_columns_exist(df, needed)

        frame = df[list(dict.fromkeys(needed))].copy()
        frame[date] = _parse_dates(frame[date], date)
        if geo is None:
            frame["__geo__"] = NATIONAL_GEO
            geo_col = "__geo__"
        else:
            geo_col = geo
            if frame[geo_col].isna().any():
                rows = frame.index[frame[geo_col].isna()]
                raise DataError(
                    f"Column '{geo}' (geo) is missing at rows {format_rows(rows)}: "
                    "fill in the geo or drop those rows."
                )
            frame[geo_col] = frame[geo_col].astype(str)
        numeric = [target, *media, *organic, *spend_cols, *controls]
        for col in dict.fromkeys(numeric):
            frame[col] = _numeric_column(frame, col, date, geo_col)
        for col in dict.fromkeys([*media, *organic, *spend_cols]):
            _check_non_negative(frame, col, date, geo_col)
        _check_duplicates(frame, date, geo_col, geo)
        frame = frame.sort_values([geo_col, date], kind="stable")
        dates, freq = _check_calendar(frame, date, geo_col)
        geos = tuple(pd.unique(frame[geo_col]))

        def cube(cols):
            idx = pd.MultiIndex.from_product([dates, list(geos)])
            wide = frame.set_index([date, geo_col])[cols].reindex(idx)
            return wide.to_numpy(dtype=float).reshape(len(dates), len(geos), len(cols))

        channels = tuple(media + organic)
        media_arr = cube(list(channels))
        spend_arr = cube(spend_cols) if spend_cols else np.zeros((len(dates), len(geos), 0))
        groups = tuple(spend_cols)
        channel_group = tuple([spend[m] for m in media] + [None] * len(organic))
        data = cls(
            dates=dates,
            geos=geos,
            channels=channels,
            spend_groups=groups,
            controls=tuple(controls),
            target=cube([target])[..., 0],
            media=media_arr,
            spend=spend_arr,
            channel_group=channel_group,
            control_values=cube(controls) if controls else np.zeros((len(dates), len(geos), 0)),
            target_name=target,
            freq=freq,
            national=geo is None,
            source_columns={"date": date, "geo": geo or ""},
        )
        data._check_content()
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
            if len(orphan) > 0.2 * on_spend.sum():
                rows = [f"{self.dates[t].date()}/{self.geos[g]}" for t, g in orphan]
                raise DataError(
                    f"Spend column '{name}' is positive where its media {paid} are all zero, "
                    f"at {format_rows(rows)}: spend without media. Check the `spend` mapping."
                )
        for k, name in enumerate(self.controls):
            x = self.control_values[..., k]
            if np.all(x == x.flat[0]):
                raise DataError(
                    f"Control column '{name}' is constant ({x.flat[0]:g}) in every row: it "
                    "cannot be told apart from the intercept; drop it from `controls`."
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
        return Scaling(
            target=self.target.mean(axis=0),
            media=media_scale,
            control_center=center,
            control_scale=np.where(scale > 0, scale, 1.0),
        )

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Channels with a spend group (everything but organic media)."""
        return tuple(c for c, g in zip(self.channels, self.channel_group) if g is not None)

    @property
    def group_matrix(self) -> np.ndarray:
        """Membership of channels in spend groups, dims (channel, spend_group), 0/1."""
        m = np.zeros((len(self.channels), len(self.spend_groups)))
        for c, g in enumerate(self.channel_group):
            if g is not None:
                m[c, self.spend_groups.index(g)] = 1.0
        return m

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
        return h.hexdigest()

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
        )
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
            source_columns={"date": ds.attrs["source_date"], "geo": ds.attrs["source_geo"]},
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


# ---------------------------------------------------------------------- validation helpers
def _check_roles(date, target, geo, media, controls, organic, spend) -> None:
    roles = {"date": [date], "target": [target], "media": media, "controls": controls}
    roles["organic"] = organic
    if geo is not None:
        roles["geo"] = [geo]
    seen: dict[str, str] = {}
    for role, cols in roles.items():
        for col in cols:
            if not isinstance(col, str):
                raise DataError(f"Column names must be strings; got {col!r} in `{role}`.")
            if col in seen:
                where = role if seen[col] == role else f"{seen[col]}' and '{role}"
                raise DataError(
                    f"Column '{col}' is listed twice (in '{where}'): give each column one role."
                )
            seen[col] = role
    unknown = [m for m in spend if m not in media]
    if unknown:
        raise DataError(
            f"`spend` maps {unknown}, which are not in `media`: spend keys must be media "
            f"columns ({media})."
        )
    missing = [m for m in media if m not in spend]
    if missing:
        raise DataError(
            f"Media {missing} have no spend column in `spend`, so their ROI is undefined: add "
            "them to `spend` (e.g. spend={'tv_impressions': 'tv_spend'}) or list them under "
            "`organic`."
        )
    for m, s in spend.items():
        if s in seen and s != m and seen[s] != "media":
            raise DataError(f"Spend column '{s}' (for '{m}') is also used as '{seen[s]}'.")


def _check_columns_exist(df: pd.DataFrame, needed: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"Expected a pandas DataFrame, got {type(df).__name__}.")
    cols = [str(c) for c in df.columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataError(f"The frame has duplicate column names {dup}: rename or drop them.")
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, cols, n=3, cutoff=0.6)
            if not close:
                close = [x for x in cols if x.lower() == c.lower()]
            hints.append(f"'{c}'" + (f" (did you mean {close}?)" if close else ""))
        raise DataError(
            f"Missing column(s) {', '.join(hints)}. Available columns: {cols}. "
            "Fix the name(s) in the call."
        )
    if len(df) == 0:
        raise DataError("The frame has no rows.")


def _parse_dates(col: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = col
    else:
        parsed = pd.to_datetime(col, errors="coerce")
    bad = col.index[parsed.isna()]
    if len(bad):
        raise DataError(
            f"Column '{name}' (date) has values that are not dates at rows "
            f"{format_rows(bad)} (e.g. {col.loc[bad[0]]!r}): use ISO dates like 2024-01-01."
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _row_labels(frame: pd.DataFrame, mask, date: str, geo: str) -> list[str]:
    sub = frame.loc[mask]
    return [
        f"row {i} ({d.date()}, {g})" if g != NATIONAL_GEO else f"row {i} ({d.date()})"
        for i, d, g in zip(sub.index, sub[date], sub[geo])
    ]


def _numeric_column(frame: pd.DataFrame, col: str, date: str, geo: str) -> pd.Series:
    raw = frame[col]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    values = pd.to_numeric(raw, errors="coerce")
    strings = values.isna() & raw.notna()
    if strings.any():
        example = raw[strings].iloc[0]
        rows = format_rows(_row_labels(frame, strings, date, geo))
        raise DataError(
            f"Column '{col}' has non-numeric values at {rows} "
            f"(e.g. {example!r}): convert them to numbers (strip currency symbols, "
            "thousands separators) or fix the rows."
        )
    values = values.astype(float)
    nan = values.isna()
    if nan.any():
        raise DataError(
            f"Column '{col}' has missing values (NaN) at "
            f"{format_rows(_row_labels(frame, nan, date, geo))}: fill them (0 for media that did "
            "not run) or drop those dates in every geo."
        )
    inf = np.isinf(values)
    if inf.any():
        raise DataError(
            f"Column '{col}' has infinite values at "
            f"{format_rows(_row_labels(frame, inf, date, geo))}: replace them with finite numbers."
        )
    return values


def _check_non_negative(frame: pd.DataFrame, col: str, date: str, geo: str) -> None:
    neg = frame[col] < 0
    if neg.any():
        raise DataError(
            f"Column '{col}' has negative values at "
            f"{format_rows(_row_labels(frame, neg, date, geo))}: media and spend must be ≥ 0 "
            "(refunds or corrections belong in a control)."
        )


def _check_duplicates(frame: pd.DataFrame, date: str, geo_col: str, geo: str | None) -> None:
    dup = frame.duplicated([date, geo_col], keep=False)
    if dup.any():
        key = f"(date, {geo})" if geo else "date"
        raise DataError(
            f"Duplicate {key} rows at {format_rows(_row_labels(frame, dup, date, geo_col))}: "
            f"each {key} must appear once; aggregate or drop the duplicates."
        )


def _check_calendar(frame: pd.DataFrame, date: str, geo_col: str) -> tuple[pd.DatetimeIndex, str]:
    all_dates = pd.DatetimeIndex(sorted(frame[date].unique()))
    if len(all_dates) < 3:
        raise DataError(
            f"Column '{date}' has only {len(all_dates)} distinct dates: an MMM needs many "
            "periods (at least a year of weeks is advisable)."
        )
    spans = frame.groupby(geo_col)[date].agg(["min", "max", "count"])
    if spans["min"].nunique() > 1 or spans["max"].nunique() > 1:
        lo, hi = all_dates[0], all_dates[-1]
        off = spans[(spans["min"] != lo) | (spans["max"] != hi)]
        desc = [f"{g} ({r['min'].date()}…{r['max'].date()})" for g, r in off.iterrows()]
        raise DataError(
            f"Geos cover different date ranges: {format_rows(desc)} versus the panel's "
            f"{lo.date()}…{hi.date()}. Trim every geo to a common range, or pad the missing "
            "weeks with zero media and the observed target."
        )
    freq = pd.infer_freq(all_dates)
    if freq is None:
        step = pd.Series(all_dates[1:] - all_dates[:-1]).mode()[0]
        gaps = [
            f"{a.date()}→{b.date()}" for a, b in itertools.pairwise(all_dates) if (b - a) != step
        ]
        raise DataError(
            f"Column '{date}' is not evenly spaced: the usual step is {step.days} days but "
            f"these steps differ: {format_rows(gaps)}. Fill missing periods, or aggregate "
            "to one frequency (weekly, daily or monthly)."
        )
    incomplete = spans[spans["count"] != len(all_dates)]
    if len(incomplete):
        desc = []
        for g in incomplete.index:
            have = set(frame.loc[frame[geo_col] == g, date])
            miss = [d.date() for d in all_dates if d not in have]
            desc.append(f"{g} lacks {format_rows(miss, 3)}")
        raise DataError(
            f"Some geos are missing periods: {'; '.join(desc[:5])}. Add those rows "
            "(zero media, observed target) or drop the periods in every geo."
        )
    return all_dates, freq
