"""Time one log-density + gradient evaluation of the default model on Meridian's demo panel.

The sampler's cost is (gradient evaluations) × (this time) / cores, so this is the number to
watch when changing the model graph. The model is compiled as ``bm.fit`` compiles it
(nutpie, numba backend) and timed by ``bayes_mmm.runtime.time_gradient`` (median batch).

Run: .venv/bin/python benchmarks/bench_gradient.py [--n-eval 1000] [--repeats 3] [--float32]
[--unfused] [--rational-hill]

With ``--float32`` Hill runs through the fused kernel (``bayes_mmm.fused_hill``);
``--unfused`` times the same float32 graph without it.
``--rational-hill`` (implies ``--unfused``) swaps Hill's ``sigmoid(slope · log(x / ec))``
for ``x / (x + ec)`` (no ``log``/``exp``; a diagnostic, not a model): the difference is
what the per-cell transcendentals cost in the unfused graph (see RESULTS.md).
"""

from __future__ import annotations

import argparse

import nutpie
from bench_meridian import load

import bayes_mmm as bm
from bayes_mmm.model import parameter_names
from bayes_mmm.runtime import time_gradient


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-eval", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--float32", action="store_true", help="ModelSpec(float32=True)")
    p.add_argument(
        "--rational-hill",
        action="store_true",
        help="time x / (x + ec) in Hill's place: the cost of its log/exp (diagnostic only)",
    )
    p.add_argument("--unfused", action="store_true", help="float32 without the fused Hill")
    args = p.parse_args()
    if args.rational_hill:
        bm.transforms.hill = lambda x, ec, slope: x / (x + ec) + 0 * slope
    if args.unfused or args.rational_hill:
        bm.response._fused_hill_applies = lambda *a: False
    data = load()
    spec = bm.ModelSpec(float32=args.float32).for_channels(data.channels)
    model = bm.build_model(data, spec)
    compiled = nutpie.compile_pymc_model(model, var_names=parameter_names(data, spec))
    times = [time_gradient(compiled, n_eval=args.n_eval) * 1e6 for _ in range(args.repeats)]
    print("logp + gradient (µs, median batch per repeat):", ", ".join(f"{t:.0f}" for t in times))


if __name__ == "__main__":
    main()
