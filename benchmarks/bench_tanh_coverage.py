"""Coverage of the true ROIs, and where the truth falls in the posterior, for the
tanh-shaped saturations against Hill, over many seeds of a small panel.

For each kind in ``--kinds`` and each seed in ``--seeds``: ``bm.simulate(n_geos, 156,
seed, spec=ModelSpec(saturation=kind))`` (5 paid channels, one control; true curve
parameters from the kind's truth range, ``kinds.Parameter.truth``), fitted with the same
spec (``--chains`` × ``--draws`` after as many tuning steps). Per channel it records the
true ROI, its posterior rank (the share of draws below the truth: uniform on (0, 1) for a
calibrated posterior, piled at 0 or 1 for an over-confident one), whether the 90% HDI
covers it, the same rank for the curve parameter (``lam``, ``tanh_scale``, ``ec``), the
posterior correlation of the curve parameter's log with ``beta_mu`` and whether the
channel is flighted. ``--prior NAME=SIGMA`` replaces the curve parameter's default
log-normal prior width, to test a prior against the same truths.

Usage
-----
    .venv/bin/python benchmarks/bench_tanh_coverage.py --kinds tanh logistic hill
        [--geos 5] [--seeds 1 2 3 4 5 6 7 8] [--chains 2] [--draws 500]
        [--out runs/tanh_coverage]

Writes ``--out/<geos>-geo.json`` (one record per fit, rewritten as each finishes) and
prints per kind the ROI coverage and the ranks' mean and spread. Results:
``benchmarks/KINDS.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_geo_panels import simulate_and_fit
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm.kinds import SATURATIONS
from bayes_mmm.results import roi_draws


def spec_for(kind: str, prior_sigma: float | None) -> bm.ModelSpec:
    """The spec with ``kind`` on every channel; with ``prior_sigma`` its curve parameter's
    log-normal prior has that width (median 1, as the default)."""
    spec = bm.ModelSpec(saturation=kind)
    if prior_sigma is None:
        return spec
    name = SATURATIONS[kind].names[0]
    return bm.ModelSpec(
        saturation=kind,
        priors={name: Prior("LogNormal", mu=0.0, sigma=prior_sigma, dims="channel")},
    )


def fit_one(kind: str, geos: int, seed: int, chains: int, draws: int, prior_sigma) -> dict:
    """One simulated panel and fit; per-channel ranks and coverage."""
    spec = spec_for(kind, prior_sigma)
    fit, truth, wall = simulate_and_fit(geos, 156, seed, draws, draws, chains, spec)
    channels = [str(c) for c in truth.contributions.channel.values]
    roi = fit.roi(hdi_prob=0.9)
    draws_roi = roi_draws(fit.posterior).values.reshape(-1, len(channels))
    true_roi = truth.roi.reindex(roi.index).to_numpy()
    post = fit.idata["posterior"]
    name = SATURATIONS[kind].names[0]
    curve = post[name].values.reshape(-1, len(channels))
    beta_mu = post["beta_mu"].values.reshape(-1, len(channels))
    diag = fit.diagnostics()
    flighted = (fit.posterior.data.media == 0).mean(axis=(0, 1)) > 0.05
    return {
        "kind": kind,
        "seed": seed,
        "geos": geos,
        "prior_sigma": prior_sigma,
        "wall_s": round(wall, 1),
        "max_r_hat": round(float(diag["r_hat"].max()), 4),
        "min_ess_bulk": round(float(diag["ess_bulk"].min())),
        "divergences": int(diag.attrs["divergences"]),
        "channels": channels,
        "flighted": flighted.tolist(),
        "roi_true": true_roi.round(4).tolist(),
        "roi_mean": draws_roi.mean(0).round(4).tolist(),
        "roi_rank": (draws_roi < true_roi).mean(0).round(4).tolist(),
        "roi_inside_90": ((roi["lower"] <= true_roi) & (true_roi <= roi["upper"])).tolist(),
        "curve_param": name,
        "curve_true": np.asarray(truth.params[name]).round(4).tolist(),
        "curve_mean": curve.mean(0).round(4).tolist(),
        "curve_rank": (curve < truth.params[name]).mean(0).round(4).tolist(),
        "corr_log_curve_beta_mu": [
            round(float(np.corrcoef(np.log(curve[:, c]), beta_mu[:, c])[0, 1]), 3)
            for c in range(len(channels))
        ],
    }


def summary(rows: list[dict]) -> str:
    """Per kind (and prior width): ROI coverage, ranks' mean and share in the outer 10%."""
    out = [
        "| kind | prior σ | fits | gates failed | ROI in 90% HDI | ROI rank mean | "
        "ROI rank < .05 or > .95 | curve rank mean |",
        "|---" * 8 + "|",
    ]
    keys = sorted({(r["kind"], r["prior_sigma"] or 0.0) for r in rows})
    for kind, sigma in keys:
        rs = [r for r in rows if r["kind"] == kind and (r["prior_sigma"] or 0.0) == sigma]
        inside = np.concatenate([r["roi_inside_90"] for r in rs])
        rank = np.concatenate([r["roi_rank"] for r in rs])
        curve = np.concatenate([r["curve_rank"] for r in rs])
        failed = sum(
            r["max_r_hat"] > 1.01 or r["divergences"] > 0 or r["min_ess_bulk"] < 400 for r in rs
        )
        out.append(
            f"| {kind} | {sigma or 'default'} | {len(rs)} | {failed} | "
            f"{inside.sum()}/{inside.size} | {rank.mean():.2f} | "
            f"{((rank < 0.05) | (rank > 0.95)).sum()}/{rank.size} | {curve.mean():.2f} |"
        )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kinds", nargs="+", default=["tanh", "logistic", "hill"])
    p.add_argument("--geos", type=int, default=5)
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 9)))
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--draws", type=int, default=500)
    p.add_argument("--prior", type=float, default=None, help="curve prior log-sd")
    p.add_argument("--out", default="runs/tanh_coverage")
    args = p.parse_args()
    path = Path(args.out) / f"{args.geos}-geo.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(path.read_text()) if path.exists() else []
    for seed in args.seeds:
        for kind in args.kinds:
            rows.append(fit_one(kind, args.geos, seed, args.chains, args.draws, args.prior))
            print(json.dumps(rows[-1]), flush=True)
            path.write_text(json.dumps(rows, indent=1))
    print(summary(rows))


if __name__ == "__main__":
    main()
