"""Static vs time-varying model on panels whose truth drifts (issue 19's acceptance).

Panels: ``bm.simulate(n_geos=G, n_weeks=W, seed=s, baseline_drift=B, media_seasonality=M)``
(5 paid channels, one control). ``--drift`` panels have a drifting baseline (``B``) and a
seasonal media multiplier (``M``); ``--static`` panels have neither (B = M = 0), the check
that the time-varying model costs little when there is nothing to find. ``--kind demo``
fits the shipped demo panel (``bayes_mmm.datasets.demo_panel``, a static truth), the
panel of the issue's speed line. Each panel is
fitted twice with the same sampler settings and seed:

- ``static``: ``ModelSpec()`` (linear trend, constant effects);
- ``tv``: ``ModelSpec(time_varying_intercept=True, time_varying_media=True)``.

Per fit: compile and sampling seconds (``fit.meta``), the convergence verdict, how many
true ROIs fall in the 90% interval, the mean absolute relative ROI error, the mean width
of the ROI intervals, and ``compare()``'s ELPD-LOO table for the pair (difference and its
SE). The true ROI includes the true multiplier (held at its last value over the
carryover tail, as the analysis does).

Usage
-----
    .venv/bin/python benchmarks/bench_time_varying.py [--geos 10] [--weeks 156]
        [--seeds 1 2 3] [--draws 1000] [--tune 1000] [--chains 4] [--kind drift static]
        [--out runs/time_varying]

``--c-max C`` caps the HSGP boundary factor ``c`` (``L = c · S``) at ``C`` and sizes ``m``
for the prior's shortest length scale at that ``c`` (``m = ⌈3.2 c S / ℓ_5%⌉``, Riutort-Mayol
et al. 2022), in place of ``bayes_mmm.hsgp.basis``'s PyMC heuristic over the prior's 5%–95%
length scales (on 156 weeks with ``l_max`` 8 that heuristic gives ``c`` 7.3 and ``m`` 40,
clipped). An experiment on the basis's conditioning, not a package option.
``--adaptation A`` passes nutpie's mass-matrix adaptation (e.g. ``low_rank``) to every fit,
``--target-accept T`` ``bm.fit``'s ``target_accept``; ``--models tv`` fits only the
time-varying spec (no ``compare()`` then).

Writes ``--out/results.json`` (one record per fit, appended as each finishes) and prints a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy import stats

import bayes_mmm as bm
from bayes_mmm import datasets, hsgp

SPECS = {
    "static": bm.ModelSpec(),
    "tv": bm.ModelSpec(time_varying_intercept=True, time_varying_media=True),
}
DRIFT = {"drift": dict(baseline_drift=0.08, media_seasonality=0.35), "static": {}, "demo": {}}


def panel(kind: str, n_geos: int, n_weeks: int, seed: int):
    """The simulated panel and its truth; ``demo``: the shipped demo panel (its truth's ROI
    only; the panel, the size and the seed of ``--geos``/``--weeks``/``--seeds`` aside)."""
    if kind == "demo":
        channels = ["tv", "search", "social", "display", "radio"]
        data = bm.MMMData.from_frame(
            datasets.demo_panel(), date="date", target="revenue", media=channels, geo="geo",
            controls=["price_index"],
        )  # fmt: skip
        return data, SimpleNamespace(roi=datasets.demo_truth())
    frame, truth = bm.simulate(n_geos=n_geos, n_weeks=n_weeks, seed=seed, **DRIFT[kind])
    channels = [str(c) for c in truth.contributions.channel.values]
    geo = "geo" if n_geos > 1 else None
    data = bm.MMMData.from_frame(
        frame, date="date", target="revenue", media=channels, geo=geo, controls=["control_1"]
    )
    return data, truth


def conditioning(fit) -> dict:
    """Smallest eigenvalue of the posterior correlation of each HSGP's sampled unit
    normals (``tv_media_z``: all processes; ``tv_intercept_z``: the smallest over geos), one
    per history-aligned direction (``bayes_mmm.hsgp.frame``). Near 0: the data pin an
    oblique combination of them, a narrow direction NUTS needs long trajectories to cross."""
    post = fit.idata["posterior"]
    out = {}
    for name in ("tv_media_z", "tv_intercept_z"):
        if name not in post:
            continue
        z = post[name].values
        z = z.reshape(-1, z.shape[2], z.shape[3])  # (draw, basis, batch)
        eig = []
        for k in range(z.shape[2]):
            x = z[:, :, k]
            eig.append(float(np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[0]))
        out[f"{name}_min_eig"] = round(min(eig), 4)
    return out


def amplitudes_at_divergences(fit) -> dict:
    """Each HSGP amplitude's posterior median and its values at the divergent draws (the
    largest over processes where each process has its own)."""
    post, sample_stats = fit.idata["posterior"], fit.idata["sample_stats"]
    div = sample_stats["diverging"].values.reshape(-1).astype(bool)
    out = {}
    for name in ("tv_intercept_eta", "tv_media_eta"):
        if name in post:
            v = post[name].values.reshape(div.size, -1)  # (draw, process): one or per process
            out[f"{name}_median"] = round(float(np.median(v)), 4)
            out[f"{name}_at_divergences"] = [round(float(x), 4) for x in v[div].max(axis=1)]
    return out


def score(fit, truth) -> dict:
    """Convergence, ROI coverage, error and interval width of one fit."""
    diag = fit.diagnostics()
    roi = fit.roi(hdi_prob=0.9)
    true = truth.roi.reindex(roi.index)
    inside = (roi["lower"] <= true) & (true <= roi["upper"])
    sample_stats = fit.idata["sample_stats"]
    return conditioning(fit) | {
        "compile_s": round(fit.meta["compile_s"], 1),
        "sample_s": round(fit.meta["sample_s"], 1),
        "converged": bool(fit.converged),
        "max_r_hat": round(float(diag["r_hat"].max()), 4),
        "min_ess_bulk": round(float(diag["ess_bulk"].min())),
        "divergences": int(diag.attrs["divergences"]),
        "slowest": str(diag["r_hat"].idxmax()),
        **amplitudes_at_divergences(fit),
        "steps_per_draw": round(float(sample_stats["n_steps"].mean()), 1)
        if "n_steps" in sample_stats
        else None,
        "roi_covered": f"{int(inside.sum())}/{len(inside)}",
        "roi_missed": [str(c) for c in inside.index[~inside]],
        "roi_abs_rel_err": round(float((abs(roi["mean"] - true) / true).mean()), 3),
        "roi_width": round(float((roi["upper"] - roi["lower"]).mean()), 3),
    }


def capped_basis(c_max: float):
    """``hsgp.basis`` with the boundary factor capped at ``c_max`` (see the module doc)."""
    default = hsgp.basis
    q05 = stats.gamma.ppf(0.05, hsgp.LS_SHAPE, scale=1.0 / hsgp.LS_RATE)

    def basis(n_dates: int, l_max: int) -> hsgp.Basis:
        b = default(n_dates, l_max)
        half = max(n_dates - 1, 1) / 2.0
        c = min(b.L / half, c_max)
        m = int(np.clip(np.ceil(3.2 * c * half / (b.floor * (1.0 + q05))), hsgp.M_MIN, hsgp.M_MAX))
        return hsgp.Basis(m=m, L=c * half, floor=b.floor)

    return basis


def run(args) -> list[dict]:
    if args.c_max is not None:
        hsgp.basis = capped_basis(args.c_max)
        print("basis for 156 weeks, l_max 8:", hsgp.basis(156, 8), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    sampler_kwargs = {"adaptation": args.adaptation} if args.adaptation else None
    specs = {name: SPECS[name] for name in args.models}
    for kind in args.kind:
        for seed in args.seeds:
            data, truth = panel(kind, args.geos, args.weeks, seed)
            fits = {}
            for name, spec in specs.items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fits[name] = bm.fit(
                        data, spec, draws=args.draws, tune=args.tune, chains=args.chains,
                        random_seed=seed, progress=False, sampler_kwargs=sampler_kwargs,
                        target_accept=args.target_accept,
                    )  # fmt: skip
                rec = {"panel": kind, "seed": seed, "model": name, "c_max": args.c_max}
                rec["adaptation"] = fits[name].meta["adaptation"]
                rec.update(score(fits[name], truth), wall_s=round(time.perf_counter() - t0, 1))
                records.append(rec)
            done = records[-len(fits) :]
            if len(fits) > 1:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    table = bm.compare(fits)
                for rec in done:
                    row = table.loc[rec["model"]]
                    rec["elpd_loo"] = round(float(row["elpd_loo"]), 1)
                    rec["elpd_diff"] = round(float(row["elpd_diff"]), 1)
                    rec["elpd_se"] = round(float(row["se"]), 1)
                    rec["best"] = str(table.index[0])
            with open(out / "results.json", "a") as fh:
                for rec in done:
                    fh.write(json.dumps(rec) + "\n")
            print(*done, sep="\n", flush=True)
    return records


def markdown(records: list[dict]) -> str:
    cols = ["panel", "seed", "model", "converged", "max_r_hat", "min_ess_bulk", "divergences",
            "steps_per_draw", "roi_covered", "roi_abs_rel_err", "roi_width", "elpd_diff",
            "elpd_se", "best", "compile_s", "sample_s", "wall_s"]  # fmt: skip
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in records]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--geos", type=int, default=10)
    p.add_argument("--weeks", type=int, default=156)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--kind", nargs="+", default=["drift", "static"], choices=list(DRIFT))
    p.add_argument("--out", default=os.path.join("runs", "time_varying"))
    p.add_argument("--c-max", type=float, default=None, help="cap the HSGP boundary factor")
    p.add_argument("--adaptation", default=None, help="nutpie's mass-matrix adaptation")
    p.add_argument("--target-accept", type=float, default=None, help="bm.fit's target_accept")
    p.add_argument("--models", nargs="+", default=list(SPECS), choices=list(SPECS))
    args = p.parse_args()
    records = run(args)
    print(markdown(records))
    static = [r for r in records if r["panel"] == "static"]
    if static and len(args.models) == len(SPECS):
        width = {m: np.mean([r["roi_width"] for r in static if r["model"] == m]) for m in SPECS}
        ratio = width["tv"] / width["static"]
        print(f"static panels: tv / static mean ROI interval width {ratio:.2f}")


if __name__ == "__main__":
    main()
