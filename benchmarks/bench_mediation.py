"""Mediation recovery study: the seed-003 acceptance over generator seeds of its panel.

The acceptance asks, on the shipped national dataset, for a converged fit, a price effect whose 90%
interval lies below 0, and the true direct and indirect effect of each of the four upstream
channels inside its 90% interval: eight 90% intervals at once. How often does that hold on
a dataset drawn by the same generator? For each generator seed of
``bayes_mmm.simulate.simulate_drivers`` (156 weeks), the acceptance fit of
``tests/test_mediation.py`` (default seed-003 spec, 4 × 1000 draws, 1000 tune) is run and
reported:

- the gates: ``converged``, ``divergences``, ``r_hat``;
- ``price_below_0`` (the 90% HDI's upper end < 0) and ``price_covered``;
- ``direct``, ``indirect``, ``total``: how many of the four true effects lie in their 90%
  HDIs, ``misses`` which ones, and ``accept`` (the whole acceptance);
- the posterior quantile of each true effect and of each channel's true parameters
  (``pit`` rows; a calibrated posterior gives uniform quantiles) and the posterior mean over
  the truth (``ratio``).

``--sampler-seeds`` refits each generator seed with several NUTS seeds: a truth close to an
interval's end is covered by some chains and not others.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_mediation.py --seeds $(seq 1 40) \\
        --out runs/bench_mediation
    nice -n 10 .venv/bin/python benchmarks/bench_mediation.py --seeds 1 2 \\
        --sampler-seeds 1 2 3 4 5 6 --out runs/bench_mediation_nuts
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayes_mmm as bm
from bayes_mmm.mediation import mediation_draws
from bayes_mmm.simulate import seed003_setup, simulate_drivers

PARAMS = ("mediator_coef", "alpha", "ec", "slope", "beta")


def one_fit(data, truth, params, spec, random_seed: int, args) -> dict:
    """The acceptance fit on one panel: gates, coverage and posterior quantiles of the truth."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the verdict is in the row
        fit = bm.fit(
            data,
            spec,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            random_seed=random_seed,
            progress=False,
        )
    gates = fit.convergence.to_frame()["value"]
    price = fit.drivers(hdi_prob=0.9, mediation=False).loc["average_price"]
    med = fit.mediation(hdi_prob=0.9)
    true = np.array([truth[f"{p} {e}"] for p, e in med.index])
    covered = pd.Series((med["lower"] <= true) & (true <= med["upper"]), index=med.index)
    row = {
        "fit_s": round(time.perf_counter() - t0, 1),
        "converged": bool(fit.converged),
        "divergences": int(gates["divergences"]),
        "r_hat": round(float(gates["r_hat"]), 4),
        "price_below_0": bool(price["upper"] < 0),
        "price_covered": bool(price["lower"] <= truth["average_price"] <= price["upper"]),
    }
    for effect in ("direct", "indirect", "total"):
        row[effect] = int(covered.xs(effect, level="effect").sum())
    row["misses"] = [f"{p} {e}" for (p, e), ok in covered.items() if not ok]
    row["accept"] = bool(
        row["converged"] and row["price_below_0"] and row["direct"] + row["indirect"] == 8
    )
    draws = mediation_draws(fit)
    for effect in ("direct", "indirect", "total"):
        for path in draws.path.values:
            d = draws[effect].sel(path=path).values.ravel()
            t = truth[f"{path} {effect}"]
            row[f"pit {path} {effect}"] = float((d < t).mean())
            row[f"ratio {path} {effect}"] = float(d.mean() / t)
    post = fit.idata.posterior
    names = list(data.channels)  # paid then organic, as the model's channel dim
    for name in PARAMS:
        value = post[name].values.reshape(-1, post[name].values[0, 0].size)
        truth_value = np.asarray(params[name], float).ravel()
        labels = list(spec.mediators["google_spend"]) if name == "mediator_coef" else names
        for i, label in enumerate(labels):
            row[f"pit {name}[{label}]"] = float((value[:, i] < truth_value[i]).mean())
    return row


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per effect / parameter: mean posterior quantile of the truth, share inside the
    central 90% (equal-tailed), below the 5% and above the 95% quantile, mean ratio."""
    pits = [c for c in rows.columns if c.startswith("pit ")]
    out = pd.DataFrame(
        {
            "mean_quantile": rows[pits].mean(),
            "inside_90": ((rows[pits] > 0.05) & (rows[pits] < 0.95)).mean(),
            "truth_below": (rows[pits] < 0.05).mean(),
            "truth_above": (rows[pits] > 0.95).mean(),
        }
    )
    out.index = [c[4:] for c in pits]
    ratios = {c[6:]: rows[c].mean() for c in rows.columns if c.startswith("ratio ")}
    out["mean_over_truth"] = pd.Series(ratios)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 21)))
    ap.add_argument("--sampler-seeds", type=int, nargs="+", default=[3])
    ap.add_argument("--weeks", type=int, default=156)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--out", default="runs/bench_mediation")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kwargs, spec = seed003_setup()
    rows = []
    for seed in args.seeds:
        frame, truth, params = simulate_drivers(n_weeks=args.weeks, seed=seed)
        data = bm.MMMData.from_frame(frame, **kwargs)
        for random_seed in args.sampler_seeds:
            row = {"seed": seed, "random_seed": random_seed}
            row.update(one_fit(data, truth["value"], params, spec, random_seed, args))
            rows.append(row)
            brief = {k: v for k, v in row.items() if not k.startswith(("pit ", "ratio "))}
            print(json.dumps(brief), flush=True)
    table = pd.DataFrame(rows)
    (out / "mediation.json").write_text(json.dumps({"settings": vars(args), "rows": rows}))
    cols = ["seed", "random_seed", "converged", "divergences", "r_hat", "price_below_0"]
    cols += ["price_covered", "direct", "indirect", "total", "accept", "misses"]
    print(table[cols].to_string(index=False))
    print(f"acceptance holds on {int(table['accept'].sum())} of {len(table)} fits")
    print(summary(table).round(3).to_string())


if __name__ == "__main__":
    main()
