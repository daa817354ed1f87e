"""The package's layers stay one way: the import-linter contract in ``pyproject.toml`` holds,
no module imports another that imports it back (deferred imports included), and the
contract fails on a back-edge."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())",
]


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [*LINT, "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_contract_holds():
    out = _lint(ROOT, ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 kept, 0 broken" in out.stdout


def test_no_import_cycles_among_modules():
    graph = grimp.build_graph("bayes_mmm", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == module or module.startswith(imported + "."):
                continue  # a sub-module importing its own package's __init__
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None and not imported.startswith(module + "."):
                cycles.append((module, *back))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_a_back_edge_breaks_the_contract(tmp_path):
    """A deferred import of the facade inside an analysis module is reported by name."""
    shutil.copytree(ROOT / "bayes_mmm", tmp_path / "bayes_mmm")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    analysis = tmp_path / "bayes_mmm" / "analysis.py"
    analysis.write_text(
        analysis.read_text() + "\n\ndef _back_edge():\n    from bayes_mmm.fit import Fit\n"
    )
    out = _lint(tmp_path, tmp_path)
    assert out.returncode != 0
    assert "1 kept, 1 broken" in out.stdout
    assert "bayes_mmm.analysis -> bayes_mmm.fit" in out.stdout


def test_functions_and_modules_stay_short():
    max_function, max_module = 80, 600
    long = []
    for path in sorted((ROOT / "bayes_mmm").rglob("*.py")):
        text = path.read_text()
        n_lines = len(text.splitlines())
        if n_lines > max_module:
            long.append(f"{path.relative_to(ROOT)}: module of {n_lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > max_function:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {size}")
    assert not long, "\n".join(long)
