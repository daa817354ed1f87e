"""Daily panels: a simulated daily panel's fit (time, convergence, ROI and day-of-week
coverage) next to ``plan_runtime``'s estimate, and the gradient's cost against ``l_max``.

Modes
-----
fit : ``simulate_daily`` (``--geos`` × ``--days`` × ``--channels``, ``--l-max``), its
    ``plan_runtime`` estimate, then ``bm.fit``; prints wall time, the verdict, whether every
    true ROI and every true day-of-week effect lie in their 90% intervals.
lmax : one logp+gradient evaluation's time for each ``--l-maxes`` on the same panel
    (``runtime.time_model``): the cost should grow no worse than linearly in ``l_max``.

Run: .venv/bin/python benchmarks/bench_daily.py fit [--chains 4 --draws 1000 --tune 1000]
     .venv/bin/python benchmarks/bench_daily.py lmax --l-maxes 7 14 28 56
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from bench_rf import fit_timed  # the benchmarks folder is on sys.path when run as a script

import bayes_mmm as bm
from bayes_mmm.runtime import plan_runtime, time_model
from bayes_mmm.simulate_daily import (
    DOW_PATTERN,
    daily_columns,
    simulate_daily,
    weekday_band,
    weekday_effect,
)


def _panel(args, l_max: int):
    frame, truth = simulate_daily(
        n_geos=args.geos, n_days=args.days, n_channels=args.channels, l_max=l_max, seed=args.seed
    )
    data = bm.MMMData.from_frame(frame, **daily_columns(args.channels))
    return data, truth, bm.ModelSpec(l_max=l_max, trend=False, yearly_seasonality=0)


def fit(args) -> None:
    data, truth, spec = _panel(args, args.l_max)
    plan = plan_runtime(data, spec, draws=args.draws, chains=args.chains, tune=args.tune)
    result, wall = fit_timed(data, spec, args)
    roi = result.roi()
    inside = (roi["lower"] <= truth.roi) & (truth.roi <= roi["upper"])
    effect = weekday_effect(data, result.posterior.draws[0])
    lower, upper = weekday_band(effect)  # simultaneous 90% over the seven days
    true_dow = truth.weekday.to_numpy() - DOW_PATTERN.mean()
    out = {
        "wall_s": round(wall, 1),
        "plan_est_total_s": round(plan.est_total_s, 1),
        "verdict": result.convergence.message(),
        "roi_covered": inside.to_dict(),
        "weekday_covered": bool(np.all((lower <= true_dow) & (true_dow <= upper))),
        "weekday_mean": effect.mean(0).round(4).tolist(),
        "weekday_true": true_dow.round(4).tolist(),
    }
    print(json.dumps(out))


def lmax(args) -> None:
    for l_max in args.l_maxes:
        data, _, spec = _panel(args, l_max)
        timing = time_model(data, spec, n_eval=args.n_eval)
        print(json.dumps({"l_max": l_max, "grad_us": round(timing.grad_s * 1e6, 1)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["fit", "lmax"])
    p.add_argument("--geos", type=int, default=5)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--channels", type=int, default=4)
    p.add_argument("--l-max", type=int, default=28)
    p.add_argument("--l-maxes", type=int, nargs="*", default=[7, 14, 28, 56])
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-eval", type=int, default=200)
    args = p.parse_args()
    {"fit": fit, "lmax": lmax}[args.mode](args)


if __name__ == "__main__":
    main()
