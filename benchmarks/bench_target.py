"""Target mode against the truth: is the least budget the true least budget, and is its
probability calibrated?

For each seed, ``bm.simulate(n_geos, n_weeks, n_channels, seed=s)`` is fitted with the
default ``ModelSpec`` (fits saved under ``--fits`` and reused). The targets are multiples
(``--multiples``) of the true incremental revenue of the true optimum at the current
window budget (the last ``weeks`` weeks' spend), so every target is reachable in truth.

- **True minimum budget**, computed from the truth alone (``benchmarks/oracle.py``): the
  least budget whose *true* optimum (the optimizer run on the one-draw true planner)
  reaches the target in true incremental revenue (window + tail, against no window
  spend), by bisection on the budget. It does not use ``optimize.target``.
- **Target mode** (``fit.optimize(target=T, target_prob=p)``, ``p`` in ``--full-probs``)
  on the whole posterior: ``budget_<p>``, its ratio to the true minimum (``ratio_<p>``;
  at ``p = 0.5`` the posterior's median budget, within 10% passes) and ``reaches_<p>``:
  whether the plan it returns reaches the target under the truth (at ``p = 0.5`` a
  calibrated posterior reaches it about half the time; at ``p = 0.9`` about 9 times in
  10); ``true_pct_<p>``: the plan's true incremental revenue, % of the target.
- **Held-out calibration**: the draws are split into two halves (even and odd positions).
  Target mode with ``target_prob`` in ``--probs`` runs on the first half; its plan is
  scored on ``--holdout-draws`` evenly spaced draws of the second half, each taken as the
  truth: ``held_<p>`` is the share of those that reach the target (≈ ``p`` when the
  posterior is calibrated); ``held_all_<p>`` the same share over every held-out draw,
  which separates target mode's calibration from the luck of the 20 draws.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_target.py --seeds 25 11 \\
        --fits runs/h22/fits --out runs/bench_target
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_regret import fit_or_load
from oracle import simulated, true_optimum, true_planner

from bayes_mmm import optimize as opt
from bayes_mmm.optimize.target import minimum_budget


def true_gain(oracle, cells: np.ndarray) -> float:
    """True incremental revenue of ``cells`` (geo × spend group) against no window spend."""
    zero = np.zeros_like(oracle.history_spend)
    return float(oracle.revenue(cells)[0] - oracle.revenue(zero)[0])


def true_best_gain(oracle, budget: float) -> float:
    """True incremental revenue of the true optimum of ``budget``."""
    best = true_optimum(oracle, budget, by_geo=False)
    return true_gain(oracle, _cells(oracle, best.spend.to_numpy()))


def true_minimum(oracle, target: float, hi: float) -> float:
    """The least budget whose true optimum reaches ``target`` (bisection to 1e-4)."""
    lo = 0.0
    while true_best_gain(oracle, hi) < target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-4 * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if true_best_gain(oracle, mid) >= target else (mid, hi)
    return hi


def _cells(plan, spend: np.ndarray) -> np.ndarray:
    """Group spend split across geos like history, dims (geo, spend_group)."""
    h = plan.history_spend
    return h / h.sum(axis=0) * spend[None]


def panel(seed: int, args):
    """The simulated panel of ``seed`` (``MMMData``, ``Truth``) and its saved fit's path:
    ``fit_s<seed>``, or ``fit_s<seed>_alpha<lo>-<hi>`` with ``--alpha-range``."""
    extra = {} if args.alpha_range is None else {"alpha_range": tuple(args.alpha_range)}
    data, truth = simulated(args.n_geos, args.n_weeks, args.n_channels, seed, **extra)
    name = f"fit_s{seed}"
    if args.alpha_range is not None:
        name += "_alpha{:g}-{:g}".format(*args.alpha_range)
    return data, truth, Path(args.fits) / name


def study(seed: int, args) -> list[dict]:
    data, truth, path = panel(seed, args)
    fit = fit_or_load(path, data, args)
    oracle = true_planner(data, truth, weeks=args.weeks)
    draws, _ = fit.draws
    plan = opt.planner(data, fit.spec, draws, weeks=args.weeks)
    current_budget = float(oracle.history_spend.sum())
    base = true_best_gain(oracle, current_budget)
    n = plan.base.shape[0]
    first, second = np.arange(0, n, 2), np.arange(1, n, 2)
    half = plan.subset(first)
    held = plan.subset(second[np.linspace(0, len(second) - 1, args.holdout_draws).astype(int)])
    other = plan.subset(second)  # every held-out draw: the 20-draw share's own check
    rows = []
    for mult in args.multiples:
        target = mult * base
        b_true = true_minimum(oracle, target, current_budget)
        row = {"seed": seed, "multiple": mult, "target": target, "true_min": b_true}
        for p in args.full_probs:
            t0 = time.perf_counter()
            got = fit.optimize(
                target=target, target_prob=p, weeks=args.weeks, allow_unconverged=True
            )
            row[f"seconds_{p:g}"] = time.perf_counter() - t0
            row[f"budget_{p:g}"] = got.budget
            row[f"ratio_{p:g}"] = got.budget / b_true
            gain = true_gain(oracle, _cells(oracle, got.spend.to_numpy()))
            row[f"reaches_{p:g}"] = gain >= target
            row[f"true_pct_{p:g}"] = 100 * gain / target
        row["within_10pct"] = abs(row["ratio_0.5"] - 1) <= 0.10
        row |= {
            "lower": got.interval["lower"],
            "upper": got.interval["upper"],
            "true_in_interval": got.interval["lower"] <= b_true <= got.interval["upper"],
        }
        for p in args.probs:
            r = minimum_budget(half, target, (1, len(first)), target_prob=p, max_budget=None)
            cells = _cells(plan, r.spend.to_numpy())
            zero = np.zeros_like(plan.history_spend)
            gain = held.revenue(cells) - held.revenue(zero)
            row[f"held_{p:g}"] = float((gain >= target).mean())
            gain = other.revenue(cells) - other.revenue(zero)
            row[f"held_all_{p:g}"] = float((gain >= target).mean())
        rows.append(row)
        print(json.dumps(row, default=float), flush=True)
    return rows


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table of ``df`` (numbers to 4 significant digits)."""

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(False)]
    return "\n".join(lines)


def panel_args(ap: argparse.ArgumentParser) -> None:
    """The panel and fit options ``bench_target`` and ``bench_flighting`` share: seeds 25
    (strong carryover) and 11 (weak) of ``simulate(10, 156, 5)``, 4 chains × 1000 draws;
    ``--alpha-range 0 0.05`` gives the same panels without carryover."""
    ap.add_argument("--seeds", type=int, nargs="+", default=[25, 11])
    ap.add_argument("--n-geos", type=int, default=10)
    ap.add_argument("--n-weeks", type=int, default=156)
    ap.add_argument("--n-channels", type=int, default=5)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--float32", action="store_true", help="ModelSpec(float32=True)")
    ap.add_argument("--adaptation", default=None, help="nutpie mass-matrix adaptation")
    ap.add_argument(
        "--alpha-range",
        type=float,
        nargs=2,
        default=None,
        metavar=("LOW", "HIGH"),
        help="range of the true carryover alpha (bm.simulate's alpha_range), e.g. 0 0.05",
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    panel_args(ap)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--multiples", type=float, nargs="+", default=[0.6, 1.0, 1.4, 1.8])
    ap.add_argument("--full-probs", type=float, nargs="+", default=[0.5, 0.9])
    ap.add_argument("--probs", type=float, nargs="+", default=[0.5, 0.8, 0.9])
    ap.add_argument("--holdout-draws", type=int, default=20)
    ap.add_argument("--fits", default="runs/bench_target/fits")
    ap.add_argument("--out", default="runs/bench_target")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    Path(args.fits).mkdir(parents=True, exist_ok=True)
    rows = [r for seed in args.seeds for r in study(seed, args)]
    table = pd.DataFrame(rows)
    (out / "target.json").write_text(
        json.dumps({"settings": vars(args), "rows": rows}, default=float)
    )
    print(markdown(table))
    summary = {
        "within_10pct": f"{int(table['within_10pct'].sum())} of {len(table)}",
        **{
            f"reaches_{p:g}": f"{int(table[f'reaches_{p:g}'].sum())} of {len(table)}"
            for p in args.full_probs
        },
        **{f"held_{p:g}_mean": float(table[f"held_{p:g}"].mean()) for p in args.probs},
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
