"""``plan_runtime``: how long a fit will take and how much memory it needs, before sampling.

The plan compiles the model exactly as ``bm.fit`` does (``nutpie.compile_pymc_model``, so
the compile time is measured, not guessed), times logp+gradient evaluations at the
initial point and multiplies:

    est_sample_s = grad_eval_s × STEPS_PER_DRAW × (draws + tune) × ceil(chains / cores)

``STEPS_PER_DRAW`` is not a tree-depth guess but a measured calibration constant: the
wall time nutpie actually spent per iteration divided by the gradient time measured by this
module on the same model (so it also absorbs warm-up's longer trees and the sampler's
own overhead). Measured here (2-core machine, nutpie 0.16, default ``ModelSpec``, the same
process timing the plan and then fitting; ``scripts``-free, see the numbers below):

==================================  ===========  ============  ==========  ========
panel (geo × week × channel)        chains×iter  grad (µs)     ratio       n_steps
==================================  ===========  ============  ==========  ========
3 × 60 × 3                          2 × 600      35            41          26
5 × 104 × 3                         2 × 1000     70            36          21
10 × 156 × 5                        4 × 2000     260           31          18
==================================  ===========  ============  ==========  ========

(``ratio`` = sample_s × min(chains, cores) / (chains × iterations × grad_s); ``n_steps`` is
the mean leapfrog steps of the kept draws, i.e. tree depth ≈ 4–5.) The constant is the
rounded geometric mean, 35; it predicts each of these fits within ±20 %. Posteriors that
mix badly (tree depth at its maximum of 10) take up to 1024 steps per draw, which no plan
made before sampling can foresee: the plan's time is the time of a well-identified model.

Memory is the stored posterior (every ``parameter_names`` scalar, plus nutpie's sample
statistics, × chain × draw × 8 bytes), the analysis peak (a few (CHUNK, date, geo, channel)
float64 tensors, see ``analysis.CHUNK``) and the data with its adstock lag stack.
``fit.contributions()`` materialises the full (chain, draw, date, geo, channel) tensor; its
size is reported separately as ``contributions_mb`` because many workflows never call it.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from bayes_mmm.analysis import CHUNK
from bayes_mmm.data import MMMData
from bayes_mmm.model import build_model, parameter_names
from bayes_mmm.spec import ModelSpec

STEPS_PER_DRAW = 35.0  # measured, see the module docstring
SAMPLE_STATS_PER_DRAW = 12  # nutpie's scalar statistics kept per draw (depth, energy, ...)
ANALYSIS_COPIES = 4  # live (chunk, date, geo, channel) tensors in channel_contribution_draws
MB = 1024**2


@dataclass(frozen=True)
class RuntimePlan:
    """Estimated cost of ``bm.fit(data, spec, draws=..., tune=..., chains=...)``.

    Attributes
    ----------
    compile_s : float
        Measured nutpie compile time (``bm.fit`` pays it again).
    grad_eval_us : float
        Measured time of one logp+gradient evaluation, microseconds.
    est_sample_s : float
        Estimated sampling time: gradient × ``steps_per_draw`` × iterations × chain rounds.
    est_total_s : float
        ``compile_s + est_sample_s``.
    est_memory_mb : float
        Posterior + analysis peak + data, MiB.
    contributions_mb : float
        Size of ``fit.contributions()`` (chain, draw, date, geo, channel), MiB.
    n_parameters : int
        Unconstrained dimensions the sampler moves in.
    n_stored : int
        Scalars stored per draw (parameters and deterministics kept by ``bm.fit``).
    draws, tune, chains, cores : int
    steps_per_draw : float
        Gradient evaluations per iteration assumed (``STEPS_PER_DRAW``).
    assumptions : str
    """

    compile_s: float
    grad_eval_us: float
    est_sample_s: float
    est_total_s: float
    est_memory_mb: float
    contributions_mb: float
    n_parameters: int
    n_stored: int
    draws: int
    tune: int
    chains: int
    cores: int
    steps_per_draw: float
    assumptions: str

    def __str__(self) -> str:
        rounds = math.ceil(self.chains / self.cores)
        return (
            f"Runtime plan: {self.chains} chains × ({self.tune} tune + {self.draws} draws) "
            f"on {self.cores} cores ({rounds} round{'s' * (rounds > 1)})\n"
            f"  parameters       {self.n_parameters} sampled, {self.n_stored} stored per draw\n"
            f"  compile          {self.compile_s:.1f} s (measured)\n"
            f"  one gradient     {self.grad_eval_us:.0f} µs (measured)\n"
            f"  sampling         ≈ {_duration(self.est_sample_s)}\n"
            f"  total            ≈ {_duration(self.est_total_s)}\n"
            f"  memory           ≈ {self.est_memory_mb:.0f} MiB "
            f"(+ {self.contributions_mb:.0f} MiB if fit.contributions() is called)\n"
            f"  assumes          {self.assumptions}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def time_gradient(compiled, n_eval: int = 200, seed: int = 1) -> float:
    """Median seconds of one logp+gradient evaluation of a nutpie-compiled model.

    Parameters
    ----------
    compiled : nutpie.CompiledPyMCModel
    n_eval : int
        Evaluations timed, in 5 batches; the median batch is used so that a burst of load
        from other processes does not inflate the estimate.
    """
    x = np.asarray(compiled.initial_point_func(seed), dtype=float)
    logp_dlogp = compiled.logp_func
    logp_dlogp(x)  # first call: JIT and caches
    batch = max(1, n_eval // 5)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(batch):
            logp_dlogp(x)
        times.append((time.perf_counter() - t0) / batch)
    return float(np.median(times))


def memory_mb(data: MMMData, spec: ModelSpec, n_stored: int, draws: int, chains: int):
    """Estimated memory in MiB: (total, contributions tensor).

    ``n_stored`` scalars per draw (parameters and deterministics kept by ``bm.fit``).
    """
    n_date, n_geo, n_channel = data.media.shape
    posterior = chains * draws * (n_stored + SAMPLE_STATS_PER_DRAW) * 8
    chunk = min(CHUNK, chains * draws)
    analysis = ANALYSIS_COPIES * chunk * (n_date + spec.l_max) * n_geo * n_channel * 8
    arrays = (data.target, data.media, data.spend, data.control_values, data.event_values)
    data_bytes = sum(a.nbytes for a in arrays if a is not None)
    data_bytes += spec.l_max * (n_date + spec.l_max) * n_geo * n_channel * 8  # lag stack
    contributions = chains * draws * n_date * n_geo * n_channel * 8
    return (posterior + analysis + data_bytes) / MB, contributions / MB


def plan_runtime(
    data: MMMData,
    spec: ModelSpec | None = None,
    draws: int = 1000,
    chains: int = 4,
    *,
    tune: int | None = None,
    cores: int | None = None,
    n_eval: int = 200,
) -> RuntimePlan:
    """Estimate time and memory of ``bm.fit`` (nutpie) from a few gradient evaluations.

    Parameters
    ----------
    data : MMMData
    spec : ModelSpec, optional
    draws, chains : int
        As for ``bm.fit``.
    tune : int, optional
        Warm-up iterations; default ``draws`` (``bm.fit``'s defaults are equal).
    cores : int, optional
        Chains run in parallel; default ``min(chains, os.cpu_count())`` like ``bm.fit``.
    n_eval : int
        Gradient evaluations timed.

    Returns
    -------
    RuntimePlan
        Its ``str`` is a readable summary. Compiling is part of planning, so a plan takes
        as long as ``bm.fit``'s compile step (seconds to a minute).
    """
    import nutpie

    spec = (spec or ModelSpec()).for_channels(data.channels)
    tune = draws if tune is None else tune
    if draws < 1 or tune < 0 or chains < 1:
        raise ValueError(f"draws={draws}, tune={tune}, chains={chains}: need draws, chains ≥ 1.")
    cores = cores or min(chains, os.cpu_count() or 1)
    model = build_model(data, spec)
    names = parameter_names(data, spec)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, var_names=names)
    compile_s = time.perf_counter() - t0
    grad_s = time_gradient(compiled, n_eval=n_eval)
    n_stored = int(sum(np.prod(s, dtype=int) for n, s in compiled.shapes.items() if n in names))
    rounds = math.ceil(chains / min(cores, chains))
    est_sample_s = grad_s * STEPS_PER_DRAW * (draws + tune) * rounds
    mem, contrib = memory_mb(data, spec, n_stored, draws, chains)
    assumptions = (
        f"{STEPS_PER_DRAW:g} gradient evaluations per iteration (nutpie, calibrated on "
        "well-identified fits: tree depth 4–5); a badly mixing posterior (tree depth at its "
        "limit) can take up to 30× longer; chains do not slow each other down."
    )
    return RuntimePlan(
        compile_s=compile_s,
        grad_eval_us=grad_s * 1e6,
        est_sample_s=est_sample_s,
        est_total_s=compile_s + est_sample_s,
        est_memory_mb=mem,
        contributions_mb=contrib,
        n_parameters=int(compiled.n_dim),
        n_stored=n_stored,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        steps_per_draw=STEPS_PER_DRAW,
        assumptions=assumptions,
    )
