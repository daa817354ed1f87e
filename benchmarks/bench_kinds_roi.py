"""Per-channel ROI against the truth for one saturation or adstock kind on the 10-geo panel.

The same panel and fit as ``bench_kinds_recovery.py --panels 10-geo`` (``bm.simulate`` with
the kind's truth, 10 geos × 156 weeks, seed ``--seed``; ``bm.fit`` at the defaults with
``random_seed=seed``), printed channel by channel: the posterior mean, 90% HDI and the true
ROI, then the posterior mean of the kind's parameters beside their true values.

Usage:
    .venv/bin/python benchmarks/bench_kinds_roi.py tanh [--seed 1]
"""

from __future__ import annotations

import argparse
import warnings

import bayes_mmm as bm
from bayes_mmm.kinds import ADSTOCKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spec = bm.ModelSpec(**{"adstock" if args.kind in ADSTOCKS else "saturation": args.kind})
    frame, truth = bm.simulate(n_geos=10, n_weeks=156, seed=args.seed, spec=spec)
    channels = [str(c) for c in truth.contributions.channel.values]
    data = bm.MMMData.from_frame(
        frame, date="date", target="revenue", media=channels, geo="geo", controls=["control_1"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(data, spec, random_seed=args.seed, progress=False)
    roi = fit.roi(hdi_prob=0.9)
    roi["truth"] = truth.roi.reindex(roi.index)
    roi["inside"] = (roi["lower"] <= roi["truth"]) & (roi["truth"] <= roi["upper"])
    print(f"{args.kind}: converged {fit.converged}")
    print(roi.round(3).to_string())
    post = fit.idata["posterior"]
    for name, value in truth.params.items():
        if name in post and post[name].ndim == 3:  # (chain, draw, channel)
            print(
                name,
                "true",
                value.round(3),
                "posterior mean",
                post[name].mean(("chain", "draw")).values.round(3),
            )


if __name__ == "__main__":
    main()
