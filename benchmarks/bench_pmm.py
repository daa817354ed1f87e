"""Speed benchmark: bayes_mmm against PyMC-Marketing on the same panel, in one run.

Each library is fitted in its own interpreter (a subprocess), so PyMC-Marketing lives in
a separate virtualenv (``.venv-bench``) and cannot disturb ours, and each side's peak
memory is its own. The two sides run one after the other, never at the same time, on
the same CSV panel with the same chains, tune, draws, seed and ``target_accept``; both
sample with nutpie. Each child writes one JSON record; the parent prints a markdown
table with the ratios bayes_mmm / PyMC-Marketing and writes all records to ``--out``.

Modes
-----
default
    The demo geo panel (``bayes_mmm/datasets/demo_geo_panel.csv``, 10 geos) and each
    library's static geo model: bayes_mmm's default ``ModelSpec`` against PyMC-Marketing's
    ``MMM(dims=("geo",))``.
``--time-varying``
    Both libraries' time-varying (HSGP) models on one national panel with a drifting
    baseline and a seasonal media multiplier, ``bm.simulate(n_geos=1, n_weeks=156,
    n_channels=5, seed=--panel-seed, baseline_drift=0.08, media_seasonality=0.35)`` (the
    drift panels of ``bench_time_varying.py``). The parent simulates it and writes it to
    ``--out`` as a long CSV (date, target, channels, controls; no geo column) with a JSON
    sidecar (the ``simulate`` call, the column names, the true ROI) before the children
    run; the children get the column names from the parent on their command line.
    bayes_mmm fits ``ModelSpec(time_varying_intercept=True, time_varying_media=True)``
    (an HSGP baseline drift and one HSGP media multiplier shared by all channels),
    PyMC-Marketing fits ``MMM(time_varying_intercept=True, time_varying_media=True)``
    with no ``dims`` and its default HSGP priors (one ``SoftPlusHSGP`` each, over date
    only, so also one media multiplier shared by all channels). Records go to
    ``runs/bench_pmm_tv`` unless ``--out`` says otherwise.

Measured per side
-----------------
wall_s
    Model build + compile + sampling (everything after the CSV is read).
min_ess_bulk
    Smallest bulk ESS (``arviz.ess(..., method="bulk")``) over every element of every
    free parameter of the PyMC model (``model.free_RVs``), in its constrained space.
min_ess_per_s
    ``min_ess_bulk / wall_s``: the cost of one effective draw of the slowest parameter.
divergences, max_r_hat
    Post-warm-up divergent transitions; largest rank-normalised split R-hat over the
    same free parameters.
peak_rss_mib
    ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the child process.

This file only uses the standard library at import time: the child imports its own
library (``bayes_mmm`` or ``pymc_marketing``) inside the function that fits it.

Usage
-----
    .venv/bin/python benchmarks/bench_pmm.py                       # both, 2 x 500 + 500
    .venv/bin/python benchmarks/bench_pmm.py --only bayes_mmm --chains 4 --draws 1000 \\
        --tune 1000                                                # ours alone
    .venv/bin/python benchmarks/bench_pmm.py --time-varying --chains 4 --draws 1000 \\
        --tune 1000                                                # HSGP models, national
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "bayes_mmm" / "datasets" / "demo_geo_panel.csv"
CHANNELS = ["tv", "search", "social", "display", "radio"]
CONTROLS = ["price_index"]
PYTHONS = {
    "bayes_mmm": ROOT / ".venv" / "bin" / "python",
    "pmm": ROOT / ".venv-bench" / "bin" / "python",
}
LABELS = {"bayes_mmm": "bayes_mmm", "pmm": "PyMC-Marketing"}
# --time-varying: the drift panels of bench_time_varying.py, national.
TV_SIMULATE = dict(n_geos=1, n_weeks=156, n_channels=5, baseline_drift=0.08, media_seasonality=0.35)


# ---------------------------------------------------------------------- child side
def _free_rv_stats(posterior, names: list[str]) -> dict:
    """Min bulk ESS and max R-hat over every element of the named posterior variables.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with dims (chain, draw, ...).
    names : list of str
        The model's free random variables.
    """
    import arviz as az
    import numpy as np

    present = [n for n in names if n in posterior]
    ds = posterior[present]
    ess = az.ess(ds, method="bulk")
    rhat = az.rhat(ds)
    ess_min = min(float(np.nanmin(np.asarray(ess[n]))) for n in present)
    rhat_max = max(float(np.nanmax(np.asarray(rhat[n]))) for n in present)
    n_scalars = int(
        sum(
            np.prod([s for d, s in ds[n].sizes.items() if d not in ("chain", "draw")])
            for n in present
        )
    )
    return {
        "min_ess_bulk": ess_min,
        "max_r_hat": rhat_max,
        "free_parameters": present,
        "free_parameters_missing": [n for n in names if n not in posterior],
        "n_free_scalars": n_scalars,
    }


def _posterior_and_stats(idata):
    """(posterior Dataset, sample_stats Dataset) from an ArviZ DataTree."""
    return idata["posterior"].to_dataset(), idata["sample_stats"].to_dataset()


def _fit_bayes_mmm(args: argparse.Namespace) -> dict:
    """Fit bayes_mmm's default ModelSpec on the panel (nutpie)."""
    import pandas as pd

    import bayes_mmm as bm
    from bayes_mmm.model import build_model

    df = pd.read_csv(args.panel)
    t0 = time.perf_counter()
    if args.time_varying:
        data = bm.MMMData.from_frame(
            df, date="date", target=args.target, media=args.channels, controls=args.controls
        )
        spec = bm.ModelSpec(
            time_varying_intercept=True, time_varying_media=True, float32=args.float32
        )
        model = (
            "bm.ModelSpec(time_varying_intercept=True, time_varying_media=True, "
            f"float32={args.float32}), otherwise defaults: national (no geo), geometric "
            "adstock l_max=8, Hill saturation, HSGP baseline drift (tv_intercept; trend "
            "off), one HSGP media multiplier shared by all channels (media_multiplier), "
            f"2 Fourier modes, controls={args.controls}"
        )
    else:
        data = bm.MMMData.from_frame(
            df, date="date", target="revenue", media=CHANNELS, geo="geo", controls=CONTROLS
        )
        spec = bm.ModelSpec(float32=args.float32)
        model = (
            f"bm.ModelSpec(float32={args.float32}), otherwise defaults: geometric adstock "
            "l_max=8, Hill saturation, "
            "hierarchical geo betas, geo trend, 2 Fourier modes, controls"
        )
    fit = bm.fit(
        data,
        spec,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        target_accept=args.target_accept,
        progress=False,
    )
    wall = time.perf_counter() - t0
    names = [rv.name for rv in build_model(data, spec).free_RVs]
    post, stats = _posterior_and_stats(fit.idata)
    return {
        "wall_s": wall,
        "compile_s": fit.meta["compile_s"],
        "sample_s": fit.meta["sample_s"],
        "divergences": int(stats["diverging"].sum()),
        "model": model,
        "converged_gates": fit.converged,
        "verdict": fit.convergence.message(),
        **_free_rv_stats(post, names),
    }


def pmm_model():
    """PyMC-Marketing's default geo MMM for the panel (``dims=("geo",)``), unfitted."""
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    return MMM(
        date_column="date",
        target_column="revenue",
        channel_columns=CHANNELS,
        control_columns=CONTROLS,
        dims=("geo",),
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )


def pmm_tv_model(target: str, channels: list[str], controls: list[str]):
    """PyMC-Marketing's national time-varying MMM, unfitted: ``MMM`` without ``dims``, an
    HSGP intercept and an HSGP media multiplier (``SoftPlusHSGP`` over date, shared by all
    channels) with the default priors of ``MMM.default_model_config``
    (``intercept_tvp_config`` / ``media_tvp_config``: m=200, Matern 5/2, ``ls`` InverseGamma
    mu=5 sigma=10, ``eta`` Exponential(1), L = 2 x the mid time index)."""
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    return MMM(
        date_column="date",
        target_column=target,
        channel_columns=list(channels),
        control_columns=list(controls) or None,  # 1.3.0 refuses an empty list
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
        time_varying_intercept=True,
        time_varying_media=True,
    )


def _fit_pmm(args: argparse.Namespace) -> dict:
    """Fit PyMC-Marketing's (multidimensional) MMM with ``dims=("geo",)``, or with
    ``--time-varying`` its national HSGP model (nutpie)."""
    import pandas as pd

    df = pd.read_csv(args.panel, parse_dates=["date"])
    target = args.target if args.time_varying else "revenue"
    t0 = time.perf_counter()
    if args.time_varying:
        mmm = pmm_tv_model(target, args.channels, args.controls)
        model = (
            f"pymc_marketing.mmm.MMM(national, no dims; target_column={target!r}, "
            f"channel_columns={args.channels}, control_columns={args.controls}, "
            "GeometricAdstock(l_max=8), LogisticSaturation(), yearly_seasonality=2, "
            "time_varying_intercept=True, time_varying_media=True), default priors "
            "(HSGP: m=200, Matern52, ls InverseGamma(mu=5, sigma=10), eta Exponential(1); "
            "one media multiplier over date shared by all channels) and scaling"
        )
    else:
        mmm = pmm_model()
        model = (
            "pymc_marketing.mmm.MMM(dims=('geo',), GeometricAdstock(l_max=8), "
            "LogisticSaturation(), yearly_seasonality=2, control_columns=['price_index']), "
            "default priors and scaling"
        )
    X = df.drop(columns=[target])
    idata = mmm.fit(
        X,
        df[target],
        chains=args.chains,
        draws=args.draws,
        tune=args.tune,
        random_seed=args.seed,
        target_accept=args.target_accept,
        nuts_sampler="nutpie",
        progressbar=False,
    )
    wall = time.perf_counter() - t0
    names = [rv.name for rv in mmm.model.free_RVs]
    post, stats = _posterior_and_stats(idata)
    return {
        "wall_s": wall,
        "divergences": int(stats["diverging"].sum()),
        "model": model,
        **_free_rv_stats(post, names),
    }


def _versions(side: str) -> dict:
    from importlib.metadata import version

    pkgs = ["pymc", "pytensor", "nutpie", "arviz", "numba", "numpy"]
    pkgs += ["bayes_mmm"] if side == "bayes_mmm" else ["pymc-marketing"]
    out = {}
    for p in pkgs:
        try:
            out[p] = version(p)
        except Exception:  # a missing package is recorded, not fatal
            out[p] = None
    return out


def run_child(args: argparse.Namespace) -> None:
    """Fit one side in this interpreter and write its JSON record to ``args.json``."""
    import warnings

    warnings.simplefilter("ignore")
    record = {"side": args.child, "python": sys.executable, "versions": _versions(args.child)}
    fitter = _fit_bayes_mmm if args.child == "bayes_mmm" else _fit_pmm
    record.update(fitter(args))
    record["min_ess_per_s"] = record["min_ess_bulk"] / record["wall_s"]
    record["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.json).write_text(json.dumps(record, indent=2))


# ---------------------------------------------------------------------- parent side
def _machine() -> dict:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "lscpu_head": sh("lscpu | head -n 15"),
        "loadavg_start": os.getloadavg(),
    }


def write_tv_panel(seed: int, out_dir: Path) -> dict:
    """Simulate ``--time-varying``'s national drift panel and write it to ``out_dir``.

    Imports ``bayes_mmm`` (the parent then has to run in ``.venv``). Writes
    ``tv_panel_seed<seed>.csv`` (columns date, target, channels, controls; no geo column)
    and ``tv_panel_seed<seed>.json`` (the returned description plus the true ROI).

    Returns
    -------
    dict
        ``panel`` (CSV path), ``target``, ``channels``, ``controls`` and ``simulate`` (the
        keyword arguments of ``bm.simulate``).
    """
    import bayes_mmm as bm

    kwargs = {**TV_SIMULATE, "seed": seed}
    frame, truth = bm.simulate(**kwargs)
    channels = [str(c) for c in truth.contributions.channel.values]
    controls = [c for c in frame.columns if str(c).startswith("control_")]
    target = "revenue"
    panel = out_dir / f"tv_panel_seed{seed}.csv"
    frame[["date", target, *channels, *controls]].to_csv(panel, index=False)
    info = {
        "panel": str(panel),
        "target": target,
        "channels": channels,
        "controls": controls,
        "simulate": kwargs,
    }
    sidecar = {**info, "truth_roi": {str(k): float(v) for k, v in truth.roi.items()}}
    panel.with_suffix(".json").write_text(json.dumps(sidecar, indent=2))
    print(f"[bench] national drift panel: {panel} (bm.simulate(**{kwargs}))", flush=True)
    return info


def _run_side(side: str, args: argparse.Namespace, out_dir: Path) -> dict:
    python = Path(args.pmm_python if side == "pmm" else args.python)
    json_path = out_dir / f"{side}.json"
    cmd = [
        str(python), str(Path(__file__).resolve()), "--child", side, "--json", str(json_path),
        "--panel", str(args.panel), "--chains", str(args.chains), "--draws", str(args.draws),
        "--tune", str(args.tune), "--seed", str(args.seed),
        "--target-accept", str(args.target_accept),
        *(["--float32"] if args.float32 else []),
    ]  # fmt: skip
    if args.time_varying:
        cmd += ["--time-varying", "--target", args.target, "--channels", *args.channels]
        cmd += ["--controls", *args.controls]
    print(f"[bench] {LABELS[side]}: {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    outer = time.perf_counter() - t0
    if proc.returncode != 0 or not json_path.exists():
        tail = (proc.stdout + proc.stderr)[-4000:]
        print(f"[bench] {LABELS[side]} FAILED (rc={proc.returncode}):\n{tail}", flush=True)
        return {"side": side, "failed": True, "returncode": proc.returncode, "error_tail": tail}
    record = json.loads(json_path.read_text())
    record["process_wall_s"] = outer  # interpreter start + imports + fit + diagnostics
    print(f"[bench] {LABELS[side]} done: wall {record['wall_s']:.1f}s", flush=True)
    return record


def table(records: list[dict]) -> str:
    """Markdown table of the records, with bayes_mmm / PyMC-Marketing ratios."""
    rows = [
        ("wall time (s)", "wall_s", "{:.1f}"),
        ("min ESS_bulk (free params)", "min_ess_bulk", "{:.0f}"),
        ("min ESS_bulk / s", "min_ess_per_s", "{:.2f}"),
        ("divergences", "divergences", "{:d}"),
        ("max R-hat", "max_r_hat", "{:.3f}"),
        ("peak RSS (MiB)", "peak_rss_mib", "{:.0f}"),
        ("free scalar parameters", "n_free_scalars", "{:d}"),
    ]
    ok = [r for r in records if not r.get("failed")]
    head = "| metric | " + " | ".join(LABELS[r["side"]] for r in ok)
    by = {r["side"]: r for r in ok}
    both = "bayes_mmm" in by and "pmm" in by
    lines = [head + (" | ratio bayes_mmm / PMM |" if both else " |")]
    lines.append("|---" * (len(ok) + 1 + both) + "|")
    for label, key, fmt in rows:
        cells = [fmt.format(r[key]) for r in ok]
        if both:
            a, b = by["bayes_mmm"][key], by["pmm"][key]
            cells.append(f"{a / b:.2f}×" if key in ("wall_s", "min_ess_per_s") and b else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for r in records:
        if r.get("failed"):
            lines.append(f"\n{LABELS[r['side']]} FAILED (rc={r['returncode']}), see the JSON.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument(
        "--panel",
        help="long CSV both sides read (default: the demo geo panel; with --time-varying "
        "the parent simulates the panel and this option is refused)",
    )
    parser.add_argument(
        "--time-varying",
        action="store_true",
        help="both libraries' time-varying (HSGP) models on a simulated national panel "
        "with a drifting baseline and a seasonal media multiplier",
    )
    parser.add_argument(
        "--panel-seed", type=int, default=1, help="--time-varying: bm.simulate's seed"
    )
    parser.add_argument(
        "--float32", action="store_true", help="bayes_mmm side: ModelSpec(float32=True)"
    )
    parser.add_argument("--only", choices=["bayes_mmm", "pmm"], help="run one side only")
    parser.add_argument("--python", default=str(PYTHONS["bayes_mmm"]))
    parser.add_argument("--pmm-python", default=str(PYTHONS["pmm"]))
    parser.add_argument(
        "--out",
        help="directory for the JSON (default runs/bench_pmm; --time-varying: "
        "runs/bench_pmm_tv, with the panel)",
    )
    parser.add_argument("--child", choices=["bayes_mmm", "pmm"], help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    # --time-varying children: the panel's column names, from the parent
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--channels", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--controls", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    if args.time_varying and args.panel is not None:
        parser.error("--panel: --time-varying simulates its own panel (see --panel-seed)")

    if args.out is None:
        args.out = "runs/bench_pmm_tv" if args.time_varying else "runs/bench_pmm"
    out_dir = (ROOT / args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    panel_info = None
    if args.time_varying:
        panel_info = write_tv_panel(args.panel_seed, out_dir)
        args.panel = panel_info["panel"]
        args.target = panel_info["target"]
        args.channels = panel_info["channels"]
        args.controls = panel_info["controls"]
    elif args.panel is None:
        args.panel = str(PANEL)
    sides = [args.only] if args.only else ["bayes_mmm", "pmm"]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = _machine()
    records = [_run_side(side, args, out_dir) for side in sides]
    machine["loadavg_end"] = os.getloadavg()
    settings = {
        k: getattr(args, k)
        for k in ("chains", "draws", "tune", "seed", "target_accept", "panel", "float32")
    }
    if panel_info is not None:
        settings["time_varying"] = True
        settings["panel_seed"] = args.panel_seed
        settings["panel_columns"] = {k: panel_info[k] for k in ("target", "channels", "controls")}
        settings["panel_simulate"] = panel_info["simulate"]
    summary = {
        "started_utc": started,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": settings,
        "machine": machine,
        "results": records,
        "table": table(records),
    }
    (out_dir / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"\n{settings}\n\n{summary['table']}\n\nwritten: {out_dir / 'results.json'}")
    return 0 if not any(r.get("failed") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
