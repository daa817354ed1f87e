"""The report's "Looking forward" section: forecast, scenarios, cross-validation, refresh."""

from __future__ import annotations

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm.crossval import METRICS, CVResult
from bayes_mmm.report import build_payload, render
from bayes_mmm.report.build import forward_section


@pytest.fixture(scope="module")
def future(sim_frame):
    """The panel's last 8 weeks of inputs, replayed as the 8 weeks after it."""
    frame = sim_frame[0]
    last = sorted(frame["date"].unique())[-8:]
    out = frame[frame["date"].isin(last)].copy()
    out["date"] = out["date"] + pd.Timedelta(weeks=8)
    return out.drop(columns="revenue")


def _cv() -> CVResult:
    folds = pd.DataFrame({m: [0.1, 0.2] for m in METRICS}, index=["fold0", "fold1"])
    folds.index.name = "fold"
    roi = pd.DataFrame(
        {"mean": 1.0, "median": 1.0, "lower": 0.5, "upper": 1.5},
        index=pd.MultiIndex.from_product([folds.index, ["tv"]], names=["fold", "channel"]),
    )
    return CVResult(folds=folds, roi=roi, horizon=6, holdouts={})


def test_section_shows_what_it_is_given(tiny_fit, future):
    payload = build_payload(
        tiny_fit,
        forecast=tiny_fit.predict(future, as_xarray=True),
        scenarios=tiny_fit.scenarios({"plan": future, "more": future.assign(tv=future["tv"] * 2)}),
        cv=_cv(),
    )
    forward = next(s for s in payload.sections if s.anchor == "forward")
    assert len(forward.images) == 3 and len(forward.tables) == 2
    assert "Looking forward" in render(payload)
    assert forward_section(tiny_fit) is None  # nothing to show: no section


def test_a_refreshed_fit_shows_its_change_report(tiny_fit):
    row = {"before": 1.0, "after": 2.0, "shift": 1.0, "shift_sd": 3.0, "flagged": True}
    meta = {
        **tiny_fit.meta,
        "refresh": {
            "table": {"tv": row, "search": {**row, "shift_sd": 0.1, "flagged": False}},
            "flagged": ["tv"],
            "flag_sd": 1.645,
            "old_dates": 40,
            "new_dates": 5,
        },
    }
    fit = bm.Fit(data=tiny_fit.data, spec=tiny_fit.spec, idata=tiny_fit.idata, meta=meta)
    forward = forward_section(fit)
    assert forward.tables[0].flags == [True, False]
    assert forward.tables[0].rows[0][0] == "tv"
