"""Week-by-week flighting against the truth, and its planning time.

For each seed, ``bm.simulate(n_geos, n_weeks, n_channels, seed=s)`` is fitted (fits saved
under ``--fits`` and reused, ``bench_regret.fit_or_load``). The current window budget is
planned week by week (``fit.optimize(budget, flighting="optimize")``) on ``--draws-used``
evenly spaced draws, timed, and both the weekly plan and the best fixed plan are scored
under the simulator's truth (``benchmarks/oracle.py``: the true parameters as a one-draw
planner):

- ``seconds``: wall time of the weekly plan (inflated on a loaded machine);
- ``gain`` / ``lower`` / ``upper`` / ``prob_better``: the posterior's gain of the weekly
  plan over the best fixed flighting (mean, 90% HDI, P(better));
- ``true_gain_pct``: the weekly plan's true revenue minus the fixed plan's, % of the fixed
  plan's true media revenue (positive: the weekly plan beats it in truth).

``--by-geo`` plans (period, geo, spend group) cells against the best fixed plan of free
(geo, spend group) cells; ``--alpha-range 0 0.05`` uses the seeds' panels without
carryover (``bm.simulate(alpha_range=...)``).

``bm.simulate`` draws each channel's geometric carryover ``alpha`` uniformly on
(0.1, 0.6) and, by default, no seasonal media multiplier, so the gain here comes from
carryover at the window's edges and saturation only; ``alpha`` (the truth's, per channel)
is in the table. Seed 25 is the panel with the strongest carryover of seeds 1–40 (every
channel's ``alpha`` ≥ 0.46), seed 11 the one with the weakest (every ``alpha`` ≤ 0.29):
chosen by the truth's ``alpha`` alone, before any fit.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_flighting.py --seeds 25 11 \\
        --draws-used 1000 --fits runs/h22/fits --out runs/bench_flighting
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_regret import fit_or_load
from bench_target import markdown, panel, panel_args
from oracle import true_draws, true_planner

import bayes_mmm as bm
from bayes_mmm.optimize.flighting import WeekModel, fixed_plan_cells
from bayes_mmm.posterior import Posterior


def thinned(fit: bm.Fit, n: int) -> Posterior:
    """The fit's posterior on ``n`` evenly spaced draws of its first chain and beyond."""
    post = fit.posterior
    sizes = post.idata["posterior"].sizes
    if n >= sizes["chain"] * sizes["draw"]:
        return post
    keep = np.linspace(0, sizes["draw"] - 1, max(1, n // sizes["chain"])).astype(int)
    return Posterior(post.data, post.spec, post.idata.isel(draw=keep, missing_dims="ignore"))


def study(seed: int, args) -> dict:
    data, truth, path = panel(seed, args)
    fit = fit_or_load(path, data, args)
    post = thinned(fit, args.draws_used)
    budget = float(data.spend[-args.weeks :].sum())
    t0 = time.perf_counter()
    plan = bm.optimize.weekly(
        post, budget, weeks=args.weeks, by_geo=args.by_geo, allow_unconverged=True
    )
    seconds = time.perf_counter() - t0
    flat = true_planner(data, truth, weeks=args.weeks, flighting="flat")
    fixed_true = true_planner(
        data, truth, weeks=args.weeks, flighting=plan.fixed.attrs["flighting"]
    )
    week = WeekModel(flat, true_draws(data, truth))
    x = plan.spend.to_numpy()
    x = x.reshape(args.weeks, len(data.geos), -1) if args.by_geo else x
    r_weekly = float(week.revenue(x)[0])
    r_fixed = float(fixed_true.revenue(fixed_plan_cells(fixed_true, plan.fixed.to_numpy()))[0])
    zero = float(fixed_true.revenue(np.zeros_like(fixed_true.history_spend))[0])
    alpha = np.asarray(truth.params["alpha"], float)
    row = {
        "seed": seed,
        "alpha": " ".join(f"{a:.2f}" for a in alpha),
        "draws": int(plan.gain.size),
        "seconds": seconds,
        "fixed": plan.fixed.attrs["flighting"],
        "gain": float(plan.table.loc["gain", "mean"]),
        "lower": float(plan.table.loc["gain", "lower"]),
        "upper": float(plan.table.loc["gain", "upper"]),
        "prob_better": plan.prob_better,
        "true_gain_pct": 100 * (r_weekly - r_fixed) / (r_fixed - zero),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    panel_args(ap)
    ap.add_argument("--draws-used", type=int, default=1000)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--by-geo", action="store_true", help="plan (period, geo, group) cells")
    ap.add_argument("--fits", default="runs/h22/fits")
    ap.add_argument("--out", default="runs/bench_flighting")
    args = ap.parse_args(argv)

    Path(args.fits).mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [study(s, args) for s in args.seeds]
    (out / "flighting.json").write_text(json.dumps({"settings": vars(args), "rows": rows}))
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
