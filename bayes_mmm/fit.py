"""``bm.fit``: sample the posterior (nutpie by default) and return a ``Fit``.

A ``Fit`` is a frozen value: the data, the spec, the ArviZ ``DataTree`` (``fit.idata``,
so ``arviz`` functions work on it directly) and the run's metadata (seed, sampler,
timings, versions). Results are computed from posterior draws in numpy
(``bayes_mmm.analysis``) and never rebuild or recompile the PyMC model.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayes_mmm import analysis, diagnostics
from bayes_mmm.compile import compile_nutpie
from bayes_mmm.data import MMMData
from bayes_mmm.model import build_model, parameter_names, scaled_target
from bayes_mmm.spec import ModelSpec

SAMPLERS = ("nutpie", "pymc", "numpyro")


class ConvergenceWarning(UserWarning):
    """A fit failed a convergence gate: its results are not to be trusted as they are."""


@dataclass(frozen=True, eq=False)
class Fit:
    """A fitted model: data, spec, posterior (``idata``) and run metadata.

    Attributes
    ----------
    data : MMMData
    spec : ModelSpec
    idata : xarray.DataTree
        Groups ``posterior``, ``sample_stats`` and ``observed_data`` (``y``: the scaled
        target, dims (date, geo)).
    meta : dict
        ``random_seed``, ``sampler``, ``draws``, ``tune``, ``chains``, ``compile_s``,
        ``compile_reused`` (a compiled model of the same graph was reused, see
        ``bayes_mmm.compile``), ``sample_s``, ``wall_s``.
    """

    data: MMMData
    spec: ModelSpec
    idata: xr.DataTree
    meta: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ diagnostics
    @cached_property
    def _table(self) -> pd.DataFrame:
        post = self.idata["posterior"].to_dataset()
        names = [n for n in parameter_names(self.data, self.spec) if n in post]
        return diagnostics.diagnostics_table(post[names])

    @cached_property
    def convergence(self) -> diagnostics.Convergence:
        """Every gate's value, threshold and verdict (see ``bayes_mmm.diagnostics``)."""
        stats = self.idata["sample_stats"].to_dataset()
        return diagnostics.convergence(
            self._table,
            diagnostics.count_divergences(stats),
            diagnostics.min_bfmi(stats),
            diagnostics.tree_depth_share(stats),
        )

    @property
    def converged(self) -> bool:
        """True only when every convergence gate passes."""
        return self.convergence.passed

    def diagnostics(self) -> pd.DataFrame:
        """A row per scalar parameter: ``r_hat``, ``ess_bulk``, ``ess_tail``, ``mcse_mean``.

        ``df.attrs`` carries ``divergences``, ``bfmi``, ``converged`` and ``verdict``.
        """
        table = self._table.copy()
        gates = {g.name: g.value for g in self.convergence.gates}
        table.attrs.update(
            divergences=int(gates["divergences"]),
            bfmi=gates["bfmi"],
            converged=self.converged,
            verdict=self.convergence.message(),
        )
        return table

    # ------------------------------------------------------------------ draws and results
    @cached_property
    def _draws(self) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
        post = self.idata["posterior"].to_dataset()
        names = [n for n in parameter_names(self.data, self.spec) if n in post]
        return analysis.posterior_draws(post, names)

    def contributions(self) -> xr.DataArray:
        """Channel contributions in target units, dims (chain, draw, date, geo, channel)."""
        draws, shape = self._draws
        values = analysis.channel_contribution_draws(self.data, self.spec, draws)
        d = self.data
        coords = {"date": d.dates, "geo": list(d.geos), "channel": list(d.channels)}
        return analysis.to_sample_array(
            values, shape, ("date", "geo", "channel"), coords, "contribution"
        )

    def baseline(self) -> xr.DataArray:
        """Non-media expected target (intercept, trend, seasonality, controls) in target
        units, dims (chain, draw, date, geo)."""
        draws, shape = self._draws
        values = analysis.baseline_draws(self.data, self.spec, draws)
        coords = {"date": self.data.dates, "geo": list(self.data.geos)}
        return analysis.to_sample_array(values, shape, ("date", "geo"), coords, "baseline")

    def mean_contributions(self) -> xr.DataArray:
        """Posterior mean of the channel contributions in target units, dims (date, geo,
        channel); computed chunk by chunk, unlike ``contributions().mean(...)``."""
        draws, _ = self._draws
        d = self.data
        return xr.DataArray(
            analysis.mean_contributions(d, self.spec, draws),
            dims=("date", "geo", "channel"),
            coords={"date": d.dates, "geo": list(d.geos), "channel": list(d.channels)},
            name="contribution",
        )

    def expected_target(self) -> xr.DataArray:
        """Expected target (baseline + all contributions), dims (chain, draw, date, geo)."""
        draws, shape = self._draws
        values = analysis.expected_target_draws(self.data, self.spec, draws)
        coords = {"date": self.data.dates, "geo": list(self.data.geos)}
        return analysis.to_sample_array(values, shape, ("date", "geo"), coords, "expected_target")

    @cached_property
    def _roi_cache(self) -> dict:
        return {}

    def roi_draws(self, by: str | None = None) -> xr.DataArray:
        """ROI per draw: dims (chain, draw, channel), or (chain, draw, geo, channel).

        Computed once per ``by`` and kept (it is small): the report, plots and tables all
        ask for it.
        """
        if by not in self._roi_cache:
            draws, shape = self._draws
            self._roi_cache[by] = analysis.roi_draws(self.data, self.spec, draws, shape, by=by)
        return self._roi_cache[by]

    def roi(self, hdi_prob: float = 0.9, by: str | None = None) -> pd.DataFrame:
        """ROI per channel (spend group) with its HDI.

        Parameters
        ----------
        hdi_prob : float
            Probability mass of the highest-density interval.
        by : {None, "geo"}
            ``"geo"`` gives a (geo, channel) index.

        Returns
        -------
        DataFrame with ``mean``, ``median``, ``lower``, ``upper``, and ``spend``.
        """
        table = analysis.summarize(self.roi_draws(by=by), hdi_prob)
        spend = self.data.spend.sum(axis=0)  # (geo, group)
        table["spend"] = spend.reshape(-1) if by == "geo" else spend.sum(axis=0)
        if not self.converged:
            table.attrs["warning"] = self.convergence.message()
        return table

    def posterior_predictive(
        self, random_seed: int | None = None, expected: xr.DataArray | None = None
    ) -> xr.DataArray:
        """Posterior predictive target in target units, dims (chain, draw, date, geo).

        ``expected`` (``fit.expected_target()``) may be passed when the caller already has
        it, so the media response is not computed twice.
        """
        draws, shape = self._draws
        rng = np.random.default_rng(random_seed)
        mu = (self.expected_target() if expected is None else expected).values
        sigma = draws["sigma"].reshape(*shape, 1, -1) * self.data.scaling.target
        if self.spec.likelihood == "student_t":
            nu = draws["nu"].reshape(*shape, 1, 1)
            noise = rng.standard_t(nu, size=mu.shape)
        else:
            noise = rng.standard_normal(mu.shape)
        coords = {"date": self.data.dates, "geo": list(self.data.geos)}
        return xr.DataArray(
            mu + sigma * noise,
            dims=("chain", "draw", "date", "geo"),
            coords=coords,
            name="posterior_predictive",
        )

    def prior_predictive(self, samples: int = 500, random_seed: int | None = None) -> xr.DataTree:
        """Draws from the prior and prior predictive (PyMC), dims (chain, draw, ...)."""
        model = build_model(self.data, self.spec)
        return pm.sample_prior_predictive(draws=samples, model=model, random_seed=random_seed)

    # ------------------------------------------------------------------ budget questions
    def optimize(self, budget: float, weeks: int = 13, **kwargs: Any):
        """Posterior-aware budget allocation; see ``bayes_mmm.optimize.optimize``."""
        from bayes_mmm.optimize import optimize

        return optimize(self, budget=budget, weeks=weeks, **kwargs)

    def what_if(self, **kwargs: Any):
        """Revenue change of a budget scenario; see ``bayes_mmm.optimize.what_if``."""
        from bayes_mmm.optimize import what_if

        return what_if(self, **kwargs)

    # ------------------------------------------------------------------ checks and report
    def ppc(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """R², MAPE and 50%/90% coverage; see ``bayes_mmm.diagnostics.ppc_metrics``."""
        return diagnostics.ppc_metrics(self, hdi_prob=hdi_prob)

    def loo(self):
        """ELPD-LOO per (date, geo) observation; see ``bayes_mmm.diagnostics.loo``."""
        return diagnostics.loo(self)

    def report(self, path: str | Path = "report.html", **kwargs: Any) -> Path:
        """Write the offline HTML report; see ``bayes_mmm.report.report``."""
        from bayes_mmm.report import report

        return report(self, path, **kwargs)

    def drivers(self, hdi_prob: float = 0.9, mediation: bool = True) -> pd.DataFrame:
        """Every driver's effect in target units with P(>0) and ranks; see
        ``bayes_mmm.drivers.drivers``."""
        from bayes_mmm.drivers import drivers

        return drivers(self, hdi_prob=hdi_prob, mediation=mediation)

    def mediation(self, hdi_prob: float = 0.9, interval: str = "hdi") -> pd.DataFrame:
        """Direct, indirect and total effects of upstream channels; ``interval="eti"`` gives
        equal-tailed intervals (better calibrated for the skewed indirect effects); see
        ``bayes_mmm.mediation.mediation``."""
        from bayes_mmm.mediation import mediation

        return mediation(self, hdi_prob=hdi_prob, interval=interval)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write one bundle directory (atomic; see ``bayes_mmm.bundle``)."""
        from bayes_mmm.bundle import save

        return save(self, path)

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"Fit({self.data!r}, sampler={m.get('sampler')}, chains={m.get('chains')}, "
            f"draws={m.get('draws')}, wall={m.get('wall_s', float('nan')):.1f}s, "
            f"{self.convergence.message()})"
        )


def fit(
    data: MMMData,
    spec: ModelSpec | None = None,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | None = None,
    sampler: str = "nutpie",
    target_accept: float = 0.9,
    progress: bool = True,
    sampler_kwargs: dict | None = None,
) -> Fit:
    """Sample the posterior of ``build_model(data, spec)``.

    Parameters
    ----------
    sampler : {"nutpie", "pymc", "numpyro"}
        nutpie (numba backend) is the default; ``"numpyro"`` runs PyMC's JAX path (GPUs).
        It needs ``pip install jax numpyro`` (in the ``dev``/``jax`` extras) and returns the
        same ``Fit``; on CPU it is slower than nutpie (JAX compiles for ~20 s first).
        GPU usage: install a CUDA build (``pip install "jax[cuda12]"``); JAX picks the GPU
        by itself, ``JAX_PLATFORMS=cpu`` forces the CPU and ``JAX_PLATFORMS=cuda`` fails
        loudly when no GPU is seen. PyMC runs in float64 (``jax_enable_x64``); for a GPU's
        faster float32 set ``PYTENSOR_FLAGS=floatX=float32`` before importing bayes_mmm and
        check convergence, since sums over long panels lose precision in float32. Chains run
        one after the other on a single GPU; it pays off for large panels (many geos × weeks),
        where one gradient dominates, not for small ones.
    random_seed : int, optional
        Recorded in ``fit.meta``; a random one is drawn (and recorded) when None.
    sampler_kwargs : dict, optional
        Passed on to ``nutpie.sample`` (e.g. ``{"adaptation": "draw_diag"}`` or
        ``{"maxdepth": 8}``) or to ``pm.sample``; recorded in ``fit.meta``.

    Notes
    -----
    **Large geo panels.** nutpie's default mass matrix comes from gradient variances. On
    Meridian's 40-geo demo panel that under-scales the organic channel's geo spread
    (``beta_sigma``), and 4 × 1,000 draws converged on 2 seeds of 4. With
    ``ModelSpec(float32=True)`` and ``sampler_kwargs={"adaptation": "draw_diag"}`` (draw
    variances, as Stan), trajectories are ~2× longer but that parameter's ESS triples: 11
    of 12 seeds converged there (min ESS 940–1,319, 0 divergences; the miss was a tail
    R-hat of 1.0104 on a well-mixed trend), in 99–105 s on 2 cores with a warm compile
    cache (``benchmarks/RESULTS.md``, seventh session). On the 10-geo demo panel
    ``draw_diag`` gives 11–17% fewer ESS per second, so it is not the default: use it when
    the slow parameters are geo-spread scales.

    **Reproducibility.** A seed gives the same draws on the same machine once numba's disk
    cache holds the compiled graph. The very first compile of a graph (an empty cache) can
    differ from cached code in the last bits of the log density (most likely because
    numba optimises a freshly compiled call tree as a whole), so its chains are a
    different, equally valid, set of draws.

    Warns
    -----
    ConvergenceWarning
        When any gate fails (R-hat > 1.01, ESS_bulk < 400, a divergence, BFMI < 0.3).
    """
    spec = spec or ModelSpec()
    spec = spec.for_channels(data.channels)  # a {channel: kind} saturation in data order
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r}: choose one of {SAMPLERS}.")
    if random_seed is None:
        random_seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    cores = cores or min(chains, os.cpu_count() or 1)
    t0 = time.perf_counter()
    model = build_model(data, spec)
    var_names = parameter_names(data, spec)
    if sampler == "nutpie":
        import nutpie

        compiled, cache_hit = compile_nutpie(model, var_names)
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=random_seed,
            progress_bar=progress,
            save_warmup=False,
            target_accept=target_accept,
            **(sampler_kwargs or {}),
        )
    else:
        if sampler == "numpyro" and spec.float32:
            from bayes_mmm.fused_hill import register_jax

            register_jax()  # the float32 graph's fused Hill op, in JAX
        cache_hit = False
        t1 = time.perf_counter()
        with model:
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=random_seed,
                target_accept=target_accept,
                nuts_sampler="pymc" if sampler == "pymc" else "numpyro",
                var_names=var_names,
                progressbar=progress,
                compute_convergence_checks=False,
                **(sampler_kwargs or {}),
            )
    t2 = time.perf_counter()
    idata = _tidy(idata, data, model.coords)
    meta = {
        "random_seed": int(random_seed),
        "sampler": sampler,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": target_accept,
        "sampler_kwargs": dict(sampler_kwargs or {}),
        "compile_s": t1 - t0,
        "compile_reused": cache_hit,
        "sample_s": t2 - t1,
        "wall_s": t2 - t0,
    }
    result = Fit(data=data, spec=spec, idata=idata, meta=meta)
    if not result.converged:
        warnings.warn(result.convergence.message(), ConvergenceWarning, stacklevel=2)
    return result


def _tidy(idata: xr.DataTree, data: MMMData, coords: Mapping) -> xr.DataTree:
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
