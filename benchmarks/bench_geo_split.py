"""CPU time of a by-geo weekly plan with caps: 13 weeks × 10 geos × 5 channels.

Plans ``weekly(..., by_geo=True, honest=False)`` on a saved fit thinned to ``--draws``
draws, with every spend group's weekly total capped at ``--cap`` times its average week in
the window's history (caps that bind: the plan would otherwise move spend between weeks
and geos past them). Prints CPU and wall seconds, the plan's gain over the best fixed
flighting and how many (week, group) caps bind. Run it against another checkout (its
``PYTHONPATH``) to time that checkout's solver on the same problem.

    PYTHONPATH=.:benchmarks nice -n 10 .venv/bin/python benchmarks/bench_geo_split.py \\
        --fit runs/h22/fits/fit_s25 --draws 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_flighting import thinned

import bayes_mmm as bm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit", default="runs/h22/fits/fit_s25")
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--cap", type=float, default=1.1, help="0: no caps (the softmax solver)")
    args = ap.parse_args()
    fit = bm.load(args.fit)
    post = thinned(fit, args.draws)
    window = fit.data.spend[-args.weeks :]  # (date, geo, channel)
    budget = float(window.sum())
    weekly_mean = np.asarray(window).sum(axis=(0, 1)) @ fit.data.group_matrix / args.weeks
    caps = {g: args.cap * float(m) for g, m in zip(fit.data.group_labels, weekly_mean)}
    caps = caps if args.cap > 0 else {}
    cpu, wall = time.process_time(), time.perf_counter()
    plan = bm.optimize.weekly(
        post, budget, args.weeks, caps=caps, by_geo=True, honest=False, allow_unconverged=True
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    x = plan.spend.to_numpy().reshape(args.weeks, -1, plan.spend.shape[1])
    totals = x.sum(axis=1)
    cap = np.array(list(caps.values())) if caps else np.full(totals.shape[1], np.inf)
    binding = int((totals >= cap - 1e-6 * budget).sum())
    print(
        f"draws {args.draws}  geos {x.shape[1]}  groups {x.shape[2]}  cells {x.size}  "
        f"cpu {cpu:.1f} s  wall {wall:.1f} s  gain {plan.table.loc['gain', 'mean']:,.2f}  "
        f"budget error {x.sum() - budget:.2e}  binding caps {binding}/{totals.size}  "
        f"cap excess {float((totals - cap).max()):.2e}"
    )


if __name__ == "__main__":
    main()
