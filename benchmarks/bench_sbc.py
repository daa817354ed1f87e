"""Simulation-based calibration of the default spec (``bm.sbc``) on a national and a 5-geo
template, with rank histograms and the gate-pass rate of the default fit.

Templates (media, controls and calendar from ``bm.simulate``; the target is replaced by
prior-predictive draws):

- ``national``: 104 weeks × 3 channels, one implicit geo;
- ``geo5``: 5 geos × 104 weeks × 3 channels.

Written to ``--out``: ``<template>_ranks.csv`` (dataset × quantity),
``<template>_converged.csv`` (whether each fit passed every gate), ``<template>_tests.csv``
(chi-square p-values, Bonferroni-adjusted, per quantity), ``<template>_ranks.png`` (a rank
histogram per quantity with the 99% band of a uniform bin count), ``<template>_ecdf.png``
(rank ECDF minus uniform with a simultaneous 99% band), and ``summary.json``
(datasets, quantities failing uniformity, gate-pass rate, wall time per template).

Usage (the acceptance run; hours on 2 cores, use a machine with many):
    nice -n 10 .venv/bin/python benchmarks/bench_sbc.py --datasets 200 --template national \\
        --workers 16 --out runs/bench_sbc
    nice -n 10 .venv/bin/python benchmarks/bench_sbc.py --datasets 100 --template geo5 \\
        --workers 16 --out runs/bench_sbc

A smoke run (proves the pipeline, not calibration):
    .venv/bin/python benchmarks/bench_sbc.py --datasets 4 --chains 2 --draws 200 --tune 200
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd

import bayes_mmm as bm
from bayes_mmm.sbc import N_RANK_DRAWS

TEMPLATES = {"national": 1, "geo5": 5}


def template(name: str, seed: int = 0) -> bm.MMMData:
    """The panel shape of ``name`` (see the module docstring)."""
    n_geos = TEMPLATES[name]
    frame, truth = bm.simulate(n_geos=n_geos, n_weeks=104, n_channels=3, seed=seed)
    media = [str(c) for c in truth.contributions["channel"].values]
    geo = "geo" if n_geos > 1 else None
    if geo is None:
        frame = frame.drop(columns="geo")
    return bm.MMMData.from_frame(
        frame, date="date", target="revenue", media=media, geo=geo, controls=["control_1"]
    )


def save_plots(result: bm.SBCResult, out: Path, name: str) -> None:
    """``<name>_ranks.png`` (rank histograms) and ``<name>_ecdf.png`` (ECDF − uniform)."""
    for kind, draw in (("ranks", bm.plot.sbc_ranks), ("ecdf", bm.plot.sbc_ecdf)):
        draw(result).savefig(out / f"{name}_{kind}.png", dpi=110)


def saved_result(out: Path, name: str) -> bm.SBCResult:
    """The ranks, tests and per-fit convergence a run saved."""
    ranks = pd.read_csv(out / f"{name}_ranks.csv", index_col=0)
    tests = pd.read_csv(out / f"{name}_tests.csv", index_col=0)
    path = out / f"{name}_converged.csv"
    converged = (
        pd.read_csv(path, index_col=0)["converged"]
        if path.exists()
        else pd.Series(np.nan, index=ranks.index, name="converged")
    )
    return bm.SBCResult(ranks, N_RANK_DRAWS, tests, converged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--template", choices=[*TEMPLATES, "both"], default="both")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--workers", type=int, default=0, help="Dask workers (0: in process)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_sbc"))
    parser.add_argument(
        "--replot", action="store_true", help="redraw the plots from saved ranks; no fits"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = list(TEMPLATES) if args.template == "both" else [args.template]
    if args.replot:
        for name in names:
            save_plots(saved_result(args.out, name), args.out, name)
        return
    client = cluster = None
    if args.workers:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    summary_path = args.out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    try:
        for name in names:
            t0 = time.perf_counter()
            result = bm.sbc(
                template(name),
                n=args.datasets,
                client=client,
                random_seed=args.seed,
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                cores=1 if client is not None else None,
            )
            wall = time.perf_counter() - t0
            result.ranks.to_csv(args.out / f"{name}_ranks.csv")
            result.tests.to_csv(args.out / f"{name}_tests.csv")
            result.converged.to_csv(args.out / f"{name}_converged.csv")
            save_plots(result, args.out, name)
            summary[name] = {
                "datasets": args.datasets,
                "settings": f"{args.chains} x {args.draws} (tune {args.tune})",
                "quantities": len(result.tests),
                "failing_uniformity": list(result.tests.index[~result.tests["uniform"]]),
                "min_p_adjusted": float(result.tests["p_adjusted"].min()),
                "gate_pass_rate": result.gate_pass_rate,
                "wall_s": round(wall, 1),
            }
            print(result.summary(), f"({wall:.0f} s)")
    finally:
        if client is not None:
            client.close()
            cluster.close()
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
