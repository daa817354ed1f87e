"""Every notebook in ``notebooks/`` runs top to bottom (nbclient) with small draw counts.

The notebooks read ``BAYES_MMM_DRAWS``/``TUNE``/``CHAINS`` (``BAYES_MMM_GEOS``/``WEEKS`` to
subset a panel, ``BAYES_MMM_QUICK=1`` to skip refits a person wants but CI does not) from
the environment; the kernel gets small values so the CI run is fast.
Its results are not converged and the notebooks say so; these tests check that every cell
executes, that the kernel is this interpreter (the project's virtualenv), that each
notebook prints its convergence verdict, its coverage of the truth and the answers it
promises, and that nothing reaches stderr (no warnings the user did not cause).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SMALL = {
    "BAYES_MMM_DRAWS": "100",
    "BAYES_MMM_TUNE": "100",
    "BAYES_MMM_CHAINS": "2",
    "BAYES_MMM_GEOS": "4",
    "BAYES_MMM_WEEKS": "104",
    "BAYES_MMM_QUICK": "1",
    "MPLBACKEND": "Agg",
}
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
# Text each executed notebook must print: its verdict and its headline answers.
# CI fits are not converged, so every comparison's note opens with NOT CONVERGED.
COVERED = "true values inside the 90% interval"
EXPECTED = {
    "01_geo_impressions.ipynb": [
        "Convergence:", "P(best)", "beta_sigma", "NOT CONVERGED:", "elpd_loo", COVERED,
    ],
    "02_national_drivers.ipynb": ["Convergence:", COVERED],
    "03_budget.ipynb": [
        "Convergence:",
        COVERED,
        "budget over the next 13 weeks",
        "P(plan beats",
        "ROI interval spanning 1",
        "of the attainable uplift (target: at least 95%)",
    ],
    "04_compare_and_report.ipynb": ["Convergence:", "NOT CONVERGED:", "elpd_loo", COVERED,
                                    "report.html"],
    "06_forecast_and_refresh.ipynb": [
        "Convergence:", COVERED, "held-out observations inside the 90% predictive interval",
        "crps_rel", "Tuning steps: warm refresh", "(true change: search)",
        "P(plan B beats plan A)",
    ],
}  # fmt: skip


def _text(nb) -> str:
    """All stdout and text/plain outputs of an executed notebook."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def _stderr(nb) -> str:
    """What the cells wrote to stderr, where warnings go."""
    return "".join(
        out["text"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    )


def _run(path: Path, tmp_path: Path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    env = {**os.environ, **SMALL, "BAYES_MMM_OUT": str(tmp_path)}
    client = nbclient.NotebookClient(
        nb,
        timeout=240,
        kernel_name="python3",  # jupyter_client runs "python" kernels with sys.executable
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)
    return nb


def test_notebooks_are_stripped_and_configurable():
    """Notebooks are committed without outputs and read their draw counts from the
    environment (so CI can run them small); this module's notebooks are all there."""
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert set(EXPECTED) <= {p.name for p in paths}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        source = "\n".join(c.source for c in nb.cells)
        for var in ("BAYES_MMM_DRAWS", "BAYES_MMM_TUNE", "BAYES_MMM_CHAINS"):
            assert var in source, f"{path.name} does not read {var}"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert 'require("notebooks")' in first.source, f"{path.name} does not check its extra"


def _imported_modules(source: str) -> set[str]:
    """Top-level names of the absolute imports in a cell's code."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def _installed_by(extra: str) -> set[str]:
    """Distribution names that ``pip install 'bayes_mmm[extra]'`` brings directly: the core
    dependencies and those of ``extra``, from the installed package's metadata."""
    dists = set()
    for req in metadata.requires("bayes_mmm") or []:
        name, _, marker = req.partition(";")
        if not marker or f'extra == "{extra}"' in marker.replace("'", '"'):
            dists.add(re.split(r"[\s<>=!~\[(]", name.strip(), maxsplit=1)[0].lower())
    return {d.replace("_", "-") for d in dists}


def test_notebooks_need_only_the_installed_package_and_the_notebooks_extra():
    """A notebook run against an installed wheel, from a copy of notebooks/ anywhere, has
    the package (its shipped datasets), the notebooks extra and nothing of the repository:
    no code reaches outside its folder, and every module it imports comes from the standard
    library, bayes_mmm, a core dependency or the extra."""
    wheel_has = _installed_by("notebooks")
    dists_of = metadata.packages_distributions()
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        for cell in (c for c in nb.cells if c.cell_type == "code"):
            for needle in ("../", "sys.path", "Path.cwd", "__file__"):
                assert needle not in cell.source, f"{name} reaches outside notebooks/: {needle}"
            for module in _imported_modules(cell.source) - set(sys.stdlib_module_names):
                dists = {d.lower().replace("_", "-") for d in dists_of.get(module, [])}
                assert module == "bayes_mmm" or dists & wheel_has, (
                    f"{name} imports {module} ({sorted(dists)}), which neither the package "
                    "nor its notebooks extra installs"
                )


@pytest.mark.sampling
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path):
    """Every cell executes with small draws, in the venv's interpreter, from notebooks/."""
    nb = _run(NOTEBOOKS / name, tmp_path)
    text = _text(nb)
    assert f"KERNEL {sys.executable}" in text, "the kernel is not this interpreter"
    for needle in EXPECTED.get(name, ()):
        assert needle in text, f"{name} did not print {needle!r}"
    assert not _stderr(nb), f"{name} wrote to stderr (a warning?):\n{_stderr(nb)[:2000]}"
    if name == "04_compare_and_report.ipynb":  # the report is written where it was sent
        html = (tmp_path / "report.html").read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html") and "<img" in html
