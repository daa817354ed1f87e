"""Checks on raw input frames, run by ``MMMData.from_frame`` before anything is built.

Each failure is a ``DataError`` naming the column, the offending rows or geos, and the fix.
Kept apart from ``data.py`` so that the panel type stays short and readable.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_mmm.errors import DataError, format_rows

NATIONAL_GEO = "national"
MAX_ABS = 1e15  # larger per-row values overflow sums and variances in float64
# Frequency may fall below 1 by this much where reach > 0: reach and impressions are
# counted (and rounded) separately, and Meridian's own R&F sample panel has frequencies of
# 0.98-0.99 in five rows. Lower values are an error in the data.
FREQUENCY_TOLERANCE = 0.05


# ---------------------------------------------------------------------- roles and frame
@dataclass(frozen=True)
class Roles:
    """The columns of a ``from_frame`` call, checked and resolved.

    Attributes
    ----------
    date, target : str
    geo : str or None
        None for national data.
    media, organic, controls, events : tuple of str
    spend : dict of str to str
        The spend column behind each paid media column.
    spend_cols : tuple of str
        Distinct spend columns in media order: the spend groups.
    needed : tuple of str
        Every column read from the frame, in reading order.
    """

    date: str
    target: str
    geo: str | None
    media: tuple[str, ...]
    organic: tuple[str, ...]
    controls: tuple[str, ...]
    events: tuple[str, ...]
    spend: Mapping[str, str]
    spend_cols: tuple[str, ...]
    needed: tuple[str, ...]

    @property
    def numeric(self) -> list[str]:
        """Target, media, spend and control columns (each once), which must be numbers."""
        return list(dict.fromkeys([self.target, *self.exposure, *self.controls]))

    @property
    def exposure(self) -> list[str]:
        """Media, organic and spend columns (each once), which must be ≥ 0."""
        return list(dict.fromkeys([*self.media, *self.organic, *self.spend_cols]))


def resolve_roles(
    date: str,
    target: str,
    media: Sequence[str],
    geo: str | None,
    spend: Mapping[str, str] | None,
    controls: Sequence[str],
    organic: Sequence[str],
    events: Sequence[str],
    geo_group: str | None,
) -> Roles:
    """Check that every column has one role and resolve the spend mapping (``from_frame``'s
    arguments of the same names)."""
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
    return Roles(
        date=date,
        target=target,
        geo=geo,
        media=tuple(media),
        organic=tuple(organic),
        controls=tuple(controls),
        events=tuple(events),
        spend=spend,
        spend_cols=tuple(spend_cols),
        needed=tuple(needed),
    )


def clean_frame(df: pd.DataFrame, roles: Roles) -> tuple[pd.DataFrame, str]:
    """The frame's needed columns, checked, parsed and sorted by (geo, date).

    ``df`` must hold every column of ``roles.needed`` and is never modified.

    Returns
    -------
    frame : DataFrame
        Dates parsed, geo labels as strings (``NATIONAL_GEO`` without a geo column),
        numeric columns as floats; original row labels kept.
    geo_col : str
        The frame's geo column (``"__geo__"`` for national data).
    """
    date = roles.date
    frame = df[list(dict.fromkeys(roles.needed))].copy()
    frame[date] = _parse_dates(frame[date], date)
    geo_col = _add_geo_column(frame, roles.geo)
    for col in roles.numeric:
        frame[col] = _numeric_column(frame, col, date, geo_col, roles.target)
    for col in roles.exposure:
        _check_non_negative(frame, col, date, geo_col)
    for col in roles.events:
        frame[col] = _numeric_column(frame, col, date, geo_col)
    _check_duplicates(frame, date, geo_col, roles.geo)
    return frame.sort_values([geo_col, date], kind="stable"), geo_col


def _add_geo_column(frame: pd.DataFrame, geo: str | None) -> str:
    """Make ``frame``'s geo labels strings (in place) and return the geo column's name."""
    if geo is None:
        frame["__geo__"] = NATIONAL_GEO
        return "__geo__"
    if frame[geo].isna().any():
        rows = frame.index[frame[geo].isna()]
        raise DataError(
            f"Column '{geo}' (geo) is missing at rows {format_rows(rows)}: "
            "fill in the geo or drop those rows."
        )
    frame[geo] = frame[geo].astype(str)
    return geo


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


def check_spend_columns(
    df: pd.DataFrame, media: Sequence[str], spend: Mapping[str, str] | None
) -> None:
    """Every spend column that ``spend`` names for a ``media`` column exists in ``df``; else
    a ``DataError`` naming the column, the media it pays for and close matches. Runs before
    the role checks, so a misspelled spend column is reported as itself, not as media
    without spend."""
    if not spend or not isinstance(df, pd.DataFrame):
        return
    cols = [str(c) for c in df.columns]
    missing = {
        m: s
        for m, s in spend.items()
        if m in list(media) and isinstance(s, str) and s not in df.columns
    }
    if not missing:
        return
    hints = []
    for m, s in missing.items():
        close = difflib.get_close_matches(s, cols, n=3, cutoff=0.6)
        close += [c for c in cols if c not in close and c != m and str(m) in c]
        hints.append(f"'{s}' (spend for '{m}'" + (f"; did you mean {close}?)" if close else ")"))
    raise DataError(
        f"`spend` names column(s) not in the frame: {', '.join(hints)}. Available columns: "
        f"{cols}. Fix the spend mapping, e.g. spend={{'{next(iter(missing))}': '<spend column>'}}."
    )


def check_length(n_dates: int, roles: Roles) -> None:
    """A panel needs more periods than regressors: at least ``n_columns + 4`` dates, where
    ``n_columns`` counts media, organic, control and event columns. Shorter panels leave
    the per-geo intercept, trend and noise unidentified, whatever the priors say."""
    n_columns = len(roles.media) + len(roles.organic) + len(roles.controls) + len(roles.events)
    need = n_columns + 4
    if n_dates < need:
        raise DataError(
            f"Column '{roles.date}' spans only {n_dates} periods, but {n_columns} media, "
            f"organic, control and event columns need at least {need} periods (the number "
            "of columns + 4): supply a longer history (a year of weeks or more is advisable) "
            "or model fewer columns."
        )


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
        key = f"({date}, {geo})" if geo else date
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


def _geo_fields(
    df: pd.DataFrame, frame: pd.DataFrame, geo_col: str, geo, geo_group, population
) -> dict:
    """``geo_group`` and ``population`` of ``MMMData``; ``df`` holds ``frame``'s rows."""
    geos = tuple(pd.unique(frame[geo_col]))
    return {
        "geo_group": () if geo_group is None else _geo_groups(frame, geo_col, geo_group, geos),
        "population": None
        if population is None
        else _geo_population(df, geo_col, population, geo, geos),
    }
