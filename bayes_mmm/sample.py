"""Sample the posterior of ``build_model(data, spec)`` (nutpie by default) into a
``Posterior``; draw from the prior.

This is the one module that runs a sampler. It returns a :class:`~bayes_mmm.posterior.
Posterior` with the run's metadata, and warns (:class:`~bayes_mmm.convergence.
ConvergenceWarning`) when a convergence gate fails.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import xarray as xr

from bayes_mmm.compile import compile_nutpie
from bayes_mmm.convergence import ConvergenceWarning
from bayes_mmm.data import MMMData
from bayes_mmm.errors import SpecError
from bayes_mmm.model import build_model, centring, parameter_names, scaled_target
from bayes_mmm.posterior import Posterior
from bayes_mmm.spec import ModelSpec

SAMPLERS = ("nutpie", "pymc", "numpyro")
#: From this many geos nutpie's mass matrix comes from draw variances (``"draw_diag"``)
#: unless ``sampler_kwargs`` names an ``adaptation``. On Meridian's 40-geo panel the default
#: (gradient-based) adaptation under-scales the organic channel's geo spread and misses the
#: ESS gate on about a third of seeds; ``draw_diag`` takes ~1.9× the leapfrog steps for
#: 2–3× the min ESS (``benchmarks/RESULTS.md``, section 2). On the 10-geo demo panel it
#: costs 11–17% of ESS per second (section 1), so smaller panels keep the default.
DRAW_DIAG_GEOS = 20
#: ``target_accept`` when the user gives none: ``LARGE_TARGET_ACCEPT`` from
#: ``DRAW_DIAG_GEOS`` geos up, ``SMALL_TARGET_ACCEPT`` below. On Meridian's 40-geo panel at
#: 0.9 three seeds in ten end with a single divergence in 4,000 draws (the gates ask for
#: none); 0.95 takes a smaller step for about the same number of leapfrog steps per draw
#: (``benchmarks/RESULTS.md``, section 2). Smaller panels keep 0.9, where more steps per
#: draw would cost ESS per second for nothing.
LARGE_TARGET_ACCEPT = 0.95
SMALL_TARGET_ACCEPT = 0.9
#: Half-width of the uniform jitter (unconstrained space) added to a warm start per chain,
#: so that chains started from one point still start apart (R-hat needs that).
INIT_JITTER = 0.1


@dataclass(frozen=True)
class Run:
    """The sampler's settings for one fit; ``bayes_mmm.fit.fit`` documents each one."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    random_seed: int | None = None
    sampler: str = "nutpie"
    target_accept: float | None = None
    progress: bool = True
    sampler_kwargs: dict | None = None
    init: Mapping | None = None

    def resolved(self) -> Run:
        """These settings with the defaults that depend on the machine filled in: cores
        (one per chain, at most the CPU count) and a drawn seed when none is given."""
        if self.sampler not in SAMPLERS:
            raise SpecError(f"sampler={self.sampler!r}: choose one of {SAMPLERS}.")
        seed = self.random_seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        return replace(
            self,
            cores=self.cores or min(self.chains, os.cpu_count() or 1),
            random_seed=int(seed),
            sampler_kwargs=dict(self.sampler_kwargs or {}),
        )


def sample(data: MMMData, spec: ModelSpec | None = None, **settings) -> Posterior:
    """Sample the posterior of ``build_model(data, spec)``.

    Parameters
    ----------
    settings
        The fields of :class:`Run` (draws, tune, chains, cores, random_seed, sampler,
        target_accept, progress, sampler_kwargs, init); ``bm.fit`` documents each one.
        ``init`` (``{variable: value}``, constrained values, e.g. a previous posterior's
        means from ``bayes_mmm.warmstart``) starts every chain there, jittered by
        ``INIT_JITTER`` in unconstrained space; variables it lacks, or gives in another
        shape, start as usual.

    Warns
    -----
    ConvergenceWarning
        When any gate fails (R-hat > 1.01, ESS_bulk < 400, a divergence, BFMI < 0.3).
    """
    spec = (spec or ModelSpec()).for_channels(data.channels)  # {channel: kind} in data order
    run = Run(**settings).resolved()
    t0 = time.perf_counter()
    chosen = panel_settings(data, spec)
    run, chosen["adaptation"], chosen["adaptation_source"] = _adaptation(run, len(data.geos))
    run, chosen["target_accept_source"] = _target_accept(run, len(data.geos))
    model = build_model(data, spec)
    var_names = parameter_names(data, spec)
    run_sampler = _nutpie if run.sampler == "nutpie" else _pymc
    idata, cache_hit, t1 = run_sampler(model, var_names, spec, run)
    t2 = time.perf_counter()
    meta = {
        "random_seed": run.random_seed,
        "sampler": run.sampler,
        "draws": run.draws,
        "tune": run.tune,
        "chains": run.chains,
        "target_accept": run.target_accept,
        "sampler_kwargs": run.sampler_kwargs,
        "init": "warm" if run.init else "default",
        **chosen,
        "compile_s": t1 - t0,
        "compile_reused": cache_hit,
        "sample_s": t2 - t1,
        "wall_s": t2 - t0,
    }
    result = Posterior(data=data, spec=spec, idata=tidy(idata, data, model.coords), meta=meta)
    if not result.converged:
        warnings.warn(result.convergence.message(), ConvergenceWarning, stacklevel=3)
    return result


def panel_settings(data: MMMData, spec: ModelSpec) -> dict:
    """What the spec's automatic settings resolve to on this panel, for ``fit.meta`` (the
    report's reproducibility section lists them).

    Returns
    -------
    dict
        ``float32``: the media graph's precision (``ModelSpec.use_float32``), with
        ``float32_source`` "spec" or "panel size"; ``centring``: how the geo hierarchy is
        parameterised (``bayes_mmm.model.centring``), in words.
    """
    n_geos = len(data.geos)
    out = {
        "float32": spec.use_float32(n_geos),
        "float32_source": "panel size" if spec.float32 is None else "spec",
    }
    weights = centring(data, spec)
    if spec.resolved_pooling(n_geos) != "hierarchical":
        out["centring"] = "none (no geo hierarchy)"
    elif weights is None or not weights.any():
        out["centring"] = "non-centred" + (" (estimated)" if spec.centred == "auto" else "")
    else:
        kind = "estimated" if spec.centred == "auto" else "centred channels"
        out["centring"] = (
            f"{kind}: {int((weights > 0).sum())} of {weights.size} geo × channel cells "
            f"centred or partly centred (mean weight {weights.mean():.2f})"
        )
    return out


def _adaptation(run: Run, n_geos: int) -> tuple[Run, str | None, str]:
    """nutpie's mass-matrix adaptation for a panel of ``n_geos`` geos: the user's
    ``sampler_kwargs["adaptation"]`` when given, else ``"draw_diag"`` from
    ``DRAW_DIAG_GEOS`` geos up and nutpie's ``"diag"`` below. Other samplers: None."""
    if run.sampler != "nutpie":
        return run, None, "sampler"
    kwargs = dict(run.sampler_kwargs or {})
    if "adaptation" in kwargs:
        return run, kwargs["adaptation"], "sampler_kwargs"
    if n_geos < DRAW_DIAG_GEOS:
        return run, "diag", "panel size"
    run = replace(run, sampler_kwargs={**kwargs, "adaptation": "draw_diag"})
    return run, "draw_diag", "panel size"


def _target_accept(run: Run, n_geos: int) -> tuple[Run, str]:
    """``run`` with its ``target_accept`` set, and where it came from: the user's value
    ("user"), else ``LARGE_TARGET_ACCEPT`` from ``DRAW_DIAG_GEOS`` geos up and
    ``SMALL_TARGET_ACCEPT`` below ("panel size")."""
    if run.target_accept is not None:
        if not 0.5 <= run.target_accept < 1:
            raise SpecError(
                f"target_accept={run.target_accept}: choose a value in [0.5, 1), e.g. 0.9 "
                "or 0.95 (higher takes smaller steps, for fewer divergences)."
            )
        return run, "user"
    large = n_geos >= DRAW_DIAG_GEOS
    value = LARGE_TARGET_ACCEPT if large else SMALL_TARGET_ACCEPT
    return replace(run, target_accept=value), "panel size"


def _nutpie(model, var_names, spec: ModelSpec, run: Run):
    """nutpie on the numba backend, reusing a compiled model of the same graph."""
    import nutpie

    compiled, cache_hit = compile_nutpie(model, var_names)
    if run.init:
        compiled = replace(compiled, initial_point_func=_warm_point_fn(model, run.init))
    t1 = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=run.draws,
        tune=run.tune,
        chains=run.chains,
        cores=run.cores,
        seed=run.random_seed,
        progress_bar=run.progress,
        save_warmup=False,
        target_accept=run.target_accept,
        **(run.sampler_kwargs or {}),
    )
    return idata, cache_hit, t1


def _pymc(model, var_names, spec: ModelSpec, run: Run):
    """PyMC's own NUTS (``"pymc"``) or its JAX path (``"numpyro"``)."""
    if run.sampler == "numpyro" and spec.use_float32(len(model.coords["geo"])):
        from bayes_mmm import fused_hill, fused_rf

        fused_hill.register_jax()  # the float32 graph's fused ops, in JAX
        fused_rf.register_jax()
    t1 = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=run.draws,
            tune=run.tune,
            chains=run.chains,
            cores=run.cores,
            random_seed=run.random_seed,
            target_accept=run.target_accept,
            nuts_sampler=run.sampler,
            var_names=var_names,
            progressbar=run.progress,
            compute_convergence_checks=False,
            initvals=_overrides(model, run.init) if run.init else None,
            **(run.sampler_kwargs or {}),
        )
    return idata, False, t1


def _overrides(model: pm.Model, init: Mapping) -> dict:
    """The entries of ``init`` that name a free variable of ``model`` in its shape."""
    shapes = model.eval_rv_shapes()
    free = {rv.name for rv in model.free_RVs}
    return {
        k: np.asarray(v, dtype=float)
        for k, v in init.items()
        if k in free and tuple(np.shape(v)) == tuple(shapes.get(k, ()))
    }


def _warm_point_fn(model: pm.Model, init: Mapping):
    """nutpie's initial-point function (seed → flat unconstrained point) starting at
    ``init``, jittered per seed by up to ``INIT_JITTER``."""
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(
        model=model, overrides=_overrides(model, init), jitter_rvs=set(), return_transformed=True
    )
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]

    def flat(seed=None):
        values = point(seed)
        x = np.concatenate([np.asarray(values[n], dtype=float).ravel() for n in names])
        rng = np.random.default_rng(seed)
        return x + rng.uniform(-INIT_JITTER, INIT_JITTER, size=x.shape)

    return flat


def tidy(idata: xr.DataTree, data: MMMData, coords: Mapping) -> xr.DataTree:
    """Keep posterior and sample stats (numeric only: netCDF-safe), label their dims with
    this model's ``coords`` (a reused compiled model carries its first model's) and add
    observed data."""
    groups = {}
    for name in ("posterior", "sample_stats"):
        ds = idata[name].to_dataset()
        keep = [v for v in ds.data_vars if ds[v].dtype != object]
        groups[name] = ds[keep].assign_coords(
            {d: list(coords[d]) for d in ds.dims if d in coords and coords[d] is not None}
        )
    groups["observed_data"] = xr.Dataset(
        {"y": (("date", "geo"), scaled_target(data))},
        coords={"date": data.dates, "geo": list(data.geos)},
    )
    return xr.DataTree.from_dict(groups)


def prior_predictive(
    data: MMMData, spec: ModelSpec, samples: int = 500, random_seed: int | None = None
) -> xr.DataTree:
    """Draws from the prior and prior predictive (PyMC), dims (chain, draw, ...).

    PyMC's progress line ("Sampling: [...]", logged at INFO) and PyTensor's note that numba
    runs the truncated-normal sampler in object mode are about PyMC's internals, not the
    user's model, so they are kept out of the user's output (and a notebook's stderr).
    """
    model = build_model(data, spec)
    forward = logging.getLogger("pymc.sampling.forward")
    level = forward.level
    forward.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Numba will use object mode", UserWarning)
            return pm.sample_prior_predictive(draws=samples, model=model, random_seed=random_seed)
    finally:
        forward.setLevel(level)
