"""Budget optimizer at scale: the structured solver against SLSQP, side by side.

Problems (1,000 draws each, 13-week window, budget = the last 13 weeks' spend):

- ``demo``: the 10-geo × 5-channel demo panel (``bayes_mmm/datasets/demo_geo_panel.csv``
  with its shipped config), our fit, 4 chains × 250 draws (fitted once, cached in ``--out``).
- ``meridian``: Google Meridian's 40-geo demo panel (``bench_meridian.load``), our fit,
  4 chains × 250 draws (cached in ``--out``).
- ``sim200``: ``bm.simulate(n_geos=200, n_weeks=156, n_channels=10, seed=1)``, not fitted
  (too slow here): the planner is built on the simulator's true parameters tiled to 1,000
  draws, each multiplied by an independent log-normal factor (sd 0.1), a stand-in for a
  posterior of that size.

For each problem, objective (``mean``, ``cvar``) and ``by_geo`` (True, False),
``opt.allocate`` runs in a child process (so memory is per run), ``--repeat`` times (3)
for the structured solver, the median run reported, and once for SLSQP: wall
time of the call, the objective, its relative gap to SLSQP's ((ours - slsqp) / |slsqp|,
positive: ours is better), its process CPU time (the solver runs on one thread: on a busy
shared machine, what the wall time would be on an idle core), and the peak of traced
allocations during the call
(``tracemalloc``, numpy's arrays included) next to the child's ``ru_maxrss``. SLSQP runs
under ``--slsqp-limit`` seconds; past that it is reported as not finished. The
stability (10 subsets) and near-optimality (40 draws) steps are timed on ``meridian``,
geo × channel, mean, structured solver.

Usage
-----
    .venv/bin/python benchmarks/bench_plan_scale.py [--out runs/plan_scale]

Writes ``--out/results.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
WEEKS = 13
DRAWS = 1000


# ---------------------------------------------------------------------- problems
def demo_fit(out: Path):
    """Our 4 × 250-draw fit of the demo panel with its shipped config (cached)."""
    import bayes_mmm as bm
    from bayes_mmm import datasets
    from bayes_mmm.cli import load_inputs

    path = out / "demo_fit"
    if path.exists():
        return bm.load(path)
    config = datasets.path(datasets.DEMO_CONFIG)
    data, spec, _ = load_inputs(datasets.path(datasets.DEMO_PANEL), config)
    fit = bm.fit(data, spec, draws=250, tune=250, chains=4, random_seed=1, progress=False)
    fit.save(path)
    return fit


def meridian_fit(out: Path):
    """Our 4 × 250-draw fit of Meridian's 40-geo panel (cached)."""
    from bench_meridian import load

    import bayes_mmm as bm

    path = out / "meridian_fit"
    if path.exists():
        return bm.load(path)
    fit = bm.fit(load(), draws=250, tune=250, chains=4, random_seed=1, progress=False)
    fit.save(path)
    return fit


def sim200_planner():
    """The 200-geo × 10-channel truth, jittered into 1,000 draws."""
    from oracle import simulated, true_draws

    from bayes_mmm import optimize as opt

    data, truth = simulated(200, 156, 10, seed=1)
    rng = np.random.default_rng(1)
    one = true_draws(data, truth)
    draws = {
        k: np.repeat(v, DRAWS, axis=0) * np.exp(rng.normal(0.0, 0.1, (DRAWS, *v.shape[1:])))
        for k, v in one.items()
    }
    return opt.planner(data, truth.spec, draws, weeks=WEEKS)


def problem(name: str, out: Path):
    """The planner and the draws' (chain, draw) shape of a named problem."""
    from bayes_mmm import optimize as opt

    if name == "sim200":
        return sim200_planner(), (1, DRAWS)
    fit = demo_fit(out) if name == "demo" else meridian_fit(out)
    draws, shape = fit.draws
    return opt.planner(fit.data, fit.spec, draws, weeks=WEEKS), shape


# ---------------------------------------------------------------------- one run (child)
def run_one(args) -> dict:
    """One allocation in this process; the record of its cost and result."""
    import warnings

    from bayes_mmm import optimize as opt

    warnings.simplefilter("ignore")
    plan, shape = problem(args.problem, Path(args.out))
    budget = float(plan.history_spend.sum())
    kwargs = dict(objective=args.objective, solver=args.solver)
    kwargs.update(stability=args.stability, near_optimal=args.near_optimal)
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    res = opt.allocate(plan, budget, shape, opt.Constraints(by_geo=args.by_geo), **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # one thread: the wall time on an idle core
        "load1": os.getloadavg()[0],
        "objective": res.objective,
        "objective_current": res.objective_current,
        "budget_error": abs(float(np.asarray(res.spend).sum()) - budget) / budget,
        "traced_peak_mb": peak / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "near_optimal": None if res.near_optimal is None else res.near_optimal.to_dict(),
    }


def child(args, problem_name, objective, by_geo, solver, limit, extra=()) -> dict:
    """``run_one`` in a child process, killed after ``limit`` seconds."""
    cmd = [sys.executable, __file__, "--child", "--out", args.out, "--problem", problem_name]
    cmd += ["--objective", objective, "--solver", solver, *extra]
    cmd += ["--by-geo"] if by_geo else []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env)
    except subprocess.TimeoutExpired:
        return {"wall_s": None, "note": f"not finished in {limit} s (child killed)"}
    if done.returncode:
        return {"wall_s": None, "note": done.stderr[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- parent
def table(rows: list[dict]) -> str:
    """The markdown table of the side-by-side runs."""
    lines = [
        "| problem | objective | by_geo | SLSQP wall s | structured wall s | SLSQP objective "
        "| structured objective | rel. gap | peak MB SLSQP / structured (traced; maxrss) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, f = r["slsqp"], r["structured"]
        gap = (
            f"{(f['objective'] - s['objective']) / abs(s['objective']):+.1e}"
            if s.get("wall_s") and f.get("wall_s")
            else "n/a"
        )
        mem = " / ".join(
            f"{x['traced_peak_mb']:.0f} ({x['maxrss_mb']:.0f})" if x.get("wall_s") else "n/a"
            for x in (s, f)
        )
        lines.append(
            f"| {r['problem']} | {r['objective']} | {r['by_geo']} | {_wall(s)} | {_wall(f)} "
            f"| {_obj(s)} | {_obj(f)} | {gap} | {mem} |"
        )
    return "\n".join(lines)


def _wall(rec):
    return f"{rec['wall_s']:.2f}" if rec.get("wall_s") else rec.get("note", "n/a")[:40]


def _obj(rec):
    return f"{rec['objective']:,.0f}" if rec.get("wall_s") else "n/a"


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (a failed run's record if any failed)."""
    failed = [r for r in runs if not r.get("wall_s")]
    return failed[0] if failed else sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def load1() -> float:
    return os.getloadavg()[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "runs" / "plan_scale"))
    p.add_argument("--slsqp-limit", type=int, default=300)
    p.add_argument("--problems", nargs="*", default=["demo", "meridian", "sim200"])
    p.add_argument("--repeat", type=int, default=3, help="structured runs per row (median)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--problem", help=argparse.SUPPRESS)
    p.add_argument("--objective", default="mean", help=argparse.SUPPRESS)
    p.add_argument("--solver", default="auto", help=argparse.SUPPRESS)
    p.add_argument("--by-geo", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--stability", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--near-optimal", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(run_one(args)))
        return
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "rows": []}
    record["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    for name in args.problems:
        for objective in ("mean", "cvar"):
            for by_geo in (True, False):
                row = {"problem": name, "objective": objective, "by_geo": by_geo}
                row["load_before"] = load1()
                runs = [
                    child(args, name, objective, by_geo, "structured", 600)
                    for _ in range(args.repeat)
                ]
                row["structured_wall_s"] = [r.get("wall_s") for r in runs]
                row["structured"] = median_run(runs)
                row["slsqp"] = child(args, name, objective, by_geo, "slsqp", args.slsqp_limit)
                row["load_after"] = load1()
                record["rows"].append(row)
                print(json.dumps(row), flush=True)
    if "meridian" in args.problems:
        for flag, k in (("--stability", "10"), ("--near-optimal", "40")):
            rec = child(args, "meridian", "mean", True, "structured", 600, (flag, k))
            record[f"meridian {flag} {k}"] = dict(rec, load=load1())
            print(flag, k, json.dumps(rec), flush=True)
    (Path(args.out) / "results.json").write_text(json.dumps(record, indent=1))
    print(f"commit {record['commit']}, {record['date']}")
    print(table(record["rows"]))


if __name__ == "__main__":
    main()
