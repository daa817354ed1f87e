"""Forecast coverage on simulated future weeks with known truth, and CV against holdout.

For each seed: simulate a panel (``oracle.simulated``), fit its first ``weeks - future``
weeks, and forecast the last ``future`` weeks from their true inputs (``bm.predict``).

- **Coverage**: share of held-out observations inside the 50% and 90% predictive
  intervals (target for 90%: 0.85–0.95 over seeds).
- **Expected-target error**: mean |posterior-mean expected − true expected| / true
  expected over the future cells (the truth: ``truth.baseline`` + ``truth.contributions``).
- **Shifted plan**: the future media multiplied by ``--shift``. Its outcome is the true
  response to the shifted media plus the same noise as observed (the true change in
  contributions is computed with ``analysis.channel_contribution_draws`` on the truth's
  parameters, the simulator's own mean function), so it is covered or not like a real
  holdout; the forecast uplift (``bm.compare_scenarios``, carryover tail included) is set
  against the true uplift, with the training fit's ROI coverage and error beside it. The
  forecast's arithmetic is exact (``tests/test_forecast.py`` checks a shifted plan's uplift
  at known parameters against ``tests/reference_mmm.py``), so a missed uplift with missed
  or biased ROIs is the fit's estimate of the effects (a smoke fit's shrunken ROIs).
- **CV vs holdout**: ``bm.cross_validate`` on the training weeks (``--folds`` ×
  ``--horizon``) against the holdout's own scores (CRPS relative to the mean, coverage).
- **Refresh** (``--refresh``): the training fit refreshed warm on the full panel
  (``WARM_TUNE`` tuning steps) against a cold fit of the full panel (``--tune``): gates,
  tuning steps, ROI intervals side by side; then a panel whose first channel's effect is
  doubled in the new weeks (its true contribution there added to the revenue): the change
  report should flag that channel and no other (``refresh.change_report``: with new weeks,
  the lift test of the new weeks against the old posterior, ``refresh.new_weeks_lift``, at
  a family-wise 10% over channels).
- **Ranking** (``--rank``): ``bm.cross_validate`` of the static ``ModelSpec()`` and the
  time-varying spec (``time_varying_intercept`` and ``time_varying_media``) on a panel
  whose truth drifts (``baseline_drift=0.08, media_seasonality=0.35``, as
  ``bench_time_varying.py``), same folds and seeds: the time-varying spec should have the
  lower out-of-sample CRPS (``bm.compare(cv=...)``'s ``cv_rank``).
- **Demo refresh** (``--demo-refresh``): the refresh checks on the shipped demo panel
  itself (``bayes_mmm/datasets/demo_geo_panel.csv``, split ``weeks - future`` +
  ``future``), at the spec of its shipped config (``demo_geo_panel.toml``). The truth of
  the changed channel comes from the panel's generator, ``bm.simulate(10, 156, 5,
  seed=1)`` (``scripts/make_demo_data.py``; the CSV holds it to 4 decimals).
- **Demo CV** (``--demo-cv``): ``bm.cross_validate`` on the shipped demo panel
  (``--folds`` × ``--horizon``, the quick config's spec) on a ``LocalCluster``.

``--client local`` runs every cross-validation on a ``LocalCluster`` of its own
(``cross_validate(client="local")``).

Full run (several hours on a quiet 4-core machine, more under load; each seed fits the
training panel, ``--folds`` CV folds, a warm and a cold refit and a refresh, and ``--rank``
adds 2 × ``--folds`` time-varying-panel fits)::

    nice -n 10 python benchmarks/bench_forecast.py --seeds 0 1 2 --refresh --rank \
        --demo-cv --client local --tune 1000 --out benchmarks/FORECAST.json

(``--tune`` is the training and cold fits' tuning; 1000 is ``bm.fit``'s default, which the
warm refresh's ``WARM_TUNE`` = 300 is set against.)

Tiny check (a few minutes)::

    python benchmarks/bench_forecast.py --geos 3 --weeks 60 --future 8 --channels 3 \\
        --draws 100 --tune 200 --chains 2 --folds 2 --horizon 6 --seeds 0 --refresh \\
        --rank --client local
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from oracle import simulated, true_draws

import bayes_mmm as bm
from bayes_mmm.analysis import channel_contribution_draws
from bayes_mmm.cli import load_config
from bayes_mmm.holdout import holdout_forecast


def true_media_change(data, truth, n_train: int, factor: float) -> tuple[np.ndarray, float]:
    """True change of contributions when the media after ``n_train`` are scaled by
    ``factor``: per (future date, geo), and in total with the carryover tail."""
    draws = true_draws(data, truth)
    tail = truth.spec.l_max - 1
    shifted = data.media.copy()
    shifted[n_train:] *= factor
    base = channel_contribution_draws(data, truth.spec, draws, tail=tail)[0].sum(-1)
    new = channel_contribution_draws(data, truth.spec, draws, media=shifted, tail=tail)[0]
    change = new.sum(-1) - base  # (date + tail, geo)
    return change[n_train : data.n_dates], float(change[n_train:].sum())


def refresh_check(seed: int, a, frame, truth, data, fit, run, spec=None) -> dict:
    """Warm refresh vs cold fit on the full panel, and the flags of a changed effect.

    ``spec`` (default ``truth.spec``) is the cold fit's spec, the training fit's.
    """

    n_train = a.weeks - a.future
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        t0 = time.perf_counter()
        warm = fit.refresh(data, random_seed=seed + 1, progress=False)
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cold = bm.fit(data, spec or truth.spec, random_seed=seed + 1, **run)
        cold_s = time.perf_counter() - t0
    rw, rc = warm.roi(), cold.roi()
    overlap = (rw["lower"] <= rc["upper"]) & (rc["lower"] <= rw["upper"])
    channel = str(truth.contributions["channel"].values[0])
    extra = truth.contributions.sel(channel=channel).values  # (date, geo)
    changed = frame.copy()
    late = changed["date"] > data.dates[n_train - 1]
    geo_index = {g: k for k, g in enumerate(data.geos)}
    date_index = {d: k for k, d in enumerate(data.dates)}
    rows = [(date_index[d], geo_index[g]) for d, g in zip(changed["date"], changed["geo"])]
    bump = np.array([extra[t, g] for t, g in rows])
    changed.loc[late, "revenue"] += bump[late.to_numpy()]
    changed_data = bm.MMMData.from_frame(
        changed,
        date="date",
        target="revenue",
        media=list(data.channels),
        geo="geo",
        controls=list(data.controls),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        moved = fit.refresh(changed_data, random_seed=seed + 2, progress=False)
    report = moved.refresh_report()
    return {
        "warm_tune": int(warm.meta["tune"]),
        "cold_tune": int(cold.meta["tune"]),
        "warm_converged": bool(warm.converged),
        "cold_converged": bool(cold.converged),
        "warm_s": round(warm_s, 1),
        "cold_s": round(cold_s, 1),
        "roi_intervals_overlap": float(overlap.mean()),
        "roi_warm": rw["mean"].round(3).to_dict(),
        "roi_cold": rc["mean"].round(3).to_dict(),
        "changed_channel": channel,
        "flagged": [str(c) for c in report.index[report["flagged"]]],
        "flagged_unchanged": [str(c) for c in report.index[report["flagged"]] if c != channel],
        "changed_shift_sd": float(report.loc[channel, "shift_sd"]),
        "unchanged_max_abs_shift_sd": float(report["shift_sd"].drop(channel).abs().max()),
        "changed_lift_sd": float(report.loc[channel, "lift_sd"]),
        "unchanged_max_abs_lift_sd": float(report["lift_sd"].drop(channel).abs().max()),
        "flag_threshold": float(moved.meta["refresh"]["flag_sd"]),
    }


TV_SPECS = {
    "static": bm.ModelSpec(),
    "time_varying": bm.ModelSpec(time_varying_intercept=True, time_varying_media=True),
}
DRIFT = dict(baseline_drift=0.08, media_seasonality=0.35)


def _run(a) -> dict:
    """``bm.fit``'s sampler settings from the command line."""
    return {"draws": a.draws, "tune": a.tune, "chains": a.chains, "progress": False}


def _client(a):
    return "local" if a.client == "local" else None


def rank_check(seed: int, a, run) -> dict:
    """Cross-validated CRPS of the static and the time-varying spec on a drifting panel."""
    data, _ = simulated(a.geos, a.weeks, a.channels, seed, **DRIFT)
    cvs = {}
    for name, spec in TV_SPECS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cvs[name] = bm.cross_validate(
                data,
                spec,
                folds=a.folds,
                horizon=a.horizon,
                client=_client(a),
                random_seed=seed,
                **run,
            )
    crps = {n: float(cv.overall["crps"]) for n, cv in cvs.items()}
    return {
        "rank_crps": crps,
        "rank_converged": {n: int(cv.folds["converged"].sum()) for n, cv in cvs.items()},
        "rank_overall": {n: cv.overall.round(4).to_dict() for n, cv in cvs.items()},
        "rank_fold_crps": {n: cv.folds["crps"].round(1).tolist() for n, cv in cvs.items()},
        "time_varying_ranks_first": crps["time_varying"] < crps["static"],
    }


DEMO_SEED = 1  # scripts/make_demo_data.py: bm.simulate(10, 156, 5, seed=1)


def demo_refresh(a, run) -> dict:
    """The refresh checks on the shipped demo panel, at its shipped config's spec."""
    config = load_config(bm.datasets.path("demo_geo_panel.toml"))
    frame = bm.datasets.demo_panel()
    frame["date"] = np.asarray(frame["date"], dtype="datetime64[ns]")
    data = bm.MMMData.from_frame(frame, **config["data"])
    sim, truth = bm.simulate(len(data.geos), data.n_dates, len(data.channels), seed=DEMO_SEED)
    gap = np.abs(sim[list(data.channels)].to_numpy() - frame[list(data.channels)].to_numpy())
    assert gap.max() < 1e-4, "the demo panel is not bm.simulate(10, 156, 5, seed=1)"
    spec = bm.ModelSpec.from_dict(config["model"])
    n_train = data.n_dates - a.future
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        t0 = time.perf_counter()
        fit = bm.fit(data.truncate(n_train), spec, random_seed=DEMO_SEED, **run)
    out = {
        "panel": "demo_geo_panel.csv",
        "train_weeks": n_train,
        "train_s": round(time.perf_counter() - t0, 1),
        "train_converged": bool(fit.converged),
        "roi_true": truth.roi.round(3).to_dict(),
    }
    a = argparse.Namespace(**vars(a) | {"weeks": data.n_dates})
    return out | refresh_check(DEMO_SEED, a, frame, truth, data, fit, run, spec=spec)


def demo_cv(a, run) -> dict:
    """The demo panel's cross-validation (the quick config's columns and spec)."""
    config = load_config(bm.datasets.path("demo_geo_panel_quick.toml"))
    data = bm.MMMData.from_frame(bm.datasets.demo_panel(), **config["data"])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = bm.cross_validate(
            data,
            bm.ModelSpec.from_dict(config["model"]),
            folds=a.folds,
            horizon=a.horizon,
            client=_client(a),
            **run,
        )
    return {
        "demo_cv_s": round(time.perf_counter() - t0, 1),
        "demo_cv": cv.table.round(4).to_dict(orient="index"),
        "demo_cv_converged": int(cv.folds["converged"].sum()),
    }


def one_seed(seed: int, a) -> dict:
    frame, truth = bm.simulate(a.geos, a.weeks, a.channels, seed=seed)
    data, _ = simulated(a.geos, a.weeks, a.channels, seed)
    n_train = a.weeks - a.future
    spec = truth.spec
    run = _run(a)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(data.truncate(n_train), spec, random_seed=seed, **run)
    fit_s = time.perf_counter() - t0
    future = frame[frame["date"] > data.dates[n_train - 1]].reset_index(drop=True)
    table = fit.predict(future, hdi_prob=0.9)
    obs = table["observed"].to_numpy()
    true_mu = (truth.baseline + truth.contributions.sum("channel")).values[n_train:]
    inside90 = (obs >= table["pred_lower"]) & (obs <= table["pred_upper"])
    t50 = fit.predict(future, hdi_prob=0.5)
    inside50 = (obs >= t50["pred_lower"]) & (obs <= t50["pred_upper"])
    err = np.abs(table["mean"].to_numpy() - true_mu.reshape(-1)) / true_mu.reshape(-1)
    # the shifted plan, with the same noise as observed
    change, true_uplift = true_media_change(data, truth, n_train, a.shift)
    media_cols = list(data.channels) + list(data.spend_groups)
    shifted = future.copy()
    shifted[list(dict.fromkeys(media_cols))] *= a.shift
    obs_shift = obs + change.reshape(-1)
    ts = fit.predict(shifted, hdi_prob=0.9)
    shift_cov = np.mean((obs_shift >= ts["pred_lower"]) & (obs_shift <= ts["pred_upper"]))
    cmp = fit.scenarios({"observed": future, "shifted": shifted})
    up = cmp.table.loc["shifted"]
    hold = holdout_forecast(fit, data, random_seed=seed).metrics
    # a missed uplift with missed ROIs is the fit's estimate of the effects, not the forecast
    roi = fit.roi(hdi_prob=0.9)
    true_roi = truth.roi.reindex(roi.index)
    out = {
        "seed": seed,
        "fit_s": round(fit_s, 1),
        "converged": bool(fit.converged),
        "coverage_90": float(inside90.mean()),
        "coverage_50": float(inside50.mean()),
        "expected_rel_error": float(err.mean()),
        "shift_coverage_90": float(shift_cov),
        "uplift_true": true_uplift,
        "uplift_mean": float(up["uplift"]),
        "uplift_lower": float(up["uplift_lower"]),
        "uplift_upper": float(up["uplift_upper"]),
        "roi_true_inside_90": float(true_roi.between(roi["lower"], roi["upper"]).mean()),
        "roi_rel_error": float((roi["mean"] / true_roi - 1).abs().mean()),
        "holdout_crps_rel": float(hold["crps_rel"]),
        "holdout_coverage_90": float(hold["coverage_90"]),
    }
    if a.folds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = bm.cross_validate(
                data.truncate(n_train),
                spec,
                folds=a.folds,
                horizon=a.horizon,
                client=_client(a),
                random_seed=seed,
                **run,
            )
        out.update(
            cv_crps_rel=float(cv.overall["crps_rel"]),
            cv_coverage_90=float(cv.overall["coverage_90"]),
        )
    if a.refresh:
        out.update(refresh_check(seed, a, frame, truth, data, fit, run))
    if a.rank and a.folds:
        out.update(rank_check(seed, a, run))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--geos", type=int, default=10)
    p.add_argument("--weeks", type=int, default=156)
    p.add_argument("--future", type=int, default=26)
    p.add_argument("--channels", type=int, default=5)
    p.add_argument("--draws", type=int, default=500)
    p.add_argument("--tune", type=int, default=500)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--shift", type=float, default=1.5)
    p.add_argument("--folds", type=int, default=4)
    p.add_argument("--horizon", type=int, default=13)
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="none: --demo-cv only")
    p.add_argument("--refresh", action="store_true", help="also the refresh checks")
    p.add_argument("--rank", action="store_true", help="also the static vs time-varying CV")
    p.add_argument(
        "--rank-only", action="store_true", help="only the static vs time-varying CV per seed"
    )
    p.add_argument("--demo-cv", action="store_true", help="also the demo panel's CV")
    p.add_argument(
        "--demo-refresh", action="store_true", help="also the refresh checks on the demo panel"
    )
    p.add_argument("--client", choices=["none", "local"], default="none")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    rows, ranks = [], []
    for seed in a.seeds:
        if a.rank_only:
            ranks.append({"seed": seed, **rank_check(seed, a, _run(a))})
            print(json.dumps(ranks[-1]), flush=True)
            continue
        rows.append(one_seed(seed, a))
        print(json.dumps(rows[-1]), flush=True)
    refresh_demo = None
    if a.demo_refresh:
        refresh_demo = demo_refresh(a, _run(a))
        print(json.dumps(refresh_demo), flush=True)
    if a.demo_cv:
        rows.append(demo_cv(a, _run(a)))
        print(json.dumps(rows[-1]), flush=True)
        rows, demo = rows[:-1], rows[-1]
    if rows:
        cov = np.mean([r["coverage_90"] for r in rows])
        within = np.mean([r["uplift_lower"] <= r["uplift_true"] <= r["uplift_upper"] for r in rows])
        print(
            f"mean 90% coverage {cov:.3f} (target 0.85-0.95); "
            f"true uplift inside interval: {within:.2f}"
        )
    if a.out:
        a.out.write_text(
            json.dumps(
                {"args": vars(a) | {"out": str(a.out)}, "rows": rows}
                | ({"demo": demo} if a.demo_cv else {})
                | ({"rank": ranks} if ranks else {})
                | ({"demo_refresh": refresh_demo} if refresh_demo else {}),
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
