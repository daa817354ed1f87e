"""Replay datasets of a ``bench_sbc.py`` run whose default fit failed a gate, and print why.

``bm.sbc`` is deterministic given ``random_seed``: the prior draws come from one
prior-predictive call and each fit's seed from ``bayes_mmm.sbc.fit_seeds``. This script
rebuilds the same panels and seeds, re-fits the first ``--count`` datasets that
``<template>_converged.csv`` marks as failed, and prints each one's true ``beta_mu`` and
ROI, the verdict and its four slowest parameters.

Usage (after ``bench_sbc.py --template geo5 --datasets 100``; about 1 min per fit):
    nice -n 10 .venv/bin/python benchmarks/sbc_replay.py --template geo5 --datasets 100 --count 3
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd
from bench_sbc import template

import bayes_mmm as bm
from bayes_mmm.sample import sample
from bayes_mmm.sbc import fit_seeds, prior_panels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--template", default="geo5")
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_sbc"))
    args = parser.parse_args()
    data = template(args.template)
    spec = bm.ModelSpec().for_channels(data.channels)
    truths, panels = prior_panels(data, spec, args.datasets, args.seed)
    seeds = fit_seeds(args.seed, args.datasets)
    ok = pd.read_csv(args.out / f"{args.template}_converged.csv", index_col=0)["converged"]
    for i in [i for i in ok.index if not ok[i]][: args.count]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            post = sample(
                panels[i],
                spec,
                draws=1000,
                tune=1000,
                chains=4,
                cores=1,
                random_seed=seeds[i],
                progress=False,
            )
        table = post.diagnostics()
        shown = {k: round(v, 3) for k, v in truths[i].items() if k.startswith(("beta_mu", "roi"))}
        print(i, shown)
        print("   ", table.attrs["verdict"])
        print(table.sort_values("ess_bulk").head(4).to_string(), flush=True)


if __name__ == "__main__":
    main()
