"""Brand × geo panels: one pooled fit against separate per-brand fits.

A ``bm.simulate`` panel of ``--brands × --geos`` geos is relabelled as brands × geos and
fitted once as a brand × geo panel (``MMMData.from_panel_frame``: geos pooled within
brands, brands around the channel), then once per brand on that brand's geos alone. For
each brand and channel it prints the true ROI (the spend-weighted true ROI of the brand's
geos), whether the pooled 90% interval covers it, and the interval widths of the pooled
and the separate fits: what pooling buys. Fits are cached like ``bench_rf``'s.

``bm.compare`` ranks fits of one data set, and the pooled and separate fits see different
data, so the predictive side of the comparison is per brand: the pooled fit's pointwise
ELPD-LOO (``bayes_mmm.loo.loo``) summed over the brand's (date, geo) observations, against
the separate fit's on the same observations, with the standard error of the pointwise
difference. Both models scale the target per unit (a geo's mean), so the two
log-likelihoods are of the same numbers.

Run: .venv/bin/python benchmarks/bench_brand.py [--brands 3 --geos 8 --weeks 156]
     [--chains 4 --draws 1000 --tune 1000]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from bench_rf import ROOT, fit_timed  # the benchmarks folder is on sys.path as a script

import bayes_mmm as bm
from bayes_mmm.data import MMMData
from bayes_mmm.loo import loo

ARGS = dict(date="date", target="revenue", controls=["control_1"])


def brand_panel(args):
    """The simulated frame relabelled ``B0/g0`` …, its truth and the brand of each geo."""
    n = args.brands * args.geos
    frame, truth = bm.simulate(
        n_geos=n, n_weeks=args.weeks, n_channels=args.channels, seed=args.seed
    )
    geos = list(dict.fromkeys(frame["geo"]))
    index = frame["geo"].map({g: i for i, g in enumerate(geos)})
    frame = frame.assign(brand=[f"B{i // args.geos}" for i in index], unit=index % args.geos)
    frame["geo"] = "g" + frame["unit"].astype(str)
    return frame.drop(columns="unit"), truth, geos


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("brands", 3), ("geos", 8), ("weeks", 156), ("channels", 3)):
        p.add_argument(f"--{name}", type=int, default=default)
    for name, default in (("chains", 4), ("draws", 1000), ("tune", 1000), ("seed", 1)):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--cache", default=str(ROOT / "benchmarks" / ".cache"))
    args = p.parse_args()
    frame, truth, _ = brand_panel(args)
    media = [c for c in truth.roi.index]
    spec = bm.ModelSpec()
    size = f"{args.brands}x{args.geos}x{args.weeks}"
    data = MMMData.from_panel_frame(frame, brand="brand", geo="geo", media=media, **ARGS)
    pooled, wall = fit_timed(data, spec, args, f"brand_pooled_{size}")
    roi = pooled.roi(by="brand")
    spend = data.spend.sum(axis=0)  # (unit, group), units in simulated geo order
    true_by_unit = truth.roi_by_geo.to_numpy()
    out = {"pooled": {"wall_s": round(wall, 1), "verdict": pooled.convergence.message()}}
    pooled_i = loo(pooled, label="pooled").elpd_i  # (date, geo), geos "B0/g0", …
    for b in range(args.brands):
        units = slice(b * args.geos, (b + 1) * args.geos)
        alone = frame[frame["brand"] == f"B{b}"].drop(columns="brand")
        sep, wall_b = fit_timed(
            MMMData.from_frame(alone, geo="geo", media=media, **ARGS),
            spec,
            args,
            f"brand_alone_{size}_B{b}",
        )
        width = (sep.roi()["upper"] - sep.roi()["lower"]).round(3)
        true = (true_by_unit[units] * spend[units]).sum(0) / spend[units].sum(0)
        rows = {}
        for c, channel in enumerate(data.group_labels):
            row = roi.loc[(f"B{b}", channel)]
            rows[channel] = {
                "true": round(float(true[c]), 3),
                "covered": bool(row["lower"] <= true[c] <= row["upper"]),
                "width_pooled": round(float(row["upper"] - row["lower"]), 3),
                "width_alone": float(width.loc[channel]),
            }
        alone_i = loo(sep, label=f"B{b} alone").elpd_i
        mine = pooled_i.sel(geo=[f"B{b}/{g}" for g in alone_i["geo"].values]).values
        diff = (mine - alone_i.values).ravel()
        out[f"B{b}"] = {
            "wall_s": round(wall_b, 1),
            "converged": bool(sep.converged),
            "verdict_alone": sep.convergence.message(),
            "elpd_pooled": round(float(mine.sum()), 1),
            "elpd_alone": round(float(alone_i.values.sum()), 1),
            "elpd_diff": round(float(diff.sum()), 1),
            "elpd_diff_se": round(float(np.sqrt(diff.size * diff.var())), 1),
            "roi": rows,
        }
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
