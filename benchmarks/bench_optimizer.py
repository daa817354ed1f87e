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

``--problem meridian`` runs the same comparison on Google Meridian's 40-geo demo panel
(``bench_meridian.load``; 40 geos × 5 paid channels = 200 cells). PyMC-Marketing fits its
default geo MMM on the spend columns (controls: the two controls, the promo and the
organic channel's impressions); our fit is ``bench_plan_scale.py``'s cached 4 × 250-draw
fit (``--our-fit``, default ``runs/plan_scale/meridian_fit``). The panel has no known
truth: both plans are scored by our posterior's expected uplift over the current split
(flat flighting), a yardstick of one side's model, said so in the table. PyMC-Marketing's
plan runs in its own child under ``--pmm-limit`` seconds (default 3600); past that it is
reported as not finished.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_optimizer.py            # both sides
    .venv/bin/python benchmarks/bench_optimizer.py --skip-pmm             # ours only
    nice -n 19 .venv/bin/python benchmarks/bench_optimizer.py --problem meridian \
        --chains 4 --draws 250 --out runs/bench_optimizer_meridian       # 40 geos

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
MERIDIAN_CSV = ROOT.parent / "shared" / "external" / "meridian" / "geo_all_channels.csv"
MERIDIAN_CHANNELS = [f"Channel{i}_spend" for i in range(5)]
MERIDIAN_CONTROLS = [
    "competitor_sales_control",
    "sentiment_score_control",
    "Promo",
    "Organic_channel0_impression",
]


def meridian_frame():
    """Meridian's panel as PyMC-Marketing reads it: ``date``, ``geo``, the spend columns as
    channels, the controls and ``revenue`` = conversions × revenue per conversion."""
    import pandas as pd

    df = pd.read_csv(MERIDIAN_CSV, index_col=0).rename(columns={"time": "date"})
    df["revenue"] = df["conversions"] * df["revenue_per_conversion"]
    df["date"] = pd.to_datetime(df["date"])
    return df[["date", "geo", *MERIDIAN_CHANNELS, *MERIDIAN_CONTROLS, "revenue"]]


def pmm_meridian_model():
    """PyMC-Marketing's default geo MMM for Meridian's panel, unfitted: ``bench_pmm``'s
    settings (geometric adstock ``l_max=8``, logistic saturation, 2 yearly modes) on the
    Meridian columns."""
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    settings = {"adstock": GeometricAdstock(l_max=8), "saturation": LogisticSaturation()}
    settings.update(date_column="date", target_column="revenue", yearly_seasonality=2)
    return MMM(
        channel_columns=MERIDIAN_CHANNELS,
        control_columns=MERIDIAN_CONTROLS,
        dims=("geo",),
        **settings,
    )


# ---------------------------------------------------------------------- PMM child
def run_pmm(args: argparse.Namespace) -> dict:
    """Fit (or load) PyMC-Marketing's MMM and time its budget optimizer."""
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd
    from pymc_marketing.mmm import MMM

    meridian = args.problem == "meridian"
    df = meridian_frame() if meridian else pd.read_csv(args.panel, parse_dates=["date"])
    channels = MERIDIAN_CHANNELS if meridian else CHANNELS
    cache = Path(args.out) / "pmm_fit.nc"
    record: dict = {}
    if cache.exists():
        mmm = MMM.load(str(cache))
        record["fit"] = f"loaded {cache}"
    else:
        mmm = pmm_meridian_model() if meridian else pmm_model()
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
    if args.pmm_stage == "fit":
        return record
    last = df["date"].max()
    budget = float(df.loc[df["date"] > last - pd.Timedelta(weeks=WEEKS), channels].sum().sum())
    start, end = last + pd.Timedelta(weeks=1), last + pd.Timedelta(weeks=WEEKS)
    t0 = time.perf_counter()
    optimizer = mmm.budget_optimizer(start_date=start, end_date=end)
    record["setup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # return_if_fail: a plan stopped at SLSQP's iteration limit comes back, marked
    result = optimizer.allocate_budget(total_budget=budget / WEEKS, return_if_fail=True)
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


def run_ours_meridian(args: argparse.Namespace) -> tuple[dict, object]:
    """Our geo × channel plan (flat flighting, mean) on the cached Meridian fit, timed
    ``--repeat`` times, and the planner that scores plans by our posterior."""
    import warnings

    import bayes_mmm as bm
    from bayes_mmm import optimize as opt

    warnings.simplefilter("ignore")
    fit = bm.load(args.our_fit or ROOT / "runs" / "plan_scale" / "meridian_fit")
    budget = float(fit.data.spend[-WEEKS:].sum())
    record: dict = {"budget": budget, "n_draws": int(fit.meta["chains"] * fit.meta["draws"])}
    record["converged"] = fit.convergence.message()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        plan = fit.optimize(
            budget, weeks=WEEKS, by_geo=True, flighting="flat", allow_unconverged=True
        )
        times.append(time.perf_counter() - t0)
    record["flat_mean_s"] = times
    record["sum_rel_error"] = abs(float(plan.spend.to_numpy().sum()) - budget) / budget
    draws, _ = fit.draws
    scorer = opt.planner(fit.data, fit.spec, draws, weeks=WEEKS, flighting="flat")
    return record, (plan, scorer)


def score_by_posterior(scorer, labels, spend) -> float:
    """Expected uplift over the current split of ``spend`` (geo × spend group, window
    totals, columns in ``labels``' Channel order) under our posterior."""
    import numpy as np

    order = [next(i for i, c in enumerate(labels) if c.startswith(g[:8])) for g in scorer.labels]
    spend = np.asarray(spend)[:, order]
    cur = scorer.current(spend.sum())
    return float((scorer.revenue(spend) - scorer.revenue(cur)).mean())


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
def summarize(out: Path, started: str, machine: dict, table: str, **fields) -> dict:
    """The run's record (start, command, machine with the closing load, ``fields``, the
    table), written to ``out/results.json``."""
    summary = {"started_utc": started, "command": " ".join(["python", *sys.argv])}
    summary["machine"] = machine | {"loadavg_end": os.getloadavg()}
    summary.update(fields, table=table)
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def pmm_child(args: argparse.Namespace, stage: str, limit: float | None) -> dict | None:
    """PyMC-Marketing's ``stage`` (``"fit"``: fit and cache; ``"plan"``: the budget
    optimizer) in a child process, killed after ``limit`` seconds; its record, or a note."""
    cmd = [args.pmm_python, str(Path(__file__).resolve()), "--child", "--pmm-stage", stage]
    cmd += ["--chains", str(args.chains), "--draws", str(args.draws), "--problem", args.problem]
    cmd += ["--out", args.out] + (["--panel", args.panel] if args.problem == "demo" else [])
    print("[bench] PyMC-Marketing:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"not_finished": f"{stage} not finished in {limit:.0f} s (child killed)"}
    if proc.returncode != 0:
        print((proc.stdout + proc.stderr)[-4000:], flush=True)
        return None
    record = json.loads((Path(args.out) / "pmm.json").read_text())
    return dict(record, child_wall_s=time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=["demo", "meridian"], default="demo")
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500, help="draws = tune per chain")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each plan")
    parser.add_argument("--panel", default=str(PANEL))
    parser.add_argument("--out", default="runs/bench_optimizer")
    parser.add_argument("--our-fit", default=None, help="bundle to load/save our fit")
    parser.add_argument("--skip-pmm", action="store_true")
    parser.add_argument("--pmm-python", default=str(PYTHONS["pmm"]))
    parser.add_argument("--pmm-limit", type=float, default=3600.0, help="s for PMM's plan")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pmm-stage", default="both", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    args.out = str(out)
    if args.child:
        (out / "pmm.json").write_text(json.dumps(run_pmm(args), indent=2))
        return 0
    if args.problem == "meridian":
        return main_meridian(args)

    import numpy as np

    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = _machine()
    pmm = None
    if not args.skip_pmm:
        pmm = pmm_child(args, "both", None)
        if pmm is None:
            return 1
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
    summary = summarize(
        out,
        started,
        machine,
        table,
        pmm=pmm,
        bayes_mmm=ours,
        share_of_true_optimum_uplift=quality,
        true_optimum_uplift={k: v[2] for k, v in cache.items()},
    )
    print(
        json.dumps(
            {k: summary[k] for k in ("share_of_true_optimum_uplift", "bayes_mmm")},
            indent=2,
            default=str,
        )
    )
    print(table)
    return 0


def main_meridian(args: argparse.Namespace) -> int:
    """The 40-geo comparison: PyMC-Marketing's fit, then its plan under ``--pmm-limit``,
    then ours; the table goes to stdout and ``--out/results.json``."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = _machine()
    pmm_fit, pmm = None, None
    if not args.skip_pmm:
        pmm_fit = pmm_child(args, "fit", None)
        pmm = pmm_child(args, "plan", args.pmm_limit)
        if pmm_fit is None or pmm is None:
            return 1
    machine["loadavg_before_ours"] = os.getloadavg()
    ours, (plan, scorer) = run_ours_meridian(args)
    t_ours = float(sorted(ours["flat_mean_s"])[len(ours["flat_mean_s"]) // 2])
    labels = list(plan.spend.columns)
    quality = {"bayes_mmm": score_by_posterior(scorer, labels, plan.spend.to_numpy())}
    lines = ["| | bayes_mmm | PyMC-Marketing | ratio PMM / ours |", "|---|---|---|---|"]
    if pmm is not None and "spend" in pmm:
        theirs = pmm["setup_s"] + pmm["allocate_s"]
        quality["PyMC-Marketing"] = score_by_posterior(scorer, pmm["channels"], pmm["spend"])
        lines += [
            f"| wall time, geo × channel plan (s) | {t_ours:.2f} | {theirs:.1f} (setup "
            f"{pmm['setup_s']:.1f} + allocate {pmm['allocate_s']:.1f}) | {theirs / t_ours:.0f} |",
            f"| sums to budget (rel. error) | {ours['sum_rel_error']:.1e} "
            f"| {pmm['sum_rel_error']:.1e} | |",
            f"| expected uplift by our posterior | {quality['bayes_mmm']:,.0f} "
            f"| {quality['PyMC-Marketing']:,.0f} | |",
        ]
    elif pmm is not None:
        lines.append(f"| wall time (s) | {t_ours:.2f} | {pmm['not_finished']} | n/a |")
    summary = summarize(
        Path(args.out),
        started,
        machine,
        "\n".join(lines),
        pmm_fit=pmm_fit,
        pmm=pmm,
        bayes_mmm=ours,
        expected_uplift_by_our_posterior=quality,
    )
    print(json.dumps({k: summary[k] for k in ("bayes_mmm", "pmm_fit")}, indent=2, default=str))
    print(summary["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
