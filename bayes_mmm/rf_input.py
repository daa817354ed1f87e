"""Reach-and-frequency inputs of ``MMMData.from_frame``: checks and arrays (see
``bayes_mmm.rf`` for the model). Kept apart from ``validate`` so each stays short."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from bayes_mmm.errors import DataError, format_rows
from bayes_mmm.validate import (
    FREQUENCY_TOLERANCE,
    _add_geo_column,
    _check_columns_exist,
    _check_non_negative,
    _numeric_column,
    _parse_dates,
    _row_labels,
)


# ---------------------------------------------------------------------- reach & frequency
def add_rf_columns(
    df: pd.DataFrame,
    rf: Mapping[str, object],
    spend: Mapping[str, str] | None,
    population: str | None,
    date: str,
    geo: str | None,
) -> pd.DataFrame:
    """Check reach-and-frequency inputs and return a copy of ``df`` with one exposure
    column per R&F channel (named after the channel, holding its reach).

    Raises ``DataError`` for a channel without a (reach, frequency) pair, missing or
    non-numeric columns, negative reach, frequency below 1 where reach is above 0, reach
    above the geo's population, a channel without spend, and spend where reach is 0.
    """
    if not rf:
        return df
    pairs: dict[str, tuple[str, str]] = {}
    for channel, pair in rf.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise DataError(
                f"reach_frequency['{channel}'] is {pair!r}: give a (reach column, frequency "
                "column) pair; reach without frequency cannot be modelled (use a plain media "
                "column instead)."
            )
        if spend is None or channel not in spend:
            raise DataError(
                f"R&F channel '{channel}' has no spend column: add spend={{'{channel}': "
                "<spend column>}} (its ROI needs the money behind the reach)."
            )
        if channel in df.columns:
            raise DataError(
                f"R&F channel name '{channel}' is already a column of the frame: name the "
                "channel differently from its columns."
            )
        pairs[channel] = (pair[0], pair[1])
    assert spend is not None  # every channel's spend column was checked above
    cols = [c for pair in pairs.values() for c in pair]
    _check_columns_exist(df, [date, *cols, *(spend[c] for c in rf), *([geo] if geo else [])])
    frame = df[list(dict.fromkeys([date, *cols, *(spend[c] for c in rf)]))].copy()
    frame[date] = _parse_dates(frame[date], date)
    if geo is not None:
        frame[geo] = df[geo]
    geo_col = _add_geo_column(frame, geo)
    out = df.copy()
    for channel, (reach_col, freq_col) in pairs.items():
        reach = _numeric_column(frame, reach_col, date, geo_col)
        freq = _numeric_column(frame, freq_col, date, geo_col)
        frame[reach_col], frame[freq_col] = reach, freq
        _check_non_negative(frame, reach_col, date, geo_col)
        low = (reach > 0) & (freq < 1 - FREQUENCY_TOLERANCE)
        if low.any():
            raise DataError(
                f"Column '{freq_col}' (frequency of '{channel}') is below 1 where reach "
                f"'{reach_col}' is above 0, at "
                f"{format_rows(_row_labels(frame, low, date, geo_col))}: "
                "frequency is exposures per person reached, at least 1 (up to "
                f"{FREQUENCY_TOLERANCE:.0%} below 1 is accepted as rounding); check the column."
            )
        spend_values = pd.to_numeric(df[spend[channel]], errors="coerce")
        orphan = (spend_values > 0) & (reach == 0)
        if orphan.any():
            raise DataError(
                f"Spend column '{spend[channel]}' is positive where reach '{reach_col}' of "
                f"R&F channel '{channel}' is 0, at "
                f"{format_rows(_row_labels(frame, orphan, date, geo_col))}: spend without "
                "reach; fix the reach or the spend mapping."
            )
        if population is not None and population in df.columns:
            pop = pd.to_numeric(df[population], errors="coerce")
            over = reach > pop
            if over.any():
                raise DataError(
                    f"Column '{reach_col}' (reach of '{channel}') exceeds the geo's population "
                    f"'{population}' at {format_rows(_row_labels(frame, over, date, geo_col))}: "
                    "reach counts distinct people; check its units."
                )
        out[channel] = reach
    return out


def rf_fields(df: pd.DataFrame, cube, rf: Mapping[str, tuple[str, str]]) -> dict:
    """``rf_channels`` and their ``frequency`` (dims (date, geo, rf_channel)); ``df`` holds
    the cleaned frame's rows in its order."""
    if not rf:
        return {"rf_channels": (), "frequency": None}
    cols = [f for _, f in rf.values()]
    frame = df[cols].astype(float)
    frame.index = cube.indexed.index
    return {"rf_channels": tuple(rf), "frequency": type(cube)(frame, cube.dates, cube.geos)(cols)}


RF_KEYS = ("reach", "frequency")  # source_columns "reach:<channel>", "frequency:<channel>"


def rf_sources(rf: Mapping[str, tuple[str, str]], **sources: str) -> dict[str, str]:
    """``MMMData.source_columns``: ``sources`` (date, geo, geo_group) and the R&F channels'
    columns as ``"reach:<channel>"`` and ``"frequency:<channel>"``."""
    out = dict(sources)
    for channel, (reach, freq) in rf.items():
        out[f"reach:{channel}"], out[f"frequency:{channel}"] = reach, freq
    return out


def rf_source_attr(source_columns: Mapping[str, str]) -> str:
    """The R&F entries of ``source_columns`` as one dataset attribute (JSON)."""
    return json.dumps({k: v for k, v in source_columns.items() if k.split(":")[0] in RF_KEYS})


def source_columns_of(attrs: Mapping) -> dict[str, str]:
    """``MMMData.source_columns`` from the attributes ``MMMData.to_dataset`` writes."""
    return {
        "date": attrs["source_date"],
        "geo": attrs["source_geo"],
        "geo_group": attrs.get("source_group", ""),
        **json.loads(attrs.get("source_rf", "{}")),
    }


def rf_source_columns(source_columns: Mapping[str, str], channel: str) -> tuple[str, str]:
    """The (reach, frequency) columns of R&F ``channel`` in the training frame; a panel read
    before they were recorded falls back to ``<channel>`` and ``<channel>_frequency``."""
    return (
        source_columns.get(f"reach:{channel}", channel),
        source_columns.get(f"frequency:{channel}", f"{channel}_frequency"),
    )


def future_rf_frame(frame: pd.DataFrame, rf_channels, source_columns) -> pd.DataFrame:
    """A future frame with each R&F channel's reach under the channel's own name (as the
    training panel holds it), taken from its reach column when the frame has that."""
    out = frame
    for channel in rf_channels:
        reach, _ = rf_source_columns(source_columns, channel)
        if reach in frame.columns and channel not in frame.columns:
            out = out.assign(**{channel: frame[reach]})
    return out


def with_rf(df, media, reach_frequency, spend, population, date, geo):
    """``df`` with the R&F channels' reach columns (:func:`add_rf_columns`), ``media`` with
    the R&F channels appended, and the R&F mapping (a dict, empty without R&F)."""
    rf = dict(reach_frequency or {})
    return add_rf_columns(df, rf, spend, population, date, geo), [*media, *rf], rf
