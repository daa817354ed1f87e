"""Geo panels at the default settings: does ``bm.fit(data)`` pass every convergence gate?

Panels: ``bm.simulate(n_geos=G, n_weeks=W, seed=s)`` (5 paid channels, one control, the
simulator's own truth), for G in ``--geos`` and W in ``--weeks`` (one W per G, cycled), 5
seeds each. Each panel is fitted with ``bm.fit(data, draws=1000, tune=1000, chains=4)``
and nothing else, as a user would (a fixed sampler seed per panel, for reproducibility).
Per fit: wall time, compile time, the convergence verdict (R-hat ≤ 1.01, ESS_bulk ≥ 400,
0 divergences, BFMI ≥ 0.3), the slowest parameter, the settings the panel size picked
(``fit.meta``) and how many true ROIs fall inside the 90% credible interval.

Usage
-----
    .venv/bin/python benchmarks/bench_geo_panels.py [--geos 5 10 20] [--weeks 156 104 156]
        [--seeds 1 2 3 4 5] [--out runs/geo_panels]

Writes ``--out/results.json`` (one record per fit, appended as each finishes) and prints a
markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import bayes_mmm as bm


def fit_panel(
    n_geos: int, n_weeks: int, seed: int, draws: int, tune: int, chains: int, spec=None, **kw
) -> dict:
    """Simulate one panel (from ``spec``'s kinds), fit it at the defaults (under ``spec``;
    ``kw`` passed to ``bm.fit``, e.g. ``target_accept``) and report gates and coverage."""
    fit, truth, wall = simulate_and_fit(n_geos, n_weeks, seed, draws, tune, chains, spec, **kw)
    return {"geos": n_geos, "weeks": n_weeks, "seed": seed, **summary(fit, truth, wall)}


def simulate_and_fit(
    n_geos: int, n_weeks: int, seed: int, draws: int, tune: int, chains: int, spec=None, **kw
) -> tuple[bm.Fit, object, float]:
    """``bm.simulate(n_geos, n_weeks, seed, spec)`` fitted under ``spec`` with sampler seed
    ``seed`` (``kw`` passed to ``bm.fit``): the fit, the simulator's truth and the fit's
    wall time in seconds."""
    frame, truth = bm.simulate(n_geos=n_geos, n_weeks=n_weeks, seed=seed, spec=spec)
    channels = [str(c) for c in truth.contributions.channel.values]
    data = bm.MMMData.from_frame(
        frame, date="date", target="revenue", media=channels, geo="geo", controls=["control_1"]
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.fit(
            data,
            spec,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            progress=False,
            **kw,
        )
    return fit, truth, time.perf_counter() - t0


def summary(fit: bm.Fit, truth, wall: float) -> dict:
    """A fit's wall time, gates, settings and how many true ROIs its 90% intervals cover."""
    conv = fit.convergence
    diag = fit.diagnostics()
    roi = fit.roi(hdi_prob=0.9)
    true = truth.roi.reindex(roi.index)
    inside = int(((roi["lower"] <= true) & (true <= roi["upper"])).sum())
    return {
        "wall_s": round(wall, 1),
        "compile_s": round(fit.meta["compile_s"], 1),
        "converged": bool(fit.converged),
        "verdict": conv.message(),
        "max_r_hat": round(float(diag["r_hat"].max()), 4),
        "min_ess_bulk": round(float(diag["ess_bulk"].min())),
        "divergences": int(diag.attrs["divergences"]),
        "slowest": str(diag["ess_bulk"].idxmin()),
        "steps_per_draw": round(float(fit.idata["sample_stats"]["n_steps"].mean()), 1),
        "float32": fit.meta.get("float32"),
        "centring": fit.meta.get("centring"),
        "roi_inside_90": f"{inside}/{len(roi)}",
    }


def table(rows: list[dict]) -> str:
    head = (
        "| geos | weeks | seed | wall s | compile s | gates | max R-hat | min ESS | div. | "
        "steps/draw | slowest | float32 | true ROI in 90% CI |\n" + "|---" * 13 + "|\n"
    )
    body = "".join(
        f"| {r['geos']} | {r['weeks']} | {r['seed']} | {r['wall_s']} | {r['compile_s']} | "
        f"{'pass' if r['converged'] else '**fail**'} | {r['max_r_hat']} | {r['min_ess_bulk']} | "
        f"{r['divergences']} | {r['steps_per_draw']} | `{r['slowest']}` | {r['float32']} | "
        f"{r['roi_inside_90']} |\n"
        for r in rows
    )
    passed = sum(r["converged"] for r in rows)
    return head + body + f"\n{passed} of {len(rows)} fits pass every gate.\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--geos", type=int, nargs="+", default=[5, 10, 20])
    p.add_argument("--weeks", type=int, nargs="+", default=[156, 104, 156])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = sampler_arguments(p, "runs/geo_panels")
    record = recorder(Path(args.out) / "results.json", args)
    rows = []
    for i, g in enumerate(args.geos):
        weeks = args.weeks[i % len(args.weeks)]
        for seed in args.seeds:
            rows = record(fit_panel(g, weeks, seed, args.draws, args.tune, args.chains))
    print(table(rows))


def sampler_arguments(p: argparse.ArgumentParser, out: str) -> argparse.Namespace:
    """Parse ``p`` with the acceptance settings' options added (4 × 1000 after 1000)."""
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--out", default=out)
    return p.parse_args()


def recorder(path: Path, args: argparse.Namespace):
    """A function that stamps a fit's record with the machine load, prints it and rewrites
    ``path`` with every record so far (a run killed midway keeps its finished fits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    rows: list[dict] = []

    def record(row: dict) -> list[dict]:
        row["load_1min"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
        path.write_text(
            json.dumps({"started": started, "args": vars(args), "fits": rows}, indent=1)
        )
        return rows

    return record


if __name__ == "__main__":
    main()
