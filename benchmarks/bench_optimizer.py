"""Budget optimizer benchmark: bayes_mmm against PyMC-Marketing on the same allocation.

The problem: the demo panel (``bayes_mmm/datasets/demo_geo_panel.csv`` = ``bm.simulate(10, 156, 5,
seed=1)``, 10 geos × 5 channels, spend is the media), a 13-week window right after the
data, and a budget equal to the last 13 weeks' total spend, allocated per geo × channel.

Each library fits its own model (same chains, draws, tune, seed, nutpie) and allocates
with its own optimizer:

- PyMC-Marketing 1.3.0 (in ``.venv-bench``, a child process): ``MMM(dims=("geo",))`` as in
  ``bench_pmm.py``, then ``mmm.budget_optimizer(start, end).allocate_budget(budget / 13)``
  (its budgets are per period, spread evenly over the window). Timed: building the
  optimizer (graph rewrite + compile) and ``allocate_budget``.
- bayes_mmm: ``fit.optimize(budget, weeks=13, by_geo=True, flighting="flat")`` (flat so
  that both plans spread each cell's money evenly over the 13 weeks), timed end to end
  (window precomputation + multi-start SLSQP + report), and with the default
  ``flighting="history"`` for reference. Process CPU time is recorded next to wall time:
  the optimizer is single-threaded, so on a busy shared machine CPU time is what the
  wall time would be on an idle core.

Plan quality is judged by neither model: every plan is scored by the simulator's *true*
response (the true parameters as a one-draw ``bayes_mmm.optimize.planner``, the same
window, carryover in and out, flat flighting), as the share of the true optimum's uplift
over the current split that it earns. The true optimum is the optimizer run on the true
response with 12 starts.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_optimizer.py            # both sides
    .venv/bin/python benchmarks/bench_optimizer.py --skip-pmm             # ours only

PyMC-Marketing's fitted model is cached in ``--out`` (``pmm_fit.nc``); delete it to refit.
Results go to ``--out/results.json`` and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pmm import CHANNELS, CONTROLS, PANEL, PYTHONS, ROOT, _machine, pmm_model

WEEKS = 13
SEED = 1


# ---------------------------------------------------------------------- PMM child
def run_pmm(args: argparse.Namespace) -> dict:
    """Fit (or load) PyMC-Marketing's MMM and time its budget optimizer."""
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd
    from pymc_marketing.mmm import MMM

    df = pd.read_csv(args.panel, parse_dates=["date"])
    cache = Path(args.out) / "pmm_fit.nc"
    record: dict = {}
    if cache.exists():
        mmm = MMM.load(str(cache))
        record["fit"] = f"loaded {cache}"
    else:
        mmm = pmm_model()
        t0 = time.perf_counter()
        mmm.fit(
            df.drop(columns=["revenue"]),
            df["revenue"],
            chains=args.chains,
            draws=args.draws,
            tune=args.draws,
            random_seed=SEED,
            nuts_sampler="nutpie",
            progressbar=False,
        )
        record["fit_s"] = time.perf_counter() - t0
        mmm.save(str(cache))
    last = df["date"].max()
    budget = float(df.loc[df["date"] > last - pd.Timedelta(weeks=WEEKS), CHANNELS].sum().sum())
    start, end = last + pd.Timedelta(weeks=1), last + pd.Timedelta(weeks=WEEKS)
    t0 = time.perf_counter()
    optimizer = mmm.budget_optimizer(start_date=start, end_date=end)
    record["setup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = optimizer.allocate_budget(total_budget=budget / WEEKS)
    record["allocate_s"] = time.perf_counter() - t0
    per_period = result.budgets.transpose("geo", "channel")
    record.update(
        budget=budget,
        geos=[str(g) for g in per_period["geo"].values],
        channels=[str(c) for c in per_period["channel"].values],
        spend=(np.asarray(per_period) * WEEKS).tolist(),  # window spend, geo × channel
        scipy_success=bool(result.scipy_result.success),
        scipy_message=str(result.scipy_result.message),
        nfev=int(result.scipy_result.nfev),
        n_draws=int(mmm.idata.posterior.sizes["chain"] * mmm.idata.posterior.sizes["draw"]),
    )
    record["sum_rel_error"] = abs(float(np.sum(record["spend"])) - budget) / budget
    return record


# ---------------------------------------------------------------------- our side
def truth_planner(data, flighting: str):
    """The simulator's true response as a one-draw planner for ``data`` (the demo panel)."""
    from oracle import true_planner

    import bayes_mmm as bm

    _, truth = bm.simulate(n_geos=10, n_weeks=156, n_channels=5, seed=1)
    return true_planner(data, truth, weeks=WEEKS, flighting=flighting)


def run_ours(args: argparse.Namespace) -> tuple[dict, object]:
    import warnings

    import pandas as pd

    import bayes_mmm as bm

    warnings.simplefilter("ignore")
    df = pd.read_csv(args.panel)
    data = bm.MMMData.from_frame(
        df, date="date", target="revenue", media=CHANNELS, geo="geo", controls=CONTROLS
    )
    record: dict = {}
    if args.our_fit and Path(args.our_fit).exists():
        fit = bm.load(args.our_fit)
        record["fit"] = f"loaded {args.our_fit}"
    else:
        t0 = time.perf_counter()
        fit = bm.fit(
            data,
            bm.ModelSpec(),
            draws=args.draws,
            tune=args.draws,
            chains=args.chains,
            random_seed=SEED,
            progress=False,
        )
        record["fit_s"] = time.perf_counter() - t0
        if args.our_fit:
            fit.save(args.our_fit)
    budget = float(data.spend[-WEEKS:].sum())
    record.update(budget=budget, n_draws=int(fit.meta["chains"] * fit.meta["draws"]))
    record["converged"] = fit.convergence.message()
    allow = not fit.converged
    plans = {}
    for flighting in ("flat", "history"):
        for objective in ("mean", "cvar"):
            times, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                plan = fit.optimize(
                    budget,
                    weeks=WEEKS,
                    by_geo=True,
                    flighting=flighting,
                    objective=objective,
                    allow_unconverged=allow,
                )
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            plans[(flighting, objective)] = plan
            record[f"{flighting}_{objective}_s"] = times
            record[f"{flighting}_{objective}_cpu_s"] = cpu  # one thread: wall on an idle core
    record["sum_rel_error"] = abs(float(plans[("flat", "mean")].spend.to_numpy().sum()) - budget)
    record["sum_rel_error"] /= budget
    return record, (data, plans)


def score(data, spend, flighting: str, oracle_cache: dict) -> float:
    """Share of the true optimum's uplift (over the current split) that ``spend``
    (dims (geo, channel), window totals) earns under the true response."""
    from bayes_mmm import optimize as opt

    if flighting not in oracle_cache:
        oracle = truth_planner(data, flighting)
        cur = oracle.current()
        by_geo = opt.Constraints(by_geo=True)
        best = opt.allocate(oracle, cur.sum(), (1, 1), by_geo, n_starts=12)
        oracle_cache[flighting] = (oracle, cur, float(best.uplift.values.ravel()[0]))
    oracle, cur, best_gain = oracle_cache[flighting]
    gain = float((oracle.revenue(spend) - oracle.revenue(cur))[0])
    return gain / best_gain


# ---------------------------------------------------------------------- parent
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500, help="draws = tune per chain")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each plan")
    parser.add_argument("--panel", default=str(PANEL))
    parser.add_argument("--out", default="runs/bench_optimizer")
    parser.add_argument("--our-fit", default=None, help="bundle to load/save our fit")
    parser.add_argument("--skip-pmm", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    args.out = str(out)
    if args.child:
        (out / "pmm.json").write_text(json.dumps(run_pmm(args), indent=2))
        return 0

    import numpy as np

    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = _machine()
    pmm = None
    if not args.skip_pmm:
        cmd = [str(PYTHONS["pmm"]), str(Path(__file__).resolve()), "--child"]
        cmd += ["--chains", str(args.chains), "--draws", str(args.draws)]
        cmd += ["--panel", args.panel, "--out", args.out]
        print("[bench] PyMC-Marketing:", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            print((proc.stdout + proc.stderr)[-4000:], flush=True)
            return 1
        pmm = json.loads((out / "pmm.json").read_text())
    print("[bench] bayes_mmm", flush=True)
    ours, (data, plans) = run_ours(args)
    cache: dict = {}
    quality = {
        f"bayes_mmm {f} {o}": score(data, p.spend.to_numpy(), "flat" if f == "flat" else f, cache)
        for (f, o), p in plans.items()
    }
    if pmm is not None:
        order = [pmm["channels"].index(c) for c in CHANNELS]
        spend = np.asarray(pmm["spend"])[:, order]
        assert pmm["geos"] == list(data.geos)
        quality["PyMC-Marketing (flat)"] = score(data, spend, "flat", cache)
    quality["current split"] = 0.0
    t_ours = float(np.median(ours["flat_mean_s"]))
    lines = ["| | bayes_mmm | PyMC-Marketing | ratio ours / PMM |", "|---|---|---|---|"]
    if pmm is not None:
        theirs = pmm["setup_s"] + pmm["allocate_s"]
        lines += [
            f"| wall time, geo × channel plan (s) | {t_ours:.2f} | {theirs:.2f} "
            f"(setup {pmm['setup_s']:.2f} + allocate {pmm['allocate_s']:.2f}) "
            f"| {t_ours / theirs:.3f} |",
            f"| allocation sums to budget (rel. error) | {ours['sum_rel_error']:.1e} "
            f"| {pmm['sum_rel_error']:.1e} | |",
            f"| share of true optimum's uplift | {quality['bayes_mmm flat mean']:.3f} "
            f"| {quality['PyMC-Marketing (flat)']:.3f} | |",
        ]
    table = "\n".join(lines)
    summary = {
        "started_utc": started,
        "command": " ".join(["python", *sys.argv]),
        "machine": machine | {"loadavg_end": os.getloadavg()},
        "pmm": pmm,
        "bayes_mmm": ours,
        "share_of_true_optimum_uplift": quality,
        "true_optimum_uplift": {k: v[2] for k, v in cache.items()},
        "table": table,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    print(
        json.dumps(
            {k: summary[k] for k in ("share_of_true_optimum_uplift", "bayes_mmm")},
            indent=2,
            default=str,
        )
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
