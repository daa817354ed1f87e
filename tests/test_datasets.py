"""The shipped datasets and configs resolve through ``importlib.resources``, and the code
that reads them (``cli.py``, ``demo.py``) never looks for the repository around the package."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import cli, datasets

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


def test_demo_config_resolves_shipped_names_and_keeps_paths(tmp_path, monkeypatch):
    assert cli.demo_config(None) == datasets.path(datasets.DEMO_CONFIG)
    quick = datasets.path(datasets.DEMO_QUICK_CONFIG)
    assert cli.demo_config("demo_geo_panel_quick") == quick
    assert cli.demo_config("demo_geo_panel_quick.toml") == quick
    # A file in the working directory wins over a shipped config of the same name.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo_geo_panel_quick.toml").write_text(quick.read_text())
    assert cli.demo_config("demo_geo_panel_quick.toml") == Path("demo_geo_panel_quick.toml")
    assert cli.demo_config("missing.toml") == Path("missing.toml")


def test_datasets_module_imports_only_errors_from_the_package():
    tree = ast.parse((PACKAGE / "datasets" / "__init__.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert {m for m in imported if m.split(".")[0] == "bayes_mmm"} == {"bayes_mmm.errors"}


@pytest.mark.parametrize("module", ["cli.py", "demo.py"])
def test_cli_and_demo_do_not_reach_for_the_repository(module):
    source = (PACKAGE / module).read_text()
    # Paths built from the module's own location reach for the source tree around it.
    assert "__file__" not in source
    assert not re.search(r"\.parents\[|\.parent\.parent", source)
    for folder in ("data", "configs"):
        joined = rf"""/\s*["']{folder}["']|["']{folder}["']\s*/|["']{folder}/"""
        assert not re.search(joined, source), f"a path into the repository's {folder}/"
