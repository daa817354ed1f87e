"""Run every notebook top to bottom at its own defaults and write their verdicts to one table.

The release check of the notebooks (``make notebooks-full``): each notebook in
``notebooks/`` executes with nbclient in this interpreter's kernel, from ``notebooks/``,
with none of the CI size variables set (``BAYES_MMM_DRAWS`` … are removed from the
environment), so every fit runs at the draws a user gets. A last cell collects every fit
the notebook left in its namespace (``bm.Fit`` values, in dicts too, and holdout training
fits) and reports its convergence gates. ``notebooks/SUMMARY.md`` then holds, per notebook
and per fit: converged, the largest R-hat, the smallest bulk ESS, divergences; per
notebook: the ``Coverage`` lines it printed, any warning text in its outputs, and its wall
time. The executed notebooks are written next to the summary (``<out>/executed/``).

Usage::

    .venv/bin/python scripts/run_notebooks_full.py                 # all, full size
    .venv/bin/python scripts/run_notebooks_full.py 01 03           # names starting so
    .venv/bin/python scripts/run_notebooks_full.py --ci --out /tmp/nb  # CI size, elsewhere

The exit status is 1 when a notebook fails, a fit fails a gate, or anything reaches an
output's stderr, where warnings go (``--ci`` runs are not converged by design, so there
only failures and stderr count).

``scripts/check_wheel.sh --notebooks`` (``make notebooks-wheel``) drives the same runs
against an installed wheel: ``--notebooks`` a copy of the folder outside the clone,
``--kernel`` a kernelspec of the wheel's virtualenv, ``--installed-in`` the prefix the
kernel must import ``bayes_mmm`` from; ``--plain`` instead checks that on an install
without the notebooks extra every notebook stops in its first code cell with the one-line
install hint (``bayes_mmm.extras.MissingExtra``) and runs no later cell.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SIZE_VARS = ("DRAWS", "TUNE", "CHAINS", "GEOS", "WEEKS", "QUICK")
CI = {"DRAWS": "100", "TUNE": "100", "CHAINS": "2", "GEOS": "4", "WEEKS": "104", "QUICK": "1"}
MARK = "BAYES_MMM_VERDICTS "
PACKAGE_MARK = "BAYES_MMM_PACKAGE "
HINT = "pip install 'bayes_mmm[notebooks]'"
# Appended to each notebook: every fit in the namespace and its gates, as one JSON line.
COLLECT = f"""
import json as _json
import bayes_mmm as _bm

def _fits(name, obj):
    if isinstance(obj, _bm.Fit):
        yield name, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _fits(f"{{name}}[{{key!r}}]", value)
    elif isinstance(getattr(obj, "train_fit", None), _bm.Fit):
        yield f"{{name}}.train_fit", obj.train_fit

_seen, _rows = set(), []
for _name, _obj in list(globals().items()):
    if _name.startswith("_"):
        continue
    for _label, _fit in _fits(_name, _obj):
        if id(_fit) in _seen:
            continue
        _seen.add(id(_fit))
        _gates = {{g.name: float(g.value) for g in _fit.convergence.gates}}
        _rows.append({{"fit": _label, "converged": bool(_fit.converged), **_gates}})
print({MARK!r} + _json.dumps(_rows))
print({PACKAGE_MARK!r} + _bm.__file__)
"""


def _execute(nb, ci: bool, out: Path, timeout: int, kernel: str, cwd: Path):
    """Run ``nb`` in place in ``kernel`` from ``cwd``; the error that stopped it (None when
    every cell ran) and the wall time in seconds."""
    env = {k: v for k, v in os.environ.items() if k.removeprefix("BAYES_MMM_") not in SIZE_VARS}
    if ci:
        env.update({f"BAYES_MMM_{k}": v for k, v in CI.items()})
    env.update(MPLBACKEND="Agg", BAYES_MMM_OUT=str(out))
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(cwd)}}
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except Exception as exc:  # the caller records it; the remaining notebooks still run
        last = str(exc).strip().splitlines()[-1:] or [""]
        error = f"{type(exc).__name__}: {last[0]}"
    return error, time.perf_counter() - start


def run(
    path: Path, ci: bool, out: Path, timeout: int, kernel: str = "python3",
    installed_in: Path | None = None,
) -> dict:  # fmt: skip
    """Execute one notebook; its verdict rows, coverage lines, warnings and wall time.

    ``installed_in``: the notebook fails unless its kernel imports ``bayes_mmm`` from
    under this prefix (an installed wheel, not the source tree)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(COLLECT))
    error, wall = _execute(nb, ci, out, timeout, kernel, path.parent)
    (out / "executed").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "executed" / path.name)
    text = _text(nb)
    fits = []
    for line in text.splitlines():
        if line.startswith(MARK):
            fits = json.loads(line[len(MARK) :])
    package = next((ln[len(PACKAGE_MARK) :] for ln in text.splitlines()
                    if ln.startswith(PACKAGE_MARK)), None)  # fmt: skip
    if error is None and installed_in is not None:
        if package is None or not Path(package).resolve().is_relative_to(installed_in.resolve()):
            error = f"bayes_mmm imported from {package}, not from under {installed_in}"
    coverage = [ln.strip() for ln in text.splitlines() if "true values inside" in ln]
    warned = [ln.strip() for ln in _text(nb, streams=("stderr",)).splitlines() if ln.strip()]
    return {"name": path.stem, "fits": fits, "coverage": coverage, "warnings": warned,
            "error": error, "wall_s": wall, "package": package}  # fmt: skip


def stops(path: Path, out: Path, timeout: int, kernel: str) -> str | None:
    """Run one notebook on an install without the notebooks extra: None when it stops in
    its first code cell with :class:`~bayes_mmm.extras.MissingExtra`, whose message is one
    line ending in the install command, and no later cell ran; else what went wrong."""
    nb = nbformat.read(path, as_version=4)
    error, _ = _execute(nb, True, out, timeout, kernel, path.parent)
    code = [c for c in nb.cells if c.cell_type == "code"]
    first = [o for o in code[0].outputs if o.get("output_type") == "error"]
    ran_later = [i for i, c in enumerate(code[1:], 1) if c.execution_count or c.outputs]
    if error is None:
        return "every cell ran: the notebooks extra is installed in the kernel"
    if not first:
        return f"the first code cell did not stop it: {error}"
    ename, evalue = first[0]["ename"], first[0]["evalue"]
    if ename != "MissingExtra" or "\n" in evalue or not evalue.endswith(HINT):
        return f"the first code cell raised {ename}: {evalue!r}, not the one-line hint"
    if ran_later:
        return f"code cells {ran_later} ran after the first one stopped"
    return None


def _text(nb, streams=("stdout", "stderr")) -> str:
    """The stream outputs named in ``streams``, errors and text/plain outputs of an
    executed notebook (only the streams when ``streams`` leaves out stdout)."""
    parts = []
    everything = "stdout" in streams
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                if output.get("name") in streams:
                    parts.append(output["text"])
                continue
            if not everything:
                continue
            if output.get("output_type") == "error":
                parts.append(f"{output['ename']}: {output['evalue']}")
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def summary(results: list[dict], ci: bool) -> str:
    """The Markdown table of every notebook's verdicts."""
    size = "CI size (not converged by design)" if ci else "full size (each notebook's defaults)"
    lines = [
        "# Notebooks: verdicts of one run",
        "",
        f"Written by `scripts/run_notebooks_full.py` at {size}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| notebook | fit | converged | R-hat max | min ESS (bulk) | divergences | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows = r["fits"] or [{"fit": "—"}]
        for i, f in enumerate(rows):
            wall = f"{r['wall_s']:.0f}" if i == 0 else ""
            conv = {True: "yes", False: "**NO**"}.get(f.get("converged"), "—")
            lines.append(
                f"| {r['name'] if i == 0 else ''} | {f['fit']} | {conv} | "
                f"{_num(f.get('r_hat'), '.3f')} | {_num(f.get('ess_bulk'), '.0f')} | "
                f"{_num(f.get('divergences'), '.0f')} | {wall} |"
            )
    lines += ["", "## Coverage, warnings and errors", ""]
    for r in results:
        lines.append(f"**{r['name']}**")
        if r.get("package"):
            lines.append(f"- bayes_mmm imported from `{r['package']}`")
        lines += [f"- {c}" for c in r["coverage"]] or ["- coverage: no truth in this notebook"]
        lines += [f"- warning: {w}" for w in r["warnings"]]
        if r["error"]:
            lines.append(f"- **failed**: {r['error']}")
        lines.append("")
    return "\n".join(lines)


def _num(value, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only notebooks whose name starts so")
    parser.add_argument("--ci", action="store_true", help="CI size instead of full size")
    parser.add_argument("--out", type=Path, default=NOTEBOOKS, help="where SUMMARY.md goes")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="the folder to run")
    parser.add_argument("--kernel", default="python3", help="kernelspec name to run them in")
    parser.add_argument("--installed-in", type=Path, help="bayes_mmm must import from here")
    parser.add_argument("--plain", action="store_true", help="expect the extra's hint")
    args = parser.parse_args(argv)
    paths = sorted(args.notebooks.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in args.names)]
    args.out.mkdir(parents=True, exist_ok=True)
    if args.plain:
        return _plain(paths, args)
    results = []
    for path in paths:
        print(f"running {path.name} …", flush=True)
        results.append(run(path, args.ci, args.out, args.timeout, args.kernel, args.installed_in))
        r = results[-1]
        verdicts = ", ".join(f"{f['fit']} converged={f['converged']}" for f in r["fits"])
        status = r["error"] or verdicts
        print(f"  {r['wall_s']:.0f} s: {status}", flush=True)
        (args.out / "SUMMARY.md").write_text(summary(results, args.ci), encoding="utf-8")
    print(f"wrote {args.out / 'SUMMARY.md'}")
    bad = any(r["error"] or r["warnings"] for r in results)
    if not args.ci:
        bad = bad or any(not f["converged"] for r in results for f in r["fits"])
    return int(bad)


def _plain(paths: list[Path], args) -> int:
    """``--plain``: every notebook stops in its first cell with the install hint."""
    from jupyter_client.kernelspec import get_kernel_spec

    print(f"kernel {args.kernel}: {get_kernel_spec(args.kernel).argv[0]}", flush=True)
    bad = 0
    for path in paths:
        problem = stops(path, args.out, args.timeout, args.kernel)
        bad += problem is not None
        print(f"  {path.name}: {problem or 'stops in its first code cell with the hint'}")
    print(f"{len(paths) - bad} of {len(paths)} notebooks stop in their first cell with {HINT!r}")
    return int(bad > 0 or not paths)


if __name__ == "__main__":
    sys.exit(main())
