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
Columns: missing (with close-match hints), duplicated, listed in two roles; dates that do
not parse or are plain numbers (pandas would read them as nanoseconds since 1970); a boolean
target; non-numeric, NaN, infinite, negative (media, spend) or overflow-prone
(``|x| > MAX_ABS``) cells. Rows: duplicate (date, geo) keys, uneven or mixed spacing, geos
with different ranges, missing periods or fewer than 3 rows. Content: a target mean ≤ 0 in
a geo, all-zero or constant channels and controls, spend without media, and pairs of
channels/controls that are perfectly collinear (``|r| > COLLINEAR_R`` over all rows: no
model can tell their effects apart). Unsorted rows are accepted and sorted.
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
MAX_ABS = 1e15  # larger per-row values overflow sums and variances in float64
COLLINEAR_R = 0.999  # |correlation| above which two regressors cannot be told apart


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
    # Events (holidays, promotions): names and values, dims (date, geo, event); None if none.
    events: tuple[str, ...] = ()
    event_values: np.ndarray | None = None
    # The group (region) of each geo, dims (geo,); empty without ``geo_group``.
    geo_group: tuple[str, ...] = ()
    # Population of each geo, dims (geo,); None without ``population``.
    population: np.ndarray | None = None

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
            A holiday calendar with columns ``ds`` (date) and ``holiday`` (name), and
            ``country`` when ``country`` is given (Prophet / Robyn format). Each holiday that
            falls in the panel becomes an event column ``holiday:<name>``: 1 in the period
            containing it.
        country : str, optional
            Keep only the calendar's rows for this country code (e.g. ``"US"``).
        geo_group : str, optional
            Column naming each geo's group (e.g. region), constant within a geo: channel
            effects then pool geo → group → channel.
        population : str, optional
            Column with each geo's population (constant within a geo, > 0). The target
            scale of a geo becomes population × the panel's per-capita mean target, so
            geo levels are per-capita differences (see ``Scaling``).
        """
        media, controls, organic = list(media), list(controls), list(organic)
        if not media and not organic:
            raise DataError("`media` is empty: name at least one media column, e.g. media=['tv'].")
        spend = dict(spend) if spend is not None else {m: m for m in media}
        _check_roles(date, target, geo, media, controls, organic, spend)
        spend_cols = list(dict.fromkeys(spend[m] for m in media))
        needed = [date, target, *media, *organic, *spend_cols, *controls]
        events = _check_events(events, needed)
        needed += events
        if geo_group is not None:
            if geo is None or geo_group in needed or geo_group == geo:
                raise DataError(
                    f"geo_group='{geo_group}' needs a `geo` column and a column of its own."
                )
            needed.append(geo_group)
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
            frame[col] = _numeric_column(frame, col, date, geo_col, target)
        for col in dict.fromkeys([*media, *organic, *spend_cols]):
            _check_non_negative(frame, col, date, geo_col)
        for col in events:
            frame[col] = _numeric_column(frame, col, date, geo_col)
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
        names, values = list(events), cube(events) if events else None
        if holidays is not None:
            h_names, h_values = holiday_events(holidays, dates, country)
            names += h_names
            h_values = np.repeat(h_values[:, None, :], len(geos), axis=1)
            values = h_values if values is None else np.concatenate([values, h_values], -1)
        if names:
            object.__setattr__(data, "events", tuple(names))
            object.__setattr__(data, "event_values", values)
        if geo_group is not None:
            object.__setattr__(data, "geo_group", _geo_groups(frame, geo_col, geo_group, geos))
        if population is not None:
            pop = _geo_population(df.loc[frame.index], geo_col, population, geo, geos)
            object.__setattr__(data, "population", pop)
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
        if self.events:
            h.update(np.ascontiguousarray(self.event_values, dtype=np.float64).tobytes())
            h.update(repr(self.events).encode())
        if self.geo_group:
            h.update(repr(self.geo_group).encode())
        if self.population is not None:
            h.update(np.ascontiguousarray(self.population, dtype=np.float64).tobytes())
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
        if self.events:
            ds["event_values"] = (("date", "geo", "event"), self.event_values)
            ds = ds.assign_coords(event=list(self.events))
        if self.geo_group:
            ds = ds.assign_coords(geo_group=("geo", list(self.geo_group)))
        if self.population is not None:
            ds["population"] = (("geo",), self.population)
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
            events=tuple(str(e) for e in ds["event"].values) if "event" in ds.coords else (),
            event_values=ds["event_values"].values if "event_values" in ds else None,
            geo_group=tuple(str(g) for g in ds["geo_group"].values) if "geo_group" in ds else (),
            population=ds["population"].values if "population" in ds else None,
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
                raise DataError(
                    f"Column names must be strings; got {col!r} in `{role}`: pass the "
                    f"column's name, e.g. '{col}'."
                )
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
            raise DataError(
                f"Spend column '{s}' (for '{m}') is also used as '{seen[s]}': give each "
                "column one role (a spend column cannot also be a control or target)."
            )


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
    elif pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        # pandas reads numbers as nanoseconds since 1970: a silent, wrong calendar.
        raise DataError(
            f"Column '{name}' (date) holds numbers (e.g. {col.iloc[0]}), not dates: convert "
            "it first, e.g. pd.to_datetime(df['" + name + "'].astype(str), format='%Y%m%d'), "
            "or use ISO dates like 2024-01-01."
        )
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


def _numeric_column(
    frame: pd.DataFrame, col: str, date: str, geo: str, target: str | None = None
) -> pd.Series:
    raw = frame[col]
    if col == target and pd.api.types.is_bool_dtype(raw):
        raise DataError(
            f"Column '{col}' (target) is boolean (True/False): the target must be a quantity "
            "such as revenue or sales; pass the right column as `target`."
        )
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
    huge = values.abs() > MAX_ABS
    if huge.any():
        raise DataError(
            f"Column '{col}' has values beyond ±{MAX_ABS:g} at "
            f"{format_rows(_row_labels(frame, huge, date, geo))}: sums of such values overflow; "
            "express the column in larger units (thousands, millions) or fix the rows."
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
    tiny = spans[spans["count"] < 3]
    if len(tiny) and len(tiny) < len(spans):
        desc = [f"{g} ({n} row{'s' if n > 1 else ''})" for g, n in tiny["count"].items()]
        raise DataError(
            f"Geos {format_rows(desc)} have fewer than 3 rows while the panel has "
            f"{len(all_dates)} dates: drop those geos or supply their full history."
        )
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


# ---------------------------------------------------------------------- events
def _check_events(events: Sequence[str], taken: Sequence[str]) -> list[str]:
    events = list(events)
    for col in events:
        if not isinstance(col, str):
            raise DataError(f"Column names must be strings; got {col!r} in `events`.")
        if col in taken or events.count(col) > 1:
            raise DataError(
                f"Column '{col}' is listed twice (in 'events' and another role): give each "
                "column one role."
            )
    return events


def holiday_events(
    holidays: pd.DataFrame, dates: pd.DatetimeIndex, country: str | None = None
) -> tuple[list[str], np.ndarray]:
    """Turn a holiday calendar into event columns on the panel's periods.

    Parameters
    ----------
    holidays : DataFrame
        Columns ``ds`` and ``holiday`` (and ``country`` if ``country`` is given).
    dates : DatetimeIndex, dims (date,)
        Period starts, evenly spaced.

    Returns
    -------
    names : list of str
        ``holiday:<name>`` for each holiday falling in at least one period.
    values : ndarray, dims (date, event)
        1 in the period containing the holiday, else 0.
    """
    need = ["ds", "holiday"] + (["country"] if country is not None else [])
    missing = [c for c in need if c not in holidays.columns]
    if missing:
        raise DataError(
            f"The holiday calendar lacks column(s) {missing}: it needs 'ds' (date), 'holiday' "
            "(name) and, with `country`, 'country'."
        )
    cal = holidays
    if country is not None:
        cal = cal[cal["country"].astype(str) == country]
        if cal.empty:
            known = sorted(holidays["country"].astype(str).unique())[:20]
            raise DataError(
                f"The holiday calendar has no rows for country={country!r}; "
                f"countries include {known}."
            )
    ds = pd.to_datetime(cal["ds"], errors="coerce")
    if ds.isna().any():
        raise DataError(
            f"The holiday calendar's 'ds' has values that are not dates at rows "
            f"{format_rows(cal.index[ds.isna()])}: use ISO dates."
        )
    step = dates[1] - dates[0]
    pos = dates.searchsorted(ds.to_numpy(), side="right") - 1
    inside = (pos >= 0) & (ds.to_numpy() < (dates[-1] + step).to_datetime64())
    names = list(dict.fromkeys(cal["holiday"].astype(str)[inside]))
    values = np.zeros((len(dates), len(names)))
    for p, name in zip(pos[inside], cal["holiday"].astype(str)[inside]):
        values[p, names.index(name)] = 1.0
    return [f"holiday:{n}" for n in names], values


def _geo_groups(frame: pd.DataFrame, geo_col: str, col: str, geos) -> tuple[str, ...]:
    """The group of each geo (dims (geo,)); the column must be constant within a geo."""
    if frame[col].isna().any():
        raise DataError(
            f"Column '{col}' (geo_group) is missing at rows "
            f"{format_rows(frame.index[frame[col].isna()])}: give every row its geo's group."
        )
    n = frame.groupby(geo_col)[col].nunique()
    if (n > 1).any():
        raise DataError(
            f"Column '{col}' (geo_group) changes within geos {format_rows(list(n.index[n > 1]))}: "
            "each geo must belong to one group."
        )
    first = frame.groupby(geo_col)[col].first().astype(str)
    return tuple(first[g] for g in geos)


def _geo_population(df: pd.DataFrame, geo_col: str, col: str, geo: str | None, geos) -> np.ndarray:
    """Population per geo (dims (geo,)): numeric, > 0 and constant within each geo."""
    if col not in df.columns:
        raise DataError(f"Missing column '{col}' (population). Available: {list(df.columns)}.")
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() | ~(values > 0)
    if bad.any():
        raise DataError(
            f"Column '{col}' (population) is missing, non-numeric or ≤ 0 at rows "
            f"{format_rows(df.index[bad])}: give every row its geo's population."
        )
    keys = df[geo].astype(str) if geo is not None else pd.Series(NATIONAL_GEO, index=df.index)
    n = values.groupby(keys).nunique()
    if (n > 1).any():
        raise DataError(
            f"Column '{col}' (population) changes within geos {format_rows(list(n.index[n > 1]))}:"
            " use one population per geo (e.g. the mid-period value)."
        )
    first = values.groupby(keys).first()
    return np.array([float(first[g]) for g in geos])
