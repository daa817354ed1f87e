"""``python -m bayes_mmm.demo``: fit the shipped demo panel and print ROI and the verdict.

The panel (``demo_geo_panel.csv``, shipped inside the package and read through
``bayes_mmm.datasets``) is simulated with known truth (``scripts/make_demo_data.py``), so
the printout also shows whether each true ROI lies inside its 90% interval. It runs from
an installed wheel in any directory; the bundle goes to ``--out`` (``runs/demo`` under
the working directory by default).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

import bayes_mmm as bm
from bayes_mmm import datasets

CHANNELS = ["tv", "search", "social", "display", "radio"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="runs/demo", help="bundle directory to write")
    args = parser.parse_args(argv)

    data = bm.MMMData.from_frame(
        datasets.demo_panel(),
        date="date",
        target="revenue",
        media=CHANNELS,
        geo="geo",
        controls=["price_index"],
    )
    print(data)
    fit = bm.fit(
        data,
        bm.ModelSpec(),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
    )
    m = fit.meta
    print(
        f"\nsampled {m['chains']}×{m['draws']} draws in {m['wall_s']:.1f}s "
        f"(compile {m['compile_s']:.1f}s, sampling {m['sample_s']:.1f}s)"
    )
    roi = fit.roi(hdi_prob=0.9)
    truth = datasets.demo_truth()
    roi["true_roi"] = truth
    roi["inside_90"] = (roi["lower"] <= truth) & (truth <= roi["upper"])
    with pd.option_context("display.float_format", "{:,.3f}".format, "display.width", 120):
        print("\nROI by channel (revenue per unit spend, 90% HDI):")
        print(roi)
    print("\nConvergence:", fit.convergence.message())
    path = fit.save(args.out)
    print(f"bundle written to {path}/  (reload with bm.load('{path}'))")
    return 0 if fit.converged else 1


if __name__ == "__main__":
    sys.exit(main())
