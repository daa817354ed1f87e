"""Fit Meridian's demo geo panel (40 geos × 156 weeks) with bayes_mmm and report time,
convergence and peak memory.

Data: ``../shared/external/meridian/geo_all_channels.csv`` (Apache-2.0, Google Meridian's
simulated demo panel): 5 paid channels as impressions with their spend, 1 organic channel,
a promo, 2 controls, population; revenue = conversions × revenue_per_conversion.

Run: .venv/bin/python benchmarks/bench_meridian.py [--chains 4 --draws 1000 --tune 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pandas as pd

import bayes_mmm as bm

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT.parent / "shared" / "external" / "meridian" / "geo_all_channels.csv"


def load(path: Path = CSV) -> bm.MMMData:
    df = pd.read_csv(path, index_col=0)
    df["revenue"] = df["conversions"] * df["revenue_per_conversion"]
    media = [f"Channel{i}_impression" for i in range(5)]
    return bm.MMMData.from_frame(
        df,
        date="time",
        target="revenue",
        geo="geo",
        media=media,
        spend={m: m.replace("_impression", "_spend") for m in media},
        organic=["Organic_channel0_impression"],
        controls=["competitor_sales_control", "sentiment_score_control", "Promo"],
        population="population",
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target-accept", type=float, default=None)
    p.add_argument(
        "--centred",
        nargs="*",
        default=[],
        help="channels sampled centred (ModelSpec.centred), e.g. Channel2_impression",
    )
    p.add_argument("--report", default=None, help="also write the HTML report here (memory check)")
    p.add_argument("--save", default=None, help="also save the fit bundle here (to inspect later)")
    p.add_argument("--adaptation", default=None, help="nutpie mass-matrix adaptation")
    p.add_argument(
        "--sampler-kwargs",
        default="{}",
        help='more nutpie.sample options as JSON, e.g. {"maxdepth": 8}',
    )
    p.add_argument(
        "--float32",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ModelSpec(float32=True) / --no-float32: False; default None (by panel size)",
    )
    args = p.parse_args()
    extra = {} if args.target_accept is None else {"target_accept": args.target_accept}
    kwargs = json.loads(args.sampler_kwargs)
    if args.adaptation:
        kwargs["adaptation"] = args.adaptation
    if kwargs:
        extra["sampler_kwargs"] = kwargs
    t0 = time.perf_counter()
    data = load()
    fit = bm.fit(
        data,
        bm.ModelSpec(centred=tuple(args.centred), float32=args.float32),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progress=False,
        **extra,
    )
    t_fit = time.perf_counter() - t0
    roi = fit.roi()
    t_all = time.perf_counter() - t0
    rss_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_report = None
    if args.report:
        t = time.perf_counter()
        fit.roi(by="geo")
        fit.mean_contributions()
        fit.report(args.report)
        t_report = round(time.perf_counter() - t, 1)
    out = {
        "panel": repr(data),
        "settings": vars(args),
        "fit_wall_s": round(t_fit, 1),
        "compile_s": round(fit.meta["compile_s"], 1),
        "sample_s": round(fit.meta["sample_s"], 1),
        "fit_plus_roi_s": round(t_all, 1),
        "verdict": fit.convergence.message(),
        "min_ess_bulk": float(fit.diagnostics()["ess_bulk"].min()),
        "picked": {
            k: fit.meta.get(k) for k in ("float32", "adaptation", "target_accept", "centring")
        },
        "steps_per_draw": float(fit.idata["sample_stats"]["n_steps"].mean()),
        "step_size": float(fit.idata["sample_stats"]["step_size"].mean()),
        "peak_rss_fit_roi_mib": round(rss_fit),
        "report_s": t_report,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(out, indent=2))
    print(roi)
    print("slowest parameters:")
    print(fit.diagnostics().sort_values("ess_bulk").head(8))
    if args.save:
        fit.save(args.save)


if __name__ == "__main__":
    main()
