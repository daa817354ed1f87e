"""Regret study: does the posterior plan earn the true optimum's uplift on simulated data?

For each seed, ``bm.simulate(n_geos, n_weeks, n_channels, seed=s)`` is fitted with the
default ``ModelSpec`` (fits are saved under ``--fits`` and reused), and the 13-week budget
of the last 13 weeks is re-allocated twice: per channel (``by_geo=False``, the API
default: each channel keeps its current split across geos) and per geo × channel
(``by_geo=True``). Each posterior plan is scored under the simulator's true response
(``benchmarks/oracle.py``) as the share of the uplift of the true optimum *of the
same problem* (the optimizer run on the truth with the same ``by_geo``, 12 starts).

Reported per seed and plan kind:

- ``attainable_pct``: the true optimum's uplift as % of the window's revenue (the last
  ``weeks`` weeks of the panel), and ``attainable_media_pct`` as % of the media revenue
  of the current split: a small attainable uplift makes the share ill-conditioned.
- ``share``: the posterior plan's true uplift / the true optimum's uplift (≥ 0.95 passes),
  and ``regret_pct``: the revenue it leaves on the table, % of the window's revenue.
- ``predicted``: the posterior's own mean uplift of its plan / the true optimum's uplift
  (> ``share`` means the posterior over-promises).
- ``self_median``, ``self_q05``, ``self_q95``, ``self_p95``: the share the posterior
  expects of its own plan (``oracle.self_assessed_share``: ``--self-draws`` draws each
  taken as the truth): median, 5% and 95% quantiles, and P(share ≥ 0.95). A true share
  inside that range is a miss for lack of information, not bias.
- ``fix_<channel>``: the share when that channel's media parameters (``alpha``, ``ec``,
  ``slope``, ``beta``) in every draw are set to the truth; ``fix_<param>``: the share
  when one parameter is set to the truth for every channel (plans on
  ``--attribution-draws`` evenly spaced draws). A miss that one fix repairs is driven by
  that channel / parameter; a fix can also *lower* the share, when the posterior's
  correlated parameters compensated for one another.

And per channel: z-scores (posterior mean − truth) / posterior sd of ``slope``, ``ec``,
``alpha`` and the ROI, and whether the truth lies in the 90% HDI.

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_regret.py --seeds 1 2 3 4 5 \\
        --fits /tmp/regret_fits --out runs/bench_regret
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from oracle import (
    regret_share,
    self_assessed_share,
    simulated,
    true_draws,
    true_optimum,
    true_planner,
)

import bayes_mmm as bm
from bayes_mmm import optimize as opt
from bayes_mmm.analysis import summarize
from bayes_mmm.posterior import SAMPLE_DIMS

MEDIA_PARAMS = ("alpha", "ec", "slope", "beta")


def fit_or_load(path: Path, data, args) -> bm.Fit:
    """Load the saved fit at ``path`` or fit and save it."""
    if path.exists():
        return bm.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        size = {k: getattr(args, k) for k in ("draws", "tune", "chains")}
        if args.adaptation:  # e.g. draw_diag for many geos (see bm.fit's Notes)
            size["sampler_kwargs"] = {"adaptation": args.adaptation}
        spec = bm.ModelSpec(float32=args.float32)
        fit = bm.fit(data, spec, random_seed=1, progress=False, **size)
    fit.save(path)
    return fit


def with_truth(draws: dict, true: dict, channels=None, params=MEDIA_PARAMS) -> dict:
    """Posterior draws with ``params`` of ``channels`` (indices; all when None) replaced
    by the truth in every draw (draws: leading sample dim, channel last)."""
    out = dict(draws)
    for name in params:
        value = out[name].copy()
        idx = slice(None) if channels is None else channels
        value[..., idx] = np.broadcast_to(true[name], value.shape)[..., idx]
        out[name] = value
    return out


def plan_share(fit, draws, shape, oracle, best, by_geo, weeks):
    """The plan optimised on ``draws`` (an Allocation), its true share and the
    posterior-predicted share (its mean uplift over the true optimum's)."""
    plan = opt.planner(fit.data, fit.spec, draws, weeks=weeks)
    alloc = opt.allocate(plan, best.budget, shape, opt.Constraints(by_geo=by_geo))
    attainable = float(best.uplift.values.ravel()[0])
    return alloc, regret_share(oracle, alloc, best), float(alloc.uplift.mean()) / attainable


def thin(draws: dict, n: int) -> tuple[dict, tuple[int, int]]:
    """``n`` evenly spaced draws (all when fewer), as one chain."""
    total = len(next(iter(draws.values())))
    idx = np.linspace(0, total - 1, min(n, total)).astype(int)
    return {k: v[idx] for k, v in draws.items()}, (1, len(idx))


def recovery(fit, data, truth) -> pd.DataFrame:
    """Per channel and parameter: posterior mean, sd, truth, z-score, truth in 90% HDI."""
    draws, shape = fit.draws
    true = true_draws(data, truth)
    rows = []
    values = {k: (draws[k], true[k][0]) for k in ("slope", "ec", "alpha")}
    roi = fit.roi_draws()
    values["roi"] = (roi.values.reshape(-1, roi.shape[-1]), truth.roi[roi.channel.values].values)
    for name, (post, t) in values.items():
        hdi = summarize(xr.DataArray(post.reshape(*shape, -1), dims=(*SAMPLE_DIMS, "channel")))
        for c, channel in enumerate(data.channels):
            mean, sd = post[:, c].mean(), post[:, c].std()
            lo, hi = hdi["lower"].iloc[c], hdi["upper"].iloc[c]
            rows.append(
                {
                    "channel": channel,
                    "param": name,
                    "truth": float(t[c]),
                    "mean": float(mean),
                    "sd": float(sd),
                    "z": float((mean - t[c]) / sd),
                    "in_90": bool(lo <= t[c] <= hi),
                }
            )
    return pd.DataFrame(rows)


def study(seed: int, args) -> tuple[list[dict], pd.DataFrame]:
    data, truth = simulated(
        args.n_geos, args.n_weeks, args.n_channels, seed=seed, spend_variation=args.spend_variation
    )
    t0 = time.perf_counter()
    fit = fit_or_load(Path(args.fits) / f"fit_s{seed}", data, args)
    fit_s = time.perf_counter() - t0
    draws, shape = fit.draws
    true = true_draws(data, truth)
    oracle = true_planner(data, truth, weeks=args.weeks)
    cur = oracle.current()
    window_revenue = float(data.target[-args.weeks :].sum())
    media_revenue = float(oracle.revenue(cur)[0])
    rows = []
    for by_geo in (False, True):
        best = true_optimum(oracle, float(cur.sum()), by_geo)
        attainable = float(best.uplift.values.ravel()[0])
        t0 = time.perf_counter()
        alloc, share, predicted = plan_share(fit, draws, shape, oracle, best, by_geo, args.weeks)
        plan_s = time.perf_counter() - t0
        plan = opt.planner(fit.data, fit.spec, draws, weeks=args.weeks)
        own = self_assessed_share(plan, alloc, by_geo, n=args.self_draws)
        row = {
            "seed": seed,
            "by_geo": by_geo,
            "converged": bool(fit.converged),
            "fit_s": round(fit_s, 1),
            "plan_s": round(plan_s, 2),
            "attainable_pct": 100 * attainable / window_revenue,
            "attainable_media_pct": 100 * attainable / media_revenue,
            "share": share,
            "regret_pct": (1 - share) * 100 * attainable / window_revenue,
            "predicted": predicted,
            "self_median": float(np.median(own)),
            "self_q05": float(np.quantile(own, 0.05)),
            "self_q95": float(np.quantile(own, 0.95)),
            "self_p95": float((own >= 0.95).mean()),
        }
        if not args.no_attribution:
            sub, sub_shape = thin(draws, args.attribution_draws)
            fixes = {f"fix_{ch}": {"channels": [c]} for c, ch in enumerate(data.channels)}
            fixes.update({f"fix_{name}": {"params": (name,)} for name in MEDIA_PARAMS})
            for key, how in fixes.items():
                d = with_truth(sub, true, **how)
                row[key] = plan_share(fit, d, sub_shape, oracle, best, by_geo, args.weeks)[1]
        rows.append(row)
        print(json.dumps(row), flush=True)
    rec = recovery(fit, data, truth)
    rec.insert(0, "seed", seed)
    return rows, rec


def markdown(df: pd.DataFrame) -> str:
    """A pipe table (``DataFrame.to_markdown`` needs ``tabulate``, not a dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--n-geos", type=int, default=10)
    ap.add_argument("--n-weeks", type=int, default=156)
    ap.add_argument("--n-channels", type=int, default=5)
    ap.add_argument("--spend-variation", type=float, default=1.0)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--float32", action="store_true", help="ModelSpec(float32=True)")
    ap.add_argument("--adaptation", default=None, help="nutpie mass-matrix adaptation")
    ap.add_argument("--fits", default="runs/bench_regret/fits", help="saved fits (reused)")
    ap.add_argument("--out", default="runs/bench_regret")
    ap.add_argument("--self-draws", type=int, default=40, help="draws taken as truth")
    ap.add_argument("--attribution-draws", type=int, default=1000, help="draws per fix_* plan")
    ap.add_argument("--no-attribution", action="store_true", help="skip the fix_* re-plans")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    Path(args.fits).mkdir(parents=True, exist_ok=True)
    rows, recs = [], []
    for seed in args.seeds:
        r, rec = study(seed, args)
        rows += r
        recs.append(rec)
    table = pd.DataFrame(rows)
    rec = pd.concat(recs, ignore_index=True)
    (out / "regret.json").write_text(
        json.dumps({"settings": vars(args), "regret": rows, "recovery": rec.to_dict("records")})
    )
    print(markdown(table))
    print(markdown(rec))
    z = rec.pivot_table(index="param", values=["z", "in_90"], aggfunc="mean").reset_index()
    print(markdown(z))


if __name__ == "__main__":
    main()
