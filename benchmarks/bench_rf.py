"""Reach-and-frequency channels: Meridian's R&F panel, recovery on simulated panels, and
the cost of an R&F channel against the same channel as plain impressions.

Modes
-----
meridian : fit ``../shared/external/meridian/geo_media_rf.csv`` (Apache-2.0, Google
    Meridian's simulated R&F demo panel) with Channel3 as an R&F channel (reach, frequency,
    spend); print convergence, ROI and the optimal frequency.
recovery : fit ``simulate_rf`` panels (seeds ``--seeds``) and report whether the true ROI
    and the true optimal frequency lie in their 90% intervals.
speed : a ``--geos``-geo weekly ``simulate_rf`` panel fitted with video as R&F and with
    video as impressions (reach × frequency), each fit in a fresh process, ``--repeats``
    rounds in alternating order; print the wall times and the ratios of their medians.

Fits are cached under ``--cache`` (default ``benchmarks/.cache/``, git-ignored), one
bundle per mode, seed and size, and read back on a rerun (the wall time reported is the
original fit's); ``--cache ''`` refits.

Run: .venv/bin/python benchmarks/bench_rf.py meridian [--chains 4 --draws 1000 --tune 1000]
     .venv/bin/python benchmarks/bench_rf.py recovery --seeds 0 1 2
     .venv/bin/python benchmarks/bench_rf.py speed --geos 40
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import bayes_mmm as bm
from bayes_mmm.simulate_rf import RF_COLUMNS, simulate_rf

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT.parent / "shared" / "external" / "meridian" / "geo_media_rf.csv"
MEDIA = [f"Channel{i}_impression" for i in range(3)]


def load_meridian(path: Path = CSV) -> bm.MMMData:
    df = pd.read_csv(path)
    df["revenue"] = df["conversions"] * df["revenue_per_conversion"]
    spend = {m: m.replace("_impression", "_spend") for m in MEDIA} | {"Channel3": "Channel3_spend"}
    return bm.MMMData.from_frame(
        df,
        date="time",
        target="revenue",
        geo="geo",
        media=MEDIA,
        spend=spend,
        controls=["competitor_activity_score_control", "sentiment_score_control"],
        population="population",
        reach_frequency={"Channel3": ("Channel3_reach", "Channel3_frequency")},
    )


def fit_timed(data, spec, args, name: str = "") -> tuple[bm.Fit, float]:
    """Fit (or read back the cached fit ``name``) and the fit's wall time in seconds."""
    key = f"{name}_c{args.chains}_d{args.draws}_t{args.tune}_s{args.seed}" if name else ""
    cache = getattr(args, "cache", "")  # bench_daily's arguments have none
    path = Path(cache) / key if cache and key else None
    if path is not None and path.exists():
        fit = bm.load(path)
        return fit, float(fit.meta.get("wall_s", float("nan")))
    start = time.perf_counter()
    fit = bm.fit(
        data,
        spec,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progress=False,
    )
    if path is not None:
        fit.save(path)
    return fit, time.perf_counter() - start


def meridian(args) -> None:
    fit, wall = fit_timed(load_meridian(), bm.ModelSpec(), args, "meridian")
    print(json.dumps({"wall_s": round(wall, 1), "verdict": fit.convergence.message()}))
    print(fit.diagnostics().agg({"r_hat": "max", "ess_bulk": "min", "ess_tail": "min"}))
    print(fit.roi())
    print(fit.optimal_frequency())
    plan_rf(fit)


def plan_rf(fit: bm.Fit, weeks: int = 13) -> None:
    """The last ``weeks`` weeks' budget re-planned within ±30% of each group's spend, R&F
    at its historical and at its optimal frequency."""
    budget = float(fit.data.spend[-weeks:].sum())
    bounds = {g: (0.7, 1.3) for g in fit.data.group_labels}
    how = {"weeks": weeks, "bounds": bounds, "bounds_relative": True, "allow_unconverged": True}
    for mode in ("history", "optimal"):
        plan = fit.optimize(budget, rf_frequency=mode, **how)
        print(f"rf_frequency={mode}: P(better)={plan.prob_better:.2f}")
        print(plan.table[["current", "optimal", "mroi_mean", "mroi_lower", "mroi_upper"]])


def recovery(args) -> None:
    spec = bm.ModelSpec(l_max=6, trend=False, yearly_seasonality=0)
    for seed in args.seeds:
        frame, truth = simulate_rf(n_geos=args.geos, n_weeks=args.weeks, seed=seed)
        data = bm.MMMData.from_frame(frame, **RF_COLUMNS)
        fit, wall = fit_timed(data, spec, args, f"recovery_g{args.geos}_w{args.weeks}_{seed}")
        roi, best = fit.roi(), fit.optimal_frequency().loc["video"]
        covered = {
            c: bool(roi.loc[c, "lower"] <= truth.roi[c] <= roi.loc[c, "upper"])
            for c in truth.roi.index
        }
        covered["optimal_frequency"] = bool(
            best["lower"] - 0.1 <= truth.optimal_frequency <= best["upper"] + 0.1
        )
        print(
            json.dumps(
                {
                    "seed": seed,
                    "wall_s": round(wall, 1),
                    "converged": fit.posterior.converged,
                    "covered": covered,
                    "true_roi": truth.roi.round(3).to_dict(),
                    "roi": roi[["mean", "lower", "upper"]].round(3).to_dict("index"),
                    "true_optimal_frequency": truth.optimal_frequency,
                    "optimal_frequency": best[["mean", "lower", "upper"]].round(2).to_dict(),
                }
            )
        )


def _speed_panel(args, variant: str) -> bm.MMMData:
    """The speed mode's panel with video as R&F (``"rf"``) or as impressions."""
    frame, _ = simulate_rf(n_geos=args.geos, n_weeks=args.weeks, seed=args.seed)
    if variant == "rf":
        return bm.MMMData.from_frame(frame, **RF_COLUMNS)
    frame = frame.assign(video=frame.video_reach * frame.video_frequency)
    plain = {**RF_COLUMNS, "media": ["tv", "video"], "reach_frequency": None}
    return bm.MMMData.from_frame(frame, **plain)


def speed_fit(args) -> None:
    """One speed fit in this process: the fit's wall time, as a user's first fit."""
    spec = bm.ModelSpec(l_max=6, trend=False, yearly_seasonality=0)
    fit, wall = fit_timed(_speed_panel(args, args.variant), spec, args)
    out = {"wall_s": round(wall, 1), "sample_s": round(fit.meta["sample_s"], 1)}
    print(json.dumps({**out, "converged": bool(fit.posterior.converged)}))


def speed(args) -> None:
    """Each fit in a fresh process (warm disk caches), alternating the variants over
    ``--repeats`` rounds, so that neither pays the other's one-off costs."""
    import subprocess
    import sys

    runs: dict[str, list] = {"rf": [], "impressions": []}
    for r in range(args.repeats):
        for variant in ("rf", "impressions") if r % 2 == 0 else ("impressions", "rf"):
            cmd = [sys.executable, __file__, "speed-fit", "--variant", variant]
            cmd += [f"--{k}={getattr(args, k)}" for k in ("geos", "weeks", "seed")]
            cmd += [f"--{k}={getattr(args, k)}" for k in ("chains", "draws", "tune")]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    out: dict = {name: values for name, values in runs.items()}
    for key in ("wall_s", "sample_s"):
        med = {n: float(np.median([v[key] for v in vals])) for n, vals in runs.items()}
        out[f"ratio_{key}"] = round(med["rf"] / med["impressions"], 2)
    print(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["meridian", "recovery", "speed", "speed-fit"])
    p.add_argument("--variant", choices=["rf", "impressions"], default="rf")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--geos", type=int, default=5)
    p.add_argument("--weeks", type=int, default=104)
    p.add_argument("--cache", default=str(ROOT / "benchmarks" / ".cache"))
    args = p.parse_args()
    modes = {"meridian": meridian, "recovery": recovery, "speed": speed, "speed-fit": speed_fit}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
