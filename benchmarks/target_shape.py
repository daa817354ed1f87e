"""Where target mode's misses come from: the posterior's response against the truth's,
along the budget.

For each saved fit of ``bench_target.py``, the current plan (the last 13 weeks' spend
split, history flighting) is scaled to ``--multiples`` of its budget, and its incremental
revenue (window + tail, against no window spend: target mode's and the oracle's quantity)
is computed under the truth (``benchmarks/oracle.py``) and on every posterior draw:
``post_median / truth`` above 1 means the posterior is optimistic at that budget (target
mode then finds a budget below the true minimum), and ``truth_quantile`` is the truth's
position among the draws (0.5 for a posterior centred on it). ``slope`` lists the
posterior mean and the truth of the Hill slopes, whose prior (truncated normal, mean 1.2,
sd 0.5) shrinks the steep curves of the simulator (truth uniform on 0.8 to 2.0).

Usage
-----
    PYTHONPATH=.:benchmarks nice -n 10 .venv/bin/python benchmarks/target_shape.py \\
        --fits runs/h22/fits --panels 25 11 25:0,0.05
"""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
from bench_flighting import thinned
from bench_target import markdown, panel
from oracle import true_draws, true_planner

import bayes_mmm as bm
from bayes_mmm import optimize as opt


def study(spec: str, args) -> list[dict]:
    seed, _, rng = spec.partition(":")
    alpha_range = [float(v) for v in rng.split(",")] if rng else None
    ns = SimpleNamespace(n_geos=10, n_weeks=156, n_channels=5, alpha_range=alpha_range,
                         fits=args.fits)  # fmt: skip
    data, truth, path = panel(int(seed), ns)
    fit = bm.load(path)
    draws, _ = thinned(fit, args.draws_used).draws
    oracle = true_planner(data, truth, weeks=13)
    plan = opt.planner(data, fit.spec, draws, weeks=13)
    zero = np.zeros_like(oracle.history_spend)
    true_slope = true_draws(data, truth)["slope"][0]
    print(spec, "slope: posterior", draws["slope"].mean(0).round(2), "truth",
          true_slope.round(2), flush=True)  # fmt: skip
    rows = []
    for mult in args.multiples:
        cells = oracle.current() * mult
        t = float(oracle.revenue(cells)[0] - oracle.revenue(zero)[0])
        p = plan.revenue(cells) - plan.revenue(zero)
        row = {"panel": spec, "multiple": mult, "truth": t, "post_median": float(np.median(p))}
        row |= {"ratio": row["post_median"] / t, "truth_quantile": float((p < t).mean())}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fits", default="runs/h22/fits")
    ap.add_argument("--panels", nargs="+", default=["25", "11", "25:0,0.05"])
    ap.add_argument("--multiples", type=float, nargs="+", default=[0.25, 0.5, 1, 1.5, 2, 3, 4])
    ap.add_argument("--draws-used", type=int, default=1000)
    args = ap.parse_args(argv)
    rows = [r for p in args.panels for r in study(p, args)]
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
