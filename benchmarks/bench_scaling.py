"""Scaling series: how the cost of a bayes_mmm fit grows with geos and with channels.

Panels are ``bm.simulate(n_geos=G, n_weeks=156, n_channels=C, seed=1)`` (one control),
fitted with the default ``ModelSpec()`` and nutpie. Two series share the 10 × 5 point:

- geos G ∈ {1, 10, 40, 100} at C = 5 channels;
- channels C ∈ {3, 8, 15} at G = 10 geos.

Every point runs in a fresh interpreter (a subprocess), so its compile time is what a user
pays in a new process (numba warm-up included) and its peak RSS is its own. The child

1. fits with ``bm.fit`` (build + compile + sample, timed by ``fit.meta``);
2. reads the kept draws' sample statistics (tree depth, leapfrog steps, divergences) and
   ``fit.diagnostics()`` (min ESS_bulk, max R-hat over the stored parameters);
3. records its peak RSS, then compiles the model a second time (as ``bm.fit`` and
   ``bayes_mmm.runtime.time_model`` do) to time the log-density gradient with
   ``runtime.time_gradient`` (median of 5 batches of ``--n-eval`` logp+gradient calls at the
   initial point) and read the sampler's dimension. Doing this *after* the fit keeps the
   fit's compile cold, as a user sees it.

The machine is shared (2 cores, other jobs may run), so wall times are inflated by load.
Each point therefore also records CPU seconds, which load changes much less: the fit's main
thread (build + compile; nutpie samples in its own threads while it waits), the sampler
threads (process CPU minus the main thread's), and the gradient's CPU per call.
``idle-equiv. wall`` = compile CPU + sampling CPU / cores is what the fit would take on two
idle cores.

The parent records the 1-minute load average before and after each point (the machine is
shared: other processes may run on its cores), writes every record to
``--out/results.json`` and prints a markdown table; ``--write-md`` also replaces the table
between the ``<!-- scaling-table -->`` markers of ``benchmarks/SCALING.md``.

The decomposition the table checks is

    sample_s ≈ grad_s × steps_per_iteration × (tune + draws) × chains / min(chains, cores)

``steps/iter (CPU)`` solves it for the steps from CPU seconds (sampling CPU / (chains ×
iterations × gradient CPU)); it includes warm-up's longer trees and the sampler's own
work per step. ``steps/draw`` is the mean leapfrog steps of the kept draws (warm-up is not
stored).

Usage
-----
    nice -n 10 .venv/bin/python benchmarks/bench_scaling.py --write-md   # 2 × 500 + 500
    .venv/bin/python benchmarks/bench_scaling.py --points 1x5 10x5 --draws 200 --tune 200
    .venv/bin/python benchmarks/bench_scaling.py --profile 10x5   # where the gradient goes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_WEEKS = 156
GEO_SERIES = [(1, 5), (10, 5), (40, 5), (100, 5)]
CHANNEL_SERIES = [(10, 3), (10, 5), (10, 8), (10, 15)]
POINTS = list(dict.fromkeys(GEO_SERIES + CHANNEL_SERIES))  # (geos, channels), 10×5 once
MD = ROOT / "benchmarks" / "SCALING.md"
MARK_START, MARK_END = "<!-- scaling-table:start -->", "<!-- scaling-table:end -->"


# ---------------------------------------------------------------------- child side
def panel(geos: int, channels: int, seed: int = 1):
    """``bm.simulate(n_geos=geos, n_weeks=156, n_channels=channels, seed=seed)`` as MMMData."""
    import bayes_mmm as bm
    from bayes_mmm.simulate import CHANNEL_NAMES

    df, _ = bm.simulate(n_geos=geos, n_weeks=N_WEEKS, n_channels=channels, seed=seed)
    media = list(CHANNEL_NAMES[:channels])
    return bm.MMMData.from_frame(
        df, date="date", target="revenue", media=media, geo="geo", controls=["control_1"]
    )


def profile(geos: int, channels: int, n_eval: int = 300) -> dict:
    """CPU µs per value+gradient call of the media term's pieces, and of the whole model.

    The pieces are standalone PyTensor functions (mode NUMBA) of ``transforms.adstock``,
    adstock + ``kinds.unit_saturation`` (Hill) and ``response.media_response``, each
    reduced to a scalar with a fixed random cotangent of dims (date, geo, channel) and
    differentiated in its parameters at typical values; the whole model is nutpie's
    compiled logp+gradient, as ``bm.fit`` samples it, with each saturation kind in turn
    (``ModelSpec(saturation=...)``), which shows what the saturation costs inside the
    model (the standalone functions do not: they compile without nutpie's pipeline).
    """
    import numpy as np
    import nutpie
    import pytensor
    import pytensor.tensor as pt

    from bayes_mmm.kinds import unit_saturation
    from bayes_mmm.model import build_model, parameter_names
    from bayes_mmm.response import make_design, media_response
    from bayes_mmm.runtime import time_gradient
    from bayes_mmm.spec import ModelSpec
    from bayes_mmm.transforms import adstock, geometric_weights

    data = panel(geos, channels)
    spec = ModelSpec().for_channels(data.channels)
    stack = make_design(data, spec).stack  # (lag, date, geo, channel)
    cot = np.random.default_rng(0).normal(size=stack.shape[1:])
    p = {n: pt.dvector(n) for n in ("alpha", "ec", "slope")} | {"beta": pt.dmatrix("beta")}
    values = {"alpha": 0.5, "ec": 1.0, "slope": 1.5, "beta": 0.1}
    stack_t = pt.as_tensor_variable(stack)
    ad = adstock(stack_t, geometric_weights(p["alpha"], spec.l_max))
    hill = unit_saturation("hill", ad, ec=p["ec"][None, None, :], slope=p["slope"][None, None, :])
    pieces = {
        "adstock": (ad, ["alpha"]),
        "adstock + Hill": (hill, ["alpha", "ec", "slope"]),
        "media_response": (media_response(stack_t, p, spec), ["alpha", "ec", "slope", "beta"]),
    }
    out = {}
    for name, (term, inputs) in pieces.items():
        value = (term * cot).sum()
        args = [p[i] for i in inputs]
        f = pytensor.function(args, [value, *pt.grad(value, args)], mode="NUMBA")
        x = [np.full((geos, channels) if i == "beta" else channels, values[i]) for i in inputs]
        f(*x)
        cpu0 = time.process_time()
        for _ in range(n_eval):
            f(*x)
        out[name] = (time.process_time() - cpu0) / n_eval * 1e6
    for kind in ("hill", "log", "neg_exp"):
        spec_k = ModelSpec(saturation=kind).for_channels(data.channels)
        model = build_model(data, spec_k)
        compiled = nutpie.compile_pymc_model(model, var_names=parameter_names(data, spec_k))
        time_gradient(compiled, n_eval=5)
        cpu0 = time.process_time()
        time_gradient(compiled, n_eval=n_eval)
        out[f"whole model, {kind}"] = (time.process_time() - cpu0) / (n_eval + 1) * 1e6
    cells = int(np.prod(stack.shape[1:]))
    return {k: {"cpu_us": v, "ns_per_cell": v * 1e3 / cells} for k, v in out.items()}


def _sample_stats(fit) -> dict:
    """Tree depth, leapfrog steps and divergences of the kept draws, dims (chain, draw)."""
    import numpy as np

    stats = fit.idata["sample_stats"].to_dataset()
    return {
        "mean_depth": float(np.mean(stats["depth"])),
        "max_depth": int(np.max(stats["depth"])),
        "maxdepth_share": float(np.mean(stats["maxdepth_reached"])),
        "steps_per_draw": float(np.mean(stats["n_steps"])),
        "divergences": int(np.sum(stats["diverging"])),
        "mean_step_size": float(np.mean(stats["step_size"])),
    }


def run_child(args: argparse.Namespace) -> None:
    """Simulate one panel, fit it, time its gradient; write the JSON record ``args.json``."""
    import warnings

    warnings.simplefilter("ignore")
    import nutpie

    import bayes_mmm as bm
    from bayes_mmm.model import build_model, parameter_names
    from bayes_mmm.runtime import time_gradient

    g, c = args.geos, args.channels
    data = panel(g, c, args.seed)
    spec = bm.ModelSpec()
    cpu0, main0 = time.process_time(), time.thread_time()
    run = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    fit = bm.fit(data, spec, random_seed=args.seed, progress=False, sampler=args.sampler, **run)
    # nutpie samples in its own threads while this (main) thread waits: the main thread's
    # CPU is build + compile, the rest of the process's CPU is sampling.
    cpu_main = time.thread_time() - main0
    cpu_sample = time.process_time() - cpu0 - cpu_main
    diag = fit.diagnostics()
    record = {
        "geos": g,
        "channels": c,
        "weeks": N_WEEKS,
        "data_size": N_WEEKS * g * c,
        "chains": args.chains,
        "draws": args.draws,
        "tune": args.tune,
        "sampler": args.sampler,
        "float32": fit.meta.get("float32"),
        "adaptation": fit.meta.get("adaptation"),
        "divergences": int(diag.attrs["divergences"]),
        "cores": min(args.chains, os.cpu_count() or 1),
        "wall_s": fit.meta["wall_s"],
        "compile_s": fit.meta["compile_s"],
        "sample_s": fit.meta["sample_s"],
        "compile_cpu_s": cpu_main,
        "sample_cpu_s": cpu_sample,
        "min_ess_bulk": float(diag["ess_bulk"].min()),
        "slowest_parameter": str(diag["ess_bulk"].idxmin()),
        "max_r_hat": float(diag["r_hat"].max()),
        "n_stored_scalars": len(diag),
        "converged": bool(fit.converged),
        "verdict": fit.convergence.message(),
        **_sample_stats(fit),
        "peak_rss_fit_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    names = parameter_names(data, fit.spec)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(build_model(data, fit.spec), var_names=names)
    second_compile_s = time.perf_counter() - t0
    time_gradient(compiled, n_eval=5)  # numba JIT of logp_func, kept out of the CPU count
    cpu0 = time.process_time()  # all threads, in case BLAS runs any
    grad_s = time_gradient(compiled, n_eval=args.n_eval)
    grad_cpu_s = (time.process_time() - cpu0) / (5 * max(1, args.n_eval // 5) + 1)
    iters = args.draws + args.tune
    n_chain_iters = args.chains * iters
    rounds = args.chains / record["cores"]
    record.update(
        n_parameters=int(compiled.n_dim),
        grad_us=grad_s * 1e6,
        grad_cpu_us=grad_cpu_s * 1e6,
        second_compile_s=second_compile_s,
        min_ess_per_s=record["min_ess_bulk"] / record["wall_s"],
        implied_steps_per_iter=record["sample_s"] / (rounds * iters * grad_s),
        implied_steps_per_iter_cpu=cpu_sample / (n_chain_iters * grad_cpu_s),
        predicted_sample_s=grad_s * record["steps_per_draw"] * iters * rounds,
        idle_wall_estimate_s=cpu_main + cpu_sample / record["cores"],
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    Path(args.json).write_text(json.dumps(record, indent=2))


# ---------------------------------------------------------------------- parent side
def _machine() -> dict:
    lscpu = subprocess.run("lscpu | head -n 15", shell=True, capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "platform": platform.platform(), "lscpu": lscpu.stdout}


def _run_point(g: int, c: int, args: argparse.Namespace, out_dir: Path) -> dict:
    json_path = out_dir / f"g{g}_c{c}.json"
    json_path.unlink(missing_ok=True)
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child", "--geos", str(g),
        "--channels", str(c), "--json", str(json_path), "--chains", str(args.chains),
        "--draws", str(args.draws), "--tune", str(args.tune), "--seed", str(args.seed),
        "--n-eval", str(args.n_eval), "--sampler", args.sampler,
    ]  # fmt: skip
    load_start = os.getloadavg()[0]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"[scaling] {g} geos × {c} channels, load {load_start:.2f}, {started}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout_s)
        rc, tail = proc.returncode, (proc.stdout + proc.stderr)[-3000:]
    except subprocess.TimeoutExpired:
        rc, tail = "timeout", f"killed after {args.timeout_s} s"
    base = {
        "geos": g,
        "channels": c,
        "started_utc": started,
        "process_wall_s": time.perf_counter() - t0,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }
    if rc != 0 or not json_path.exists():
        print(f"[scaling] FAILED ({rc}):\n{tail}", flush=True)
        return {**base, "failed": True, "returncode": rc, "error_tail": tail}
    record = {**json.loads(json_path.read_text()), **base}
    print(
        f"[scaling] done: wall {record['wall_s']:.1f} s, grad {record['grad_us']:.0f} µs, "
        f"steps/draw {record['steps_per_draw']:.1f}, min ESS {record['min_ess_bulk']:.0f}",
        flush=True,
    )
    return record


COLUMNS = [
    ("geos", "geos", "{:d}"),
    ("channels", "channels", "{:d}"),
    ("date×geo×channel", "data_size", "{:,d}"),
    ("free params", "n_parameters", "{:d}"),
    ("compile s", "compile_s", "{:.1f}"),
    ("grad µs (wall)", "grad_us", "{:.0f}"),
    ("grad µs (CPU)", "grad_cpu_us", "{:.0f}"),
    ("sample s", "sample_s", "{:.1f}"),
    ("sample CPU s", "sample_cpu_s", "{:.1f}"),
    ("wall s", "wall_s", "{:.1f}"),
    ("idle-equiv. wall s", "idle_wall_estimate_s", "{:.1f}"),
    ("mean depth", "mean_depth", "{:.2f}"),
    ("steps/draw", "steps_per_draw", "{:.1f}"),
    ("steps/iter (CPU)", "implied_steps_per_iter_cpu", "{:.1f}"),
    ("min ESS_bulk", "min_ess_bulk", "{:.0f}"),
    ("ESS/s", "min_ess_per_s", "{:.2f}"),
    ("div.", "divergences", "{:d}"),
    ("max R-hat", "max_r_hat", "{:.3f}"),
    ("peak RSS MiB", "peak_rss_fit_mib", "{:.0f}"),
    ("load start→end", None, None),
]


def table(records: list[dict]) -> str:
    """Markdown table, one row per point, in the order of ``records``."""
    lines = ["| " + " | ".join(c[0] for c in COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
    for r in records:
        if r.get("failed"):
            lines.append(f"| {r['geos']} | {r['channels']} | FAILED ({r['returncode']}) |")
            continue
        cells = [fmt.format(r[key]) for _, key, fmt in COLUMNS if key]
        cells.append(f"{r['load_start']:.1f}→{r['load_end']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_md(text: str, path: Path = MD) -> None:
    """Replace the text between the table markers of ``path`` (or create them)."""
    block = f"{MARK_START}\n{text}\n{MARK_END}"
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), re.S)
    new = pattern.sub(lambda _: block, old) if pattern.search(old) else f"{old}\n{block}\n"
    path.write_text(new)


def _parse_point(text: str) -> tuple[int, int]:
    g, c = text.lower().split("x")
    return int(g), int(c)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--sampler", default="nutpie", help="bm.fit's sampler (nutpie, numpyro)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-eval", type=int, default=1000, help="gradient calls timed")
    parser.add_argument(
        "--points", nargs="+", type=_parse_point, help="GxC points, default both series"
    )
    parser.add_argument("--timeout-s", type=float, default=1800, help="per point")
    parser.add_argument("--out", default="runs/bench_scaling", help="directory for the JSON")
    parser.add_argument("--write-md", action="store_true", help="update benchmarks/SCALING.md")
    parser.add_argument(
        "--profile", type=_parse_point, metavar="GxC", help="gradient breakdown of one panel"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--geos", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--channels", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args)
        return 0
    if args.profile:
        for name, r in profile(*args.profile).items():
            print(f"{name:24s} {r['cpu_us']:9.1f} µs CPU  {r['ns_per_cell']:6.1f} ns per cell")
        return 0

    out_dir = (ROOT / args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    command = " ".join([Path(sys.executable).name, *sys.argv])
    records = [_run_point(g, c, args, out_dir) for g, c in (args.points or POINTS)]
    by = {(r["geos"], r["channels"]): r for r in records}
    series = [
        ("geos (5 channels)", [by[p] for p in GEO_SERIES if p in by]),
        ("channels (10 geos)", [by[p] for p in CHANNEL_SERIES if p in by]),
        ("other points", [r for p, r in by.items() if p not in POINTS]),
    ]
    chains_iter = f"{args.chains} chains × ({args.tune} tune + {args.draws} draws)"
    text = "\n\n".join(
        [f"`{command}` — started {started}, {chains_iter}, seed {args.seed}, "
         f"{os.cpu_count()} cores, {math.ceil(args.chains / (os.cpu_count() or 1))} "
         "chain round(s)"]
        + [f"**Series: {name}**\n\n{table(rows)}" for name, rows in series if rows]
    )  # fmt: skip
    summary = {
        "started_utc": started,
        "command": command,
        "settings": {k: getattr(args, k) for k in ("chains", "draws", "tune", "seed", "n_eval")},
        "machine": _machine(),
        "results": records,
        "table": text,
    }
    (out_dir / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    if args.write_md:
        _write_md(text)
    print(f"\n{text}\n\nwritten: {out_dir / 'results.json'}")
    return 0 if not any(r.get("failed") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
