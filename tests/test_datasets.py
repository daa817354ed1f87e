"""The shipped datasets and configs resolve through ``importlib.resources`` and are what
their generators write."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import datasets
from bayes_mmm.simulate import SEED003_GENERATOR_SEED, simulate_drivers

PACKAGE = Path(bm.__file__).resolve().parent
SHIPPED = {
    "demo_geo_panel.csv",
    "demo_geo_panel_truth.csv",
    "demo_geo_panel.toml",
    "demo_geo_panel_quick.toml",
    "seed000_geo_panel.csv",
    "seed000_truth.csv",
    "seed003_national.csv",
    "seed003_truth.csv",
    "robyn_dt_simulated_weekly.csv",
    "robyn_dt_simulated_weekly.LICENSE",
}


def test_every_shipped_file_resolves_inside_the_package():
    assert set(datasets.names()) == SHIPPED
    for name in SHIPPED:
        path = datasets.path(name)
        assert path.is_file() and path.resolve().parent == PACKAGE / "datasets"


def test_demo_panel_and_truth_load():
    panel = datasets.demo_panel()
    assert panel.shape == (10 * 156, 9)
    assert panel["geo"].nunique() == 10
    truth = datasets.demo_truth()
    assert list(truth.index) == ["tv", "search", "social", "display", "radio"]
    assert set(truth.index) < set(panel.columns) and (truth > 0).all()
    pd.testing.assert_frame_equal(datasets.read_csv("demo_geo_panel.csv"), panel)


def test_shipped_configs_name_columns_of_the_demo_panel():
    columns = set(datasets.read_csv(datasets.DEMO_PANEL, nrows=1).columns)
    for name in (datasets.DEMO_CONFIG, datasets.DEMO_QUICK_CONFIG):
        cfg = tomllib.loads(datasets.path(name).read_text())["data"]
        assert {cfg["date"], cfg["target"], cfg["geo"], *cfg["media"], *cfg["controls"]} <= columns


def test_unknown_names_raise_a_data_error_that_lists_the_shipped_files():
    with pytest.raises(bm.DataError, match=r"demo_geo_panel\.csv"):
        datasets.path("nope.csv")
    with pytest.raises(bm.DataError, match="not a CSV"):
        datasets.read_csv(datasets.DEMO_CONFIG)


def test_datasets_module_imports_only_errors_from_the_package():
    tree = ast.parse((PACKAGE / "datasets" / "__init__.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert {m for m in imported if m.split(".")[0] == "bayes_mmm"} == {"bayes_mmm.errors"}


def test_shipped_seed000_panel_loads_with_its_spend_groups():
    df = datasets.read_csv("seed000_geo_panel.csv")
    truth = datasets.read_csv("seed000_truth.csv")
    paid = ["FB_IMP", "GOOGLE_IMP", "EMAIL_IMP", "AFF_IMP", "YT_PAID_IMP"]
    spend = {m: "GOOGLE_SPEND" for m in ["GOOGLE_IMP", "EMAIL_IMP", "YT_PAID_IMP"]}
    data = bm.MMMData.from_frame(
        df,
        date="DATE",
        target="REVENUE",
        geo="GEO",
        media=paid,
        spend={**spend, "FB_IMP": "FB_SPEND", "AFF_IMP": "AFF_SPEND"},
        organic=["YT_ORGANIC_IMP"],
        events=["HOLIDAY"],
    )
    assert (len(data.geos), data.n_dates) == (20, 156)
    roi = truth[truth.quantity == "roi"]
    assert list(roi.name) == data.group_labels == ["FB_IMP", "GOOGLE_SPEND", "AFF_IMP"]
    assert (roi.value > 0).all()
    surge = truth[truth.quantity == "holiday_effect"].value
    assert len(surge) == 20 and surge.std() > 0.05  # the surge differs by geo


def test_shipped_dataset_is_the_generator_output():
    """The shipped ``seed003_*.csv`` (``bayes_mmm/datasets/``) are what
    ``scripts/make_seed003_data.py`` writes for the declared generator seed: the shipped
    series is reproducible and its seed is stated."""
    frame, truth, _ = simulate_drivers(n_weeks=156, seed=SEED003_GENERATOR_SEED)
    shipped = datasets.read_csv("seed003_national.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(shipped, frame, check_dtype=False, rtol=1e-12)
    shipped_truth = datasets.read_csv("seed003_truth.csv", index_col=0)
    pd.testing.assert_frame_equal(shipped_truth, truth, rtol=1e-9)
