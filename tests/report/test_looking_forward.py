"""The report's "Looking forward" section: forecast, scenarios, cross-validation, refresh."""

from __future__ import annotations

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm.crossval import METRICS, CVResult
from bayes_mmm.report import build_payload, render
from bayes_mmm.report.build import forward_section

N_TRAIN = 45


@pytest.fixture(scope="module")
def train(tiny_fit):
    return bm.Fit(
        data=tiny_fit.data.truncate(N_TRAIN),
        spec=tiny_fit.spec,
        idata=tiny_fit.idata,
        meta=dict(tiny_fit.meta),
    )


def _cv() -> CVResult:
    folds = pd.DataFrame({m: [0.1, 0.2] for m in METRICS}, index=["fold0", "fold1"])
    folds.index.name = "fold"
    roi = pd.DataFrame(
        {"mean": 1.0, "median": 1.0, "lower": 0.5, "upper": 1.5},
        index=pd.MultiIndex.from_product([folds.index, ["tv"]], names=["fold", "channel"]),
    )
    return CVResult(folds=folds, roi=roi, horizon=6, holdouts={})


def test_section_shows_what_it_is_given(train, sim_frame):
    frame = sim_frame[0]
    future = frame[frame["date"] > train.data.dates[-1]]
    payload = build_payload(
        train,
        forecast=train.predict(future, as_xarray=True),
        scenarios=train.scenarios({"plan": future, "more": future.assign(tv=future["tv"] * 2)}),
        cv=_cv(),
    )
    forward = next(s for s in payload.sections if s.anchor == "forward")
    assert len(forward.images) == 3 and len(forward.tables) == 2
    assert "Looking forward" in render(payload)
    assert forward_section(train) is None  # nothing to show: no section


def test_a_refreshed_fit_shows_its_change_report(train):
    row = {"before": 1.0, "after": 2.0, "shift": 1.0, "shift_sd": 3.0, "flagged": True}
    meta = {
        **train.meta,
        "refresh": {
            "table": {"tv": row, "search": {**row, "shift_sd": 0.1, "flagged": False}},
            "flagged": ["tv"],
            "flag_sd": 1.645,
            "old_dates": 40,
            "new_dates": 5,
        },
    }
    fit = bm.Fit(data=train.data, spec=train.spec, idata=train.idata, meta=meta)
    forward = forward_section(fit)
    assert forward.tables[0].flags == [True, False]
    assert forward.tables[0].rows[0][0] == "tv"
