"""Property-based fuzzing of ``MMMData.from_frame``.

Random long-format frames (dtypes, NaN/inf/negative cells, string cells, row counts,
date patterns, duplicate and missing rows, shuffled order) go through ``from_frame``. The
only acceptable outcomes are a valid ``MMMData`` (finite arrays of the right shapes) or a
documented ``bm.DataError``; any other exception, or a panel with non-finite values, is a
bug. The input frame must come back unmodified either way.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bayes_mmm as bm

DATE_PATTERNS = (
    "weekly",
    "daily",
    "monthly",
    "gap",
    "mixed",
    "random",
    "strings",
    "bad_strings",
    "ints",
    "tz",
)
CELL_FAULTS = (
    "none",
    "none",
    "none",
    "none",
    "nan",
    "inf",
    "neg",
    "string",
    "zero_col",
    "const_col",
    "bool",
    "huge",
)


def date_column(pattern: str, n_dates: int, rng) -> pd.Series:
    """``n_dates`` period starts following ``pattern`` (one of ``DATE_PATTERNS``)."""
    start = pd.Timestamp("2021-01-04")
    if pattern == "daily":
        dates = pd.date_range(start, periods=n_dates, freq="D")
    elif pattern == "monthly":
        dates = pd.date_range(start, periods=n_dates, freq="MS")
    elif pattern == "gap":
        dates = pd.date_range(start, periods=n_dates + 1, freq="W-MON").delete(n_dates // 2)
    elif pattern == "mixed":
        half = n_dates // 2
        weekly = pd.date_range(start, periods=half, freq="W-MON")
        daily = pd.date_range(start + pd.Timedelta(weeks=half), periods=n_dates - half, freq="D")
        dates = weekly.append(daily)
    elif pattern == "random":
        dates = start + pd.to_timedelta(rng.integers(0, 200, n_dates), unit="D")
    elif pattern == "tz":
        dates = pd.date_range(start, periods=n_dates, freq="W-MON", tz="Europe/Paris")
    else:  # weekly, and the base of the string and integer patterns
        dates = pd.date_range(start, periods=n_dates, freq="W-MON")
    col = pd.Series(dates)
    if pattern in ("strings", "bad_strings"):
        col = col.dt.strftime("%Y-%m-%d").astype(object)
    if pattern == "bad_strings" and n_dates:
        col.iloc[rng.integers(n_dates)] = "not a date"
    if pattern == "ints":
        col = pd.Series(np.arange(n_dates) + 2021)
    return col


def damage_cells(df: pd.DataFrame, fault: str, col: str, rng) -> None:
    """Apply one ``CELL_FAULTS`` fault to column ``col`` of ``df`` (in place)."""
    n = len(df)
    if not n or fault == "none":
        return
    i = int(rng.integers(n))
    if fault == "nan":
        df.loc[i, col] = np.nan
    elif fault == "string":
        df[col] = df[col].astype(object)
        df.loc[i, col] = "1,000"
    elif fault == "const_col":
        df[col] = df[col].iloc[0]
    elif col == "geo":  # the numeric faults below leave the geo column alone
        return
    elif fault == "inf":
        df.loc[i, col] = np.inf
    elif fault == "neg":
        df.loc[i, col] = -1.0
    elif fault == "zero_col":
        df[col] = 0.0
    elif fault == "bool":
        df[col] = rng.uniform(size=n) > 0.5
    elif fault == "huge":
        df.loc[i, col] = 1e308


def damage_rows(df: pd.DataFrame, action: str, rng) -> pd.DataFrame:
    """``df`` with one row dropped or duplicated, rows shuffled, or a non-unique index."""
    n = len(df)
    if action == "drop":
        return df.drop(index=df.index[int(rng.integers(n))])
    if action == "duplicate":
        return pd.concat([df, df.iloc[[int(rng.integers(n))]]])
    if action == "shuffle":
        return df.sample(frac=1.0, random_state=int(rng.integers(1000)))
    df.index = rng.integers(0, max(n // 2, 1), n)  # non-default, non-unique index labels
    return df


@st.composite
def frames(draw):
    n_geos = draw(st.integers(1, 3))
    # mostly usable lengths: hypothesis otherwise favours the (boring) empty frame
    n_dates = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 10, 12, 14, 14, 14, 14]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    date_col = date_column(draw(st.sampled_from(DATE_PATTERNS)), n_dates, rng)
    geos = [f"g{i}" for i in range(n_geos)]
    df = pd.DataFrame(
        {
            "date": np.tile(date_col.to_numpy(), n_geos) if n_dates else date_col.iloc[:0],
            "geo": np.repeat(geos, n_dates),
        }
    )
    n = len(df)
    df["revenue"] = rng.uniform(50, 150, n)
    for col in ("tv", "search", "price"):
        df[col] = rng.gamma(2.0, 10.0, n) * (rng.uniform(size=n) > 0.2)
    fault = draw(st.sampled_from(CELL_FAULTS))
    damage_cells(df, fault, draw(st.sampled_from(["revenue", "tv", "search", "price", "geo"])), rng)
    if n and draw(st.booleans()):  # row-level damage
        df = damage_rows(
            df, draw(st.sampled_from(["drop", "duplicate", "shuffle", "reindex"])), rng
        )
    national = n_geos == 1 and draw(st.booleans())
    if national:
        df = df.drop(columns="geo")
    return df, national


COLUMNS = ("date", "geo", "revenue", "tv", "search", "price")


def assert_names_the_problem(message: str, df: pd.DataFrame) -> None:
    """A ``DataError`` names what is wrong: a column of the call, the geos, or duplicate
    keys; every row it cites is a row label of ``df``; an empty frame is said to be empty."""
    if len(df) == 0:
        assert message == "The frame has no rows."
        return
    columns = [c for c in COLUMNS if f"'{c}'" in message]
    geos = (
        [g for g in df["geo"].dropna().astype(str).unique() if g in message] if "geo" in df else []
    )
    assert columns or geos or message.startswith("Duplicate date rows"), message
    for label in re.findall(r"\brow (-?\d+) \(", message):
        assert int(label) in df.index, (label, message)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frames())
def test_from_frame_gives_a_valid_panel_or_a_data_error(case):
    df, national = case
    before = df.copy(deep=True)
    kwargs = dict(date="date", target="revenue", media=["tv", "search"], controls=["price"])
    if not national:
        kwargs["geo"] = "geo"
    try:
        data = bm.MMMData.from_frame(df, **kwargs)
    except bm.DataError as err:
        assert_names_the_problem(str(err), df)
        event(f"DataError: {str(err)[:25]}")
    else:
        event("valid panel")
        n_dates, n_geos = data.target.shape
        assert data.media.shape == (n_dates, n_geos, 2)
        assert data.control_values.shape == (n_dates, n_geos, 1)
        assert len(data.dates) == n_dates and data.dates.is_monotonic_increasing
        for arr in (data.target, data.media, data.spend, data.control_values):
            assert np.isfinite(arr).all()
        sc = data.scaling
        for arr in (sc.target, sc.media, sc.control_center, sc.control_scale):
            assert np.isfinite(arr).all()
        assert (sc.target > 0).all() and (sc.media > 0).all() and (sc.control_scale > 0).all()
        assert (data.media >= 0).all()
        # row order never matters, and the panel survives its bundle round trip
        shuffled = bm.MMMData.from_frame(df.sample(frac=1.0, random_state=0), **kwargs)
        assert shuffled.data_hash == data.data_hash
        assert bm.MMMData.from_dataset(data.to_dataset()).data_hash == data.data_hash
    pd.testing.assert_frame_equal(df, before)
