"""Write the bad-input corpus: ``frames/*.csv`` plus ``cases.json``.

Run ``python tests/cross_cutting/bad_inputs/make_corpus.py`` after changing a case; commit
the outputs. ``tests/cross_cutting/test_bad_inputs.py`` reads only the written files, so the
corpus is plain data.

Every case is a JSON entry::

    {"name": ..., "about": ..., "call": "from_frame" | "build_model" | "optimize" | "load"
     | "roi",
     "csv": "frames/<name>.csv" (frame cases), "columns": [...] (optional relabelling,
     e.g. to create duplicate names CSV cannot hold), "kwargs": {... from_frame ...},
     "spec": {... ModelSpec ...}, "call_kwargs": {...}, "damage": {...} (bundle cases),
     "error": "DataError" | "SpecError" | "BundleError" | null,
     "warns": "DataWarning" (optional, with error null),
     "words": [substrings the message must contain], "same_as_base": bool}

``error: null`` marks inputs that must be *accepted* (e.g. unsorted rows), and
``same_as_base`` that they must give exactly the base panel. An accepted input with
``warns`` must warn with that category, its message holding ``words``.

The base frame is 2 geos × 30 weeks with columns date, geo, revenue, tv, search, social,
price (a control) and tv_cost (spend behind tv when tv is treated as impressions).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
BASE_KWARGS = {
    "date": "date",
    "target": "revenue",
    "media": ["tv", "search", "social"],
    "geo": "geo",
    "controls": ["price"],
}


def base_frame() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    dates = pd.date_range("2023-01-02", periods=30, freq="W-MON")
    geos = ["geo_a", "geo_b"]
    n = len(dates) * len(geos)
    df = pd.DataFrame({"date": np.tile(dates, 2), "geo": np.repeat(geos, len(dates))})
    df["tv"] = np.round(rng.gamma(2.0, 50.0, n) * (rng.uniform(size=n) > 0.3), 2)
    df["search"] = np.round(rng.gamma(3.0, 20.0, n), 2)
    df["social"] = np.round(rng.gamma(2.0, 15.0, n) * (rng.uniform(size=n) > 0.2), 2)
    df["price"] = np.round(10 + rng.normal(0, 1, n), 3)
    df["tv_cost"] = np.round(df["tv"] * 0.8, 2)
    df["revenue"] = np.round(
        1000 + 2 * df.tv + 3 * df.search + df.social - 20 * df.price + rng.normal(0, 30, n), 2
    )
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    return df


def at(df, rows, col, value):
    df = df.copy()
    if isinstance(value, str) and df[col].dtype != object:
        df[col] = df[col].astype(object)
    df.loc[rows, col] = value
    return df


def cases(b: pd.DataFrame) -> list[dict]:
    """Each case: (name, about, frame or None, extra entry fields)."""
    dates = b.date.unique()
    spend_kw = {"media": ["tv", "search"], "spend": {"tv": "tv_cost", "search": "search"}}
    # one case per two lines reads as a table
    # fmt: off
    out = [
        # ---- columns: missing, misspelled, duplicate, wrongly typed
        ("missing_media", "media column absent", b.drop(columns="tv"),
         dict(words=["'tv'", "Missing", "Fix the name"])),
        ("missing_target", "target column absent", b.drop(columns="revenue"),
         dict(words=["'revenue'", "Missing"])),
        ("missing_control", "control column absent", b.drop(columns="price"),
         dict(words=["'price'", "Missing"])),
        ("missing_geo_column", "geo column absent", b.drop(columns="geo"),
         dict(words=["'geo'", "Missing"])),
        ("misspelled_media", "search spelled serach", b.rename(columns={"search": "serach"}),
         dict(words=["'search'", "did you mean", "serach"])),
        ("wrong_case_column", "TV instead of tv", b.rename(columns={"tv": "TV"}),
         dict(words=["'tv'", "did you mean", "'TV'"])),
        ("duplicate_column_names", "two columns both called search", b,
         dict(columns=[c if c != "social" else "search" for c in b.columns],
              kwargs={"media": ["tv", "search"]}, words=["duplicate column names", "search"])),
        ("column_listed_twice", "tv in media twice", b,
         dict(kwargs={"media": ["tv", "tv"]}, words=["'tv'", "listed twice"])),
        ("target_also_media", "revenue used as media", b,
         dict(kwargs={"media": ["tv", "revenue"]}, words=["'revenue'", "twice"])),
        ("control_also_media", "price in media and controls", b,
         dict(kwargs={"media": ["tv", "price"]}, words=["'price'", "twice"])),
        ("non_string_column_name", "a column given as a number", b,
         dict(kwargs={"media": ["tv", 3]}, words=["must be strings", "3"])),
        ("empty_media", "no media at all", b,
         dict(kwargs={"media": []}, words=["`media` is empty"])),
        ("date_not_dates", "date column holds text", b.assign(date="week one"),
         dict(words=["'date'", "not dates", "ISO"])),
        ("date_one_bad_cell", "one unparsable date", at(b, 3, "date", "2023-13-45"),
         dict(words=["'date'", "not dates", "rows 3"])),
        ("date_as_numbers", "yyyymmdd integers (would be 1970 nanoseconds)",
         b.assign(date=pd.to_datetime(b.date).dt.strftime("%Y%m%d").astype(int)),
         dict(words=["'date'", "numbers", "format="])),
        ("target_boolean", "target is True/False", b.assign(revenue=b.revenue > 1000),
         dict(words=["'revenue'", "boolean"])),
        ("media_dates_in_numbers", "a media column holding dates", b.assign(search=b.date),
         dict(words=["'search'", "non-numeric", "'2023-01-02'"])),
        # ---- cells: NaN, inf, negative, strings, overflow
        ("nan_media", "empty tv cell", at(b, 7, "tv", np.nan),
         dict(words=["'tv'", "NaN", "row 7", "fill them"])),
        ("nan_target", "empty revenue cell", at(b, 40, "revenue", np.nan),
         dict(words=["'revenue'", "NaN", "row 40", "geo_b"])),
        ("nan_control", "empty price cell", at(b, 12, "price", np.nan),
         dict(words=["'price'", "NaN", "row 12"])),
        ("nan_geo", "missing geo label", at(b, 5, "geo", np.nan),
         dict(words=["'geo'", "missing", "5"])),
        ("inf_media", "infinite search", at(b, 2, "search", np.inf),
         dict(words=["'search'", "infinite", "row 2"])),
        ("neg_inf_target", "-inf revenue", at(b, 9, "revenue", -np.inf),
         dict(words=["'revenue'", "infinite", "row 9"])),
        ("huge_media", "1e300 spend overflows sums", at(b, 4, "tv", 1e300),
         dict(words=["'tv'", "beyond", "row 4", "larger units"])),
        ("negative_media", "negative social", at(b, 5, "social", -3.0),
         dict(words=["'social'", "negative", "row 5", "control"])),
        ("negative_spend", "negative spend column", at(b, 11, "tv_cost", -10.0),
         dict(kwargs=spend_kw, words=["'tv_cost'", "negative", "row 11"])),
        ("string_in_media", "thousands separator", at(b, 4, "tv", "1,000"),
         dict(words=["'tv'", "non-numeric", "row 4", "'1,000'"])),
        ("currency_in_target", "currency symbol", at(b, 33, "revenue", "$1200"),
         dict(words=["'revenue'", "non-numeric", "row 33", "'$1200'"])),
        ("string_in_control", "text in a control", at(b, 8, "price", "about 10"),
         dict(words=["'price'", "non-numeric", "'about 10'"])),
        ("string_in_spend", "text in a spend column", at(b, 6, "tv_cost", "free"),
         dict(kwargs=spend_kw, words=["'tv_cost'", "non-numeric", "'free'"])),
        # ---- rows and calendar
        ("empty_frame", "header only", b.iloc[:0], dict(words=["no rows"])),
        ("duplicate_rows", "a (date, geo) row twice", pd.concat([b, b.iloc[[10]]]),
         dict(words=["Duplicate", "(date, geo)", "row 10", "aggregate"])),
        ("duplicate_dates_national", "national frame with a repeated date",
         pd.concat([b[b.geo == "geo_a"], b.iloc[[3]]]).drop(columns="geo"),
         dict(kwargs={"geo": None}, words=["Duplicate date", "row 3"])),
        ("gap_all_geos", "a week missing everywhere", b[b.date != dates[12]],
         dict(words=["not evenly spaced", "7 days", "2023-03-20→2023-04-03"])),
        ("mixed_frequency", "weekly then daily",
         b.assign(date=np.where(b.index % 30 >= 20,
                                (pd.to_datetime(b.date.iloc[20]) + pd.to_timedelta(
                                    (b.index % 30 - 20), unit="D")).strftime("%Y-%m-%d"),
                                b.date)),
         dict(words=["not evenly spaced", "Fill missing periods"])),
        ("missing_week_one_geo", "geo_b lacks one week",
         b[~((b.geo == "geo_b") & (b.date == dates[15]))],
         dict(words=["geo_b", "missing periods", "2023-04-17"])),
        ("different_date_ranges", "geo_b starts later",
         b[~((b.geo == "geo_b") & (b.date < dates[5]))],
         dict(words=["different date ranges", "geo_b", "common range"])),
        ("geo_with_one_row", "geo_c appears once",
         pd.concat([b, b.iloc[[0]].assign(geo="geo_c")], ignore_index=True),
         dict(words=["geo_c (1 row)", "fewer than 3 rows", "drop those geos"])),
        ("too_few_dates", "two weeks only", b[b.date.isin(dates[:2])],
         dict(words=["'date'", "only 2 distinct dates"])),
        ("too_short_for_columns", "6 weeks for 4 media and control columns",
         b[b.date.isin(dates[:6])],
         dict(words=["'date'", "only 6 periods", "at least 8", "longer history"])),
        ("duplicate_rows_own_date_name", "a repeated (week, geo) key names 'week', not 'date'",
         pd.concat([b, b.iloc[[10]]]),
         dict(columns=["week", *b.columns[1:]], kwargs={"date": "week"},
              words=["Duplicate", "(week, geo)", "row 10"])),
        ("unsorted_rows", "shuffled rows are accepted and sorted",
         b.sample(frac=1.0, random_state=3), dict(error=None, same_as_base=True)),
        # ---- content
        ("all_zero_channel", "social never runs", b.assign(social=0.0),
         dict(words=["'social'", "zero in every row", "drop it"])),
        ("constant_channel", "search always 50", b.assign(search=50.0),
         dict(words=["'search'", "constant", "intercept"])),
        ("constant_control", "price always 10", b.assign(price=10.0),
         dict(words=["'price'", "constant", "drop it from `controls`"])),
        ("all_zero_event", "promo event column never set", b.assign(promo=0.0),
         dict(kwargs={"events": ["promo"]},
              words=["'promo'", "zero in every row", "drop it from `events`"])),
        ("constant_event", "promo event column always 1", b.assign(promo=1.0),
         dict(kwargs={"events": ["promo"]}, words=["'promo'", "constant", "intercept"])),
        ("target_not_positive", "revenue ≤ 0 in geo_b",
         b.assign(revenue=np.where(b.geo == "geo_b", -b.revenue, b.revenue)),
         dict(words=["'revenue'", "mean ≤ 0", "geo_b"])),
        ("control_collinear_with_channel", "price = 0.5 * tv + 3", b.assign(price=0.5 * b.tv + 3),
         dict(words=["'tv'", "'price'", "collinear", "drop 'price'"])),
        ("two_controls_collinear", "price2 = 2 * price", b.assign(price2=2 * b.price),
         dict(kwargs={"controls": ["price", "price2"]}, words=["'price2'", "collinear"])),
        ("duplicate_channels", "social is a copy of search", b.assign(social=b.search),
         dict(words=["'search'", "'social'", "collinear", "merge"])),
        # ---- spend and media
        ("media_without_spend", "tv has no spend column, so no ROI", b,
         dict(kwargs={"media": ["tv", "search"], "spend": {"search": "search"}},
              words=["['tv']", "no spend column", "ROI is undefined", "organic"])),
        ("spend_key_not_media", "spend maps a channel that is not media", b,
         dict(kwargs={"media": ["tv"], "spend": {"tv": "tv", "radio": "radio"}},
              words=["['radio']", "not in `media`"])),
        ("spend_all_zero", "tv_cost is zero everywhere: ROI undefined", b.assign(tv_cost=0.0),
         dict(kwargs=spend_kw, words=["'tv_cost'", "zero in every row", "ROI is undefined"])),
        ("spend_without_media", "spend where tv never ran",
         b.assign(tv_cost=np.where(b.tv == 0, 100.0, b.tv_cost)),
         dict(kwargs=spend_kw, words=["'tv_cost'", "spend without media", "`spend` mapping"])),
        ("spend_column_missing", "spend names tv_spend, which the frame lacks", b,
         dict(kwargs={"media": ["tv", "search"], "spend": {"tv": "tv_spend"}},
              words=["'tv_spend'", "spend for 'tv'", "did you mean ['tv_cost']"])),
        ("spend_without_media_few_rows", "2 of 42 tv_cost rows run without tv: a warning",
         at(b, [0, 1], "tv_cost", 5.0),
         dict(kwargs=spend_kw, error=None, warns="DataWarning",
              words=["'tv_cost'", "2 of 42 rows", "billing lags"])),
        ("spend_is_control", "tv_cost used as spend and control", b,
         dict(kwargs={**spend_kw, "controls": ["tv_cost"]}, words=["'tv_cost'", "also used"])),
        # ---- model-level
        ("too_few_periods_for_l_max", "30 weeks, l_max 20", b,
         dict(call="build_model", spec={"l_max": 20},
              words=["30 periods", "l_max=20", "at least 40", "smaller l_max"])),
        ("l_max_not_int", "l_max given as text", b,
         dict(call="build_model", spec={"l_max": "8"}, error="SpecError", words=["l_max"])),
        ("budget_below_lower_bounds", "lower bounds add up to more than the budget", None,
         dict(call="optimize",
              call_kwargs={"budget": 1000.0, "bounds": {"tv": [800.0, None],
                                                        "search": [800.0, None]},
                           "allow_unconverged": True},
              error="SpecError", words=["lower bounds", "above the budget"])),
        ("roi_by_unknown_dim", "roi by a dimension that does not exist", None,
         dict(call="roi", call_kwargs={"by": "date"}, error="SpecError",
              words=["by='date'", "'geo'"])),
        # ---- bundles (damage applied to a fresh copy of the tiny fixture bundle)
        ("bundle_other_format", "bundle of format version 99", None,
         dict(call="load", damage={"file": "meta.json", "set": {"format_version": 99}},
              error="BundleError", words=["format version 99", "re-fit"])),
        ("bundle_other_pymc_major", "saved with pymc 3 (strict load)", None,
         dict(call="load", call_kwargs={"strict": True},
              damage={"file": "meta.json", "set": {"versions.pymc": "3.11.5"}},
              error="BundleError", words=["pymc 3.11.5", "major version", "re-fit"])),
        ("bundle_truncated_posterior", "posterior.nc cut at 500 bytes", None,
         dict(call="load", damage={"file": "posterior.nc", "truncate": 500},
              error="BundleError", words=["posterior.nc", "corrupted"])),
        ("bundle_truncated_data", "data.nc cut at 300 bytes", None,
         dict(call="load", damage={"file": "data.nc", "truncate": 300},
              error="BundleError", words=["data.nc", "corrupted"])),
        ("bundle_corrupt_spec", "spec.toml is not TOML", None,
         dict(call="load", damage={"file": "spec.toml", "write": "l_max = [8\n"},
              error="BundleError", words=["spec.toml", "corrupted"])),
        ("bundle_spec_unknown_key", "spec.toml has an unknown field", None,
         dict(call="load", damage={"file": "spec.toml", "prepend": "colour = 'red'\n"},
              error="BundleError", words=["spec.toml", "corrupted"])),
        ("bundle_missing_meta", "meta.json never written (crash mid-save)", None,
         dict(call="load", damage={"file": "meta.json", "delete": True},
              error="BundleError", words=["incomplete", "meta.json"])),
        ("bundle_meta_not_object", "meta.json holds a list", None,
         dict(call="load", damage={"file": "meta.json", "write": "[1, 2]"},
              error="BundleError", words=["meta.json", "corrupted"])),
    ]
    # fmt: on
    return out


def main() -> None:
    b = base_frame()
    frames = HERE / "frames"
    frames.mkdir(exist_ok=True)
    for old in frames.glob("*.csv"):
        old.unlink()
    b.to_csv(frames / "base.csv", index=False)
    entries = []
    for name, about, frame, extra in cases(b):
        entry = {"name": name, "about": about, "call": "from_frame", "error": "DataError"}
        entry.update(extra)
        if frame is not None:
            if frame is not b or "columns" in extra:
                frame.to_csv(frames / f"{name}.csv", index=False)
                entry["csv"] = f"frames/{name}.csv"
            else:
                entry["csv"] = "frames/base.csv"
        entries.append(entry)
    text = json.dumps({"base_kwargs": BASE_KWARGS, "cases": entries}, indent=1)
    (HERE / "cases.json").write_text(text + "\n")
    print(f"{len(entries)} cases written to {HERE}")


if __name__ == "__main__":
    main()
