"""``plan_runtime``: how long a fit will take and how much memory it needs, before sampling.

The plan compiles the model exactly as ``bm.fit`` does (``nutpie.compile_pymc_model``, so
the compile time is measured, not guessed), times logp+gradient evaluations at the
initial point and multiplies:

    est_sample_s = grad_eval_s × STEPS_PER_DRAW × (draws + tune) × ceil(chains / cores)

``STEPS_PER_DRAW`` is not a tree-depth guess but a calibration constant: the wall time
nutpie spends per iteration divided by the gradient time this module measures on the same
model, so it also absorbs warm-up's longer trees and the sampler's own overhead. The
calibration fits (``benchmarks/RESULTS.md``, section 7) give ratios from 24 to 138: the
ratio depends on the posterior's geometry, not only on its size, a short warm-up spends
more of the run in long trees, and CPUs shared with other work inflate it. 50 is close to
the geometric mean (44) of 24, 29, 50 and 103 (the 10-geo fit at the ~50 its idle-machine
time implies, the 100-iteration warm-up left out) and within a factor 2.1 of each, so
expect the sampling estimate to be right to a factor of 2–3.

The compile time, which dominates small fits, is measured; a fresh process pays numba's
warm-up in it, as ``bm.fit`` in a new process does. Posteriors that mix badly (tree depth
at its limit of 10) take up to 1024 steps per draw, which no plan made before sampling can
foresee: the plan is the time of a well-identified model on idle CPUs.

Memory is the stored posterior (every ``model.parameter_names`` scalar, plus nutpie's sample
statistics, × chain × draw × 8 bytes), the analysis peak (a few (CHUNK, date, geo, channel)
float64 tensors, see ``analysis.CHUNK``) and the data with its adstock lag stack.
``fit.contributions()`` materialises the full (chain, draw, date, geo, channel) tensor; its
size is reported separately as ``contributions_mb`` because many workflows never call it.

On panels of ``LARGE_PANEL_GEOS`` geos or more the plan also lists the settings measured
to help on Meridian's 40-geo panel (:func:`large_panel_advice`).
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
from bayes_mmm.sample import DRAW_DIAG_GEOS
from bayes_mmm.spec import ModelSpec

#: Gradient evaluations per iteration, calibrated (``benchmarks/RESULTS.md``, section 7).
STEPS_PER_DRAW = 50.0
SAMPLE_STATS_PER_DRAW = 12  # nutpie's scalar statistics kept per draw (depth, energy, ...)
ANALYSIS_COPIES = 4  # live (chunk, date, geo, channel) tensors in channel_contribution_draws
#: Panels this large get :func:`large_panel_advice`: the size from which ``bm.fit`` picks
#: ``draw_diag`` (``sample.DRAW_DIAG_GEOS``), which the advice explains.
LARGE_PANEL_GEOS = DRAW_DIAG_GEOS
#: Leapfrog steps of nutpie's ``draw_diag`` adaptation relative to its default, measured on
#: Meridian's 40-geo panel (57.9 and 58.7 against 31.0 steps per draw; RESULTS.md section 2).
DRAW_DIAG_STEPS = 1.9
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
    advice : tuple of str
        Settings worth trying on this panel, with the measurement behind each (empty for
        small panels).
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
    advice: tuple[str, ...] = ()

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
            + "".join(f"\n  advice           {a}" for a in self.advice)
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


@dataclass(frozen=True)
class ModelTiming:
    """What :func:`time_model` measured: compile seconds, seconds per logp+gradient, the
    sampler's unconstrained dimension and the scalars stored per draw."""

    compile_s: float
    grad_s: float
    n_parameters: int
    n_stored: int


def time_model(data: MMMData, spec: ModelSpec, n_eval: int = 200) -> ModelTiming:
    """Compile the model with nutpie (as ``bm.fit`` does) and time its gradient."""
    import nutpie

    spec = spec.for_channels(data.channels)
    model = build_model(data, spec)
    names = parameter_names(data, spec)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, var_names=names)
    compile_s = time.perf_counter() - t0
    grad_s = time_gradient(compiled, n_eval=n_eval)
    n_stored = int(sum(np.prod(s, dtype=int) for n, s in compiled.shapes.items() if n in names))
    return ModelTiming(compile_s, grad_s, int(compiled.n_dim), n_stored)


def plan_from_timing(
    timing: ModelTiming,
    data: MMMData,
    spec: ModelSpec,
    draws: int,
    chains: int,
    tune: int,
    cores: int,
) -> RuntimePlan:
    """The plan's arithmetic (no compiling): time and memory from a :class:`ModelTiming`."""
    if draws < 1 or tune < 0 or chains < 1 or cores < 1:
        raise ValueError(
            f"draws={draws}, tune={tune}, chains={chains}, cores={cores}: need draws, chains "
            "and cores ≥ 1 and tune ≥ 0."
        )
    rounds = math.ceil(chains / min(cores, chains))
    steps = STEPS_PER_DRAW * (DRAW_DIAG_STEPS if len(data.geos) >= DRAW_DIAG_GEOS else 1.0)
    est_sample_s = timing.grad_s * steps * (draws + tune) * rounds
    mem, contrib = memory_mb(data, spec, timing.n_stored, draws, chains)
    assumptions = (
        f"{steps:g} gradient evaluations per iteration (nutpie, calibrated on "
        "well-identified fits, right to a factor 2–3); a badly mixing posterior (tree depth at "
        "its limit) or CPUs shared with other work can take many times longer."
    )
    return RuntimePlan(
        compile_s=timing.compile_s,
        grad_eval_us=timing.grad_s * 1e6,
        est_sample_s=est_sample_s,
        est_total_s=timing.compile_s + est_sample_s,
        est_memory_mb=mem,
        contributions_mb=contrib,
        n_parameters=timing.n_parameters,
        n_stored=timing.n_stored,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        steps_per_draw=steps,
        assumptions=assumptions,
        advice=large_panel_advice(data, spec),
    )


def large_panel_advice(data: MMMData, spec: ModelSpec) -> tuple[str, ...]:
    """What a panel of ``LARGE_PANEL_GEOS`` geos or more is fitted with, and why.

    Both settings are measured on Meridian's 40-geo demo panel (``benchmarks/RESULTS.md``,
    sections 2 and 4) and are ``bm.fit``'s defaults on such panels; the float32 line appears
    only when the spec turns single precision off.
    """
    if len(data.geos) < LARGE_PANEL_GEOS:
        return ()
    advice = []
    if not spec.use_float32(len(data.geos)):
        advice.append(
            "ModelSpec(float32=None) (the default) or True: the media part in single "
            "precision; on Meridian's 40-geo panel the gradient costs ~340 µs against "
            "~910 µs"
        )
    if spec.resolved_pooling(len(data.geos)) == "hierarchical":
        advice.append(
            "nutpie's mass matrix comes from draw variances on panels this large "
            '(sampler_kwargs={"adaptation": "draw_diag"}, bm.fit\'s default from '
            f"{DRAW_DIAG_GEOS} geos): ~2× the leapfrog steps of the default adaptation for "
            f"2–3× the min ESS on a geo-spread scale (beta_sigma); the plan counts "
            f"{DRAW_DIAG_STEPS:g}× the steps"
        )
    return tuple(advice)


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
        as long as ``bm.fit``'s compile step (seconds to a minute); to compare run sizes,
        time once with :func:`time_model` and call :func:`plan_from_timing` for each.
    """
    spec = (spec or ModelSpec()).for_channels(data.channels)
    tune = draws if tune is None else tune
    cores = cores or min(chains, os.cpu_count() or 1)
    timing = time_model(data, spec, n_eval=n_eval)
    return plan_from_timing(timing, data, spec, draws, chains, tune, cores)
