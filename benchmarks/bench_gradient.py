"""Time one log-density + gradient evaluation of the default model on Meridian's demo panel.

The sampler's cost is (gradient evaluations) × (this time) / cores, so this is the number to
watch when changing the model graph. Compiled with the numba backend, as nutpie does.

Run: .venv/bin/python benchmarks/bench_gradient.py [--repeats 7 --calls 150]
"""

from __future__ import annotations

import argparse
import time

import pytensor
import pytensor.tensor as pt
from bench_meridian import load

import bayes_mmm as bm


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--calls", type=int, default=150)
    args = p.parse_args()
    data = load()
    model = bm.build_model(data, bm.ModelSpec().for_channels(data.channels))
    logp = model.logp()
    f = pytensor.function(model.value_vars, [logp, *pt.grad(logp, model.value_vars)], mode="NUMBA")
    point = model.initial_point()
    inputs = [point[v.name] for v in model.value_vars]
    for _ in range(50):
        f(*inputs)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(args.calls):
            f(*inputs)
        times.append((time.perf_counter() - t) / args.calls * 1e6)
    times.sort()
    print(f"logp + gradient: min {times[0]:.0f} µs, median {times[len(times) // 2]:.0f} µs")


if __name__ == "__main__":
    main()
