"""Time-slice cross-validation: folds, scores, ROI per fold and the ranking in compare()."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm.crossval import METRICS, CVResult


def _result(crps: list[float]) -> CVResult:
    folds = pd.DataFrame(
        {m: [0.1 * (k + 1) for k in range(len(crps))] for m in METRICS},
        index=pd.Index([f"fold{k}" for k in range(len(crps))], name="fold"),
    ).assign(crps=crps)
    roi = pd.DataFrame(
        {"mean": 1.0, "median": 1.0, "lower": 0.5, "upper": 1.5},
        index=pd.MultiIndex.from_product(
            [folds.index, ["tv", "search"]], names=["fold", "channel"]
        ),
    )
    return CVResult(folds=folds, roi=roi, horizon=6, holdouts={})


def test_overall_is_the_mean_over_folds_and_the_table_adds_it():
    cv = _result([3.0, 5.0])
    assert cv.overall["crps"] == 4.0
    assert list(cv.table.index) == ["fold0", "fold1", "overall"]
    fig = cv.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2


def test_compare_ranks_fits_on_cross_validated_crps(tiny_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = bm.compare(
            {"a": tiny_fit, "b": tiny_fit}, cv={"a": _result([5.0, 5.0]), "b": _result([1.0, 2.0])}
        )
    assert table.loc["b", "cv_rank"] == 1 and table.loc["a", "cv_rank"] == 2
    assert table.loc["b", "cv_crps"] == 1.5


@pytest.mark.sampling
def test_cross_validate_scores_each_fold(make_panel):
    data, _, _ = make_panel(n_weeks=60, seed=3)
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    cv = bm.cross_validate(data, spec, folds=2, horizon=6, draws=100, tune=200, chains=2)
    assert list(cv.folds.index) == ["fold0", "fold1"]
    assert list(cv.folds["n_train"]) == [48, 54]
    assert cv.folds["mape"].between(0, 0.5).all()
    assert cv.roi.index.names == ["fold", "channel"] and len(cv.roi) == 2 * 3
    assert cv.holdouts["fold1"].weeks == 6


@pytest.mark.sampling
def test_cross_validate_runs_its_folds_on_a_local_cluster(make_panel, dask_client):
    """Four folds go to the cluster's workers as four fits and come back scored."""
    from distributed import get_task_stream

    data = make_panel(n_geos=2, n_weeks=52, n_channels=2, seed=5, controls=())[0]
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    with get_task_stream(dask_client) as stream:
        cv = bm.cross_validate(
            data, spec, folds=4, horizon=6, client=dask_client, draws=50, tune=50, chains=1
        )
    fits = [t for t in stream.data if t["key"].startswith("bayes_mmm-fit-")]
    assert len(fits) == 4
    assert list(cv.folds["n_train"]) == [28, 34, 40, 46]
    assert cv.folds[list(METRICS)].notna().all().all()
    assert cv.folds["coverage_90"].between(0, 1).all()
    assert len(cv.roi) == 4 * 2 and (cv.roi["lower"] <= cv.roi["upper"]).all()
    assert {h.weeks for h in cv.holdouts.values()} == {6}
