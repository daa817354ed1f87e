"""``scripts/run_notebooks_full.py``: the cell that collects every fit's gates, and the
summary table it writes (the notebooks themselves run in ``test_notebooks.py``)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import nbformat
import pytest

import bayes_mmm as bm

pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run_notebooks_full.py"
spec = importlib.util.spec_from_file_location("run_notebooks_full", SCRIPT)
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)


def test_collect_cell_reports_each_fit_once_with_its_gates(tiny_fit):
    namespace = {"fit": tiny_fit, "fits": {"a": tiny_fit, "b": "not a fit"}, "_private": tiny_fit}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(runner.COLLECT, namespace)
    line, package = out.getvalue().strip().splitlines()
    assert line.startswith(runner.MARK)
    assert package == runner.PACKAGE_MARK + bm.__file__  # where the kernel's package lives
    rows = json.loads(line[len(runner.MARK) :])
    assert [r["fit"] for r in rows] == ["fit"]  # the same fit in a dict is not repeated
    gates = {g.name: g.value for g in tiny_fit.convergence.gates}
    assert rows[0]["converged"] is tiny_fit.converged
    assert rows[0]["r_hat"] == pytest.approx(gates["r_hat"])
    assert rows[0]["ess_bulk"] == pytest.approx(gates["ess_bulk"])


def test_summary_table_has_a_row_per_fit_and_the_coverage_lines():
    results = [
        {
            "name": "01_x",
            "fits": [
                {"fit": "fit", "converged": True, "r_hat": 1.004, "ess_bulk": 812.0,
                 "divergences": 0.0},
                {"fit": "fits['pooled']", "converged": False, "r_hat": 1.02, "ess_bulk": 95.0,
                 "divergences": 3.0},
            ],
            "coverage": ["Coverage: 18/20 true values inside the 90% interval"],
            "warnings": [],
            "error": None,
            "wall_s": 321.4,
        },
        {"name": "05_y", "fits": [], "coverage": [], "warnings": ["UserWarning: x"],
         "error": "CellExecutionError: boom", "wall_s": 3.0},
    ]  # fmt: skip
    text = runner.summary(results, ci=False)
    assert "| 01_x | fit | yes | 1.004 | 812 | 0 | 321 |" in text
    assert "|  | fits['pooled'] | **NO** | 1.020 | 95 | 3 |  |" in text
    assert "- Coverage: 18/20 true values inside the 90% interval" in text
    assert "- warning: UserWarning: x" in text and "**failed**: CellExecutionError: boom" in text


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_plain_check_accepts_only_a_stop_in_the_first_cell_with_the_one_line_hint(tmp_path):
    """``--plain``: the first code cell raises MissingExtra with the one-line hint and no
    later cell runs; any other first cell, or a notebook that runs on, is reported."""
    hint = "The notebooks need nbclient, not installed: pip install 'bayes_mmm[notebooks]'"
    raise_it = f"from bayes_mmm.extras import MissingExtra\nraise MissingExtra({hint!r})"
    cases = {
        "good": (raise_it, "print('later')"),
        "other error": ("raise ImportError('No module named sklearn')", "print('later')"),
        "two lines": (raise_it.replace("not installed:", "not installed:\\n"),),
        "runs on": ("x = 1", "print(x)"),
        "stops later": ("x = 1", raise_it),
    }
    found = {
        name: runner.stops(_notebook(tmp_path / f"{i}.ipynb", *cells), tmp_path, 60, "python3")
        for i, (name, cells) in enumerate(cases.items())
    }
    assert found["good"] is None
    assert "raised ImportError" in found["other error"]
    assert "not the one-line hint" in found["two lines"]
    assert "every cell ran" in found["runs on"]
    assert "first code cell did not stop it" in found["stops later"]
