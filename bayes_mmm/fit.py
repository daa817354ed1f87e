"""``bm.fit`` and the ``Fit`` facade: one object with every question a user asks of a fit.

``Fit`` sits at the top of the package. It wraps a :class:`~bayes_mmm.posterior.Posterior`
(data, spec, ArviZ ``DataTree``, run metadata) and each method delegates to the module
that answers the question: results (contributions, ROI), ppc, loo, drivers, mediation,
the optimizer, the report and the bundle. Nothing below imports it; analyses take the
``Posterior`` (or this facade, through ``posterior.as_posterior``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from bayes_mmm import bundle, forecast, loo, many, ppc, results
from bayes_mmm import refresh as refresh_module
from bayes_mmm.convergence import Convergence, ConvergenceWarning
from bayes_mmm.data import MMMData
from bayes_mmm.drivers import drivers as drivers_table
from bayes_mmm.errors import SpecError
from bayes_mmm.frequency import optimal_frequency as optimal_frequency_table
from bayes_mmm.mediation import mediation as mediation_table
from bayes_mmm.optimize import optimize as allocate_budget
from bayes_mmm.optimize import optimize_costed
from bayes_mmm.optimize import plan_frame as budget_plan_frame
from bayes_mmm.optimize import reach as reach_target
from bayes_mmm.optimize import weekly as weekly_plan
from bayes_mmm.optimize import what_if as budget_scenario
from bayes_mmm.optimize.rf_optimal import resolve_rf_frequency
from bayes_mmm.posterior import Draws, Posterior
from bayes_mmm.report import report as write_report
from bayes_mmm.sample import SAMPLERS, Run, prior_predictive, sample
from bayes_mmm.spec import ModelSpec

__all__ = ["FIT_CALLBACKS", "SAMPLERS", "ConvergenceWarning", "Fit", "fit", "fit_many", "load"]

# Called with each new Fit at the end of ``fit`` (``bayes_mmm.mlflow.autolog`` adds one).
FIT_CALLBACKS: list[Callable[[Fit], None]] = []


class Fit:
    """A fitted model: the facade over a :class:`~bayes_mmm.posterior.Posterior`.

    Build one with :func:`fit` or :func:`load`; ``Fit(data=, spec=, idata=, meta=)`` wraps
    existing draws, ``Fit(posterior=...)`` an existing posterior. Immutable.

    Attributes
    ----------
    posterior : Posterior
        The value underneath; ``data``, ``spec``, ``idata``, ``meta``, ``draws`` and
        ``convergence`` read through to it (see :class:`~bayes_mmm.posterior.Posterior`).
    """

    __slots__ = ("posterior",)
    posterior: Posterior

    def __init__(
        self,
        data: MMMData | None = None,
        spec: ModelSpec | None = None,
        idata: xr.DataTree | None = None,
        meta: dict | None = None,
        *,
        posterior: Posterior | None = None,
    ) -> None:
        if posterior is None:
            if data is None or spec is None or idata is None:
                parts = {"data": data, "spec": spec, "idata": idata}
                missing = [name for name, part in parts.items() if part is None]
                raise TypeError(
                    f"Fit() needs data=, spec= and idata= (or posterior=); missing: {missing}. "
                    "Build one with bm.fit(...) or bm.load(path)."
                )
            posterior = Posterior(data=data, spec=spec, idata=idata, meta=dict(meta or {}))
        object.__setattr__(self, "posterior", posterior)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __reduce__(self):
        return (partial(Fit, posterior=self.posterior), ())

    # ------------------------------------------------------------------ the posterior
    data = property(lambda self: self.posterior.data, doc="The panel (``MMMData``).")
    spec = property(lambda self: self.posterior.spec, doc="The ``ModelSpec``.")
    idata = property(lambda self: self.posterior.idata, doc="The ArviZ ``DataTree``.")
    meta = property(lambda self: self.posterior.meta, doc="The run's metadata.")

    @property
    def draws(self) -> Draws:
        """Numpy draws, (chain, draw) flattened (``Posterior.draws``)."""
        return self.posterior.draws

    @property
    def convergence(self) -> Convergence:
        """Every gate's value, threshold and verdict (see ``bayes_mmm.convergence``)."""
        return self.posterior.convergence

    @property
    def converged(self) -> bool:
        """True only when every convergence gate passes."""
        return self.posterior.converged

    def diagnostics(self) -> pd.DataFrame:
        """A row per scalar parameter: ``r_hat``, ``ess_bulk``, ``ess_tail``, ``mcse_mean``;
        ``df.attrs`` carries ``divergences``, ``bfmi``, ``converged`` and ``verdict``."""
        return self.posterior.diagnostics()

    # ------------------------------------------------------------------ results
    def contributions(self) -> xr.DataArray:
        """Channel contributions in target units, dims (chain, draw, date, geo, channel)."""
        return results.contributions(self.posterior)

    def baseline(self) -> xr.DataArray:
        """Non-media expected target in target units, dims (chain, draw, date, geo)."""
        return results.baseline(self.posterior)

    def mean_contributions(self) -> xr.DataArray:
        """Posterior mean contributions in target units, dims (date, geo, channel)."""
        return results.mean_contributions(self.posterior)

    def expected_target(self) -> xr.DataArray:
        """Expected target (baseline + all contributions), dims (chain, draw, date, geo)."""
        return results.expected_target(self.posterior)

    def roi_draws(self, by: str | None = None) -> xr.DataArray:
        """ROI per draw: dims (chain, draw, channel), or (chain, draw, geo, channel)."""
        return results.roi_draws(self.posterior, by=by)

    def roi(self, hdi_prob: float = 0.9, by: str | None = None) -> pd.DataFrame:
        """ROI per channel (spend group) with its HDI; see ``bayes_mmm.results.roi``."""
        return results.roi(self.posterior, hdi_prob=hdi_prob, by=by)

    def optimal_frequency(self, hdi_prob: float = 0.9, grid=None) -> pd.DataFrame:
        """Optimal frequency of each R&F channel with its HDI; see
        ``bayes_mmm.frequency.optimal_frequency``."""
        return optimal_frequency_table(self.posterior, hdi_prob=hdi_prob, grid=grid)

    def posterior_predictive(
        self, random_seed: int | None = None, expected: xr.DataArray | None = None
    ) -> xr.DataArray:
        """Posterior predictive target in target units, dims (chain, draw, date, geo)."""
        return results.posterior_predictive(self.posterior, random_seed, expected)

    def prior_predictive(self, samples: int = 500, random_seed: int | None = None) -> xr.DataTree:
        """Draws from the prior and prior predictive (PyMC), dims (chain, draw, ...)."""
        return prior_predictive(self.data, self.spec, samples, random_seed)

    # ------------------------------------------------------------------ checks
    def ppc(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """R², MAPE and 50%/90% coverage; see ``bayes_mmm.ppc.ppc_metrics``."""
        return ppc.ppc_metrics(self.posterior, hdi_prob=hdi_prob)

    def loo(self):
        """ELPD-LOO per (date, geo) observation; see ``bayes_mmm.loo.loo``."""
        return loo.loo(self.posterior)

    def drivers(self, hdi_prob: float = 0.9, mediation: bool = True) -> pd.DataFrame:
        """Every driver's effect with P(>0) and ranks; see ``bayes_mmm.drivers.drivers``."""
        return drivers_table(self.posterior, hdi_prob=hdi_prob, mediation=mediation)

    def mediation(self, hdi_prob: float = 0.9, interval: str = "hdi") -> pd.DataFrame:
        """Direct, indirect and total effects of upstream channels; ``interval="eti"`` gives
        equal-tailed intervals (better calibrated for the skewed indirect effects); see
        ``bayes_mmm.mediation.mediation``."""
        return mediation_table(self.posterior, hdi_prob=hdi_prob, interval=interval)

    # ------------------------------------------------------------------ budget questions
    def optimize(
        self, budget: float | None = None, weeks: int = 13, target: float | None = None, **kwargs
    ):
        """Posterior-aware budget allocation; see ``bayes_mmm.optimize.optimize``.

        With ``target`` (and no ``budget``): the least budget reaching it, a
        ``TargetReach``; see ``bayes_mmm.optimize.reach`` (``target_prob``,
        ``target_metric``, ``max_budget``). With ``flighting="optimize"``: spend per
        window week, a ``WeeklyPlan``; see ``bayes_mmm.optimize.weekly`` (``caps``,
        ``floors``, ``max_change``, ``dark``). With ``costs={group: CostCurve}``: costs
        that change with spend; see ``bayes_mmm.optimize.optimize_costed``.
        """
        if target is not None:
            if budget is not None:
                raise SpecError("Give either `budget` or `target`, not both.")
            return reach_target(self.posterior, target, weeks=weeks, **kwargs)
        if budget is None:
            raise SpecError("Give a `budget` to allocate, or a `target` to reach.")
        if kwargs.get("flighting") == "optimize":  # week by week: a WeeklyPlan
            kwargs.pop("flighting")
            return weekly_plan(self.posterior, budget, weeks=weeks, **kwargs)
        if kwargs.get("costs"):  # cost curves per spend group
            return optimize_costed(self.posterior, budget, kwargs.pop("costs"), weeks, **kwargs)
        return allocate_budget(self.posterior, budget=budget, weeks=weeks, **kwargs)

    def what_if(self, **kwargs: Any):
        """Revenue change of a budget scenario; see ``bayes_mmm.optimize.what_if``."""
        return budget_scenario(self.posterior, **kwargs)

    # ------------------------------------------------------------------ looking forward
    def predict(self, frame: pd.DataFrame, hdi_prob: float = 0.9, **kwargs: Any):
        """Forecast future periods from their inputs; see ``bayes_mmm.forecast.predict``."""
        return forecast.predict(self.posterior, frame, hdi_prob=hdi_prob, **kwargs)

    def scenarios(self, frames: dict, reference: str | None = None, **kwargs: Any):
        """Future plans compared on the same draws (uplift, P(better)); see
        ``bayes_mmm.forecast.compare_scenarios``."""
        return forecast.compare_scenarios(self.posterior, frames, reference=reference, **kwargs)

    def plan_frame(
        self, plan, weeks: int = 13, flighting: str = "history", rf_frequency="history"
    ) -> pd.DataFrame:
        """A budget plan (``Allocation``, or spend per group) as a future frame for
        :meth:`predict`; see ``bayes_mmm.optimize.plan_frame`` (``rf_frequency`` as in
        :meth:`optimize`)."""
        rf = resolve_rf_frequency(self.data, self.spec, self.draws[0], rf_frequency)
        return budget_plan_frame(self.data, plan, weeks, flighting, rf_frequency=rf)

    def refresh(self, new_data: MMMData, **kwargs: Any) -> Fit:
        """Refit warm on a panel with new weeks; the change report is in
        ``meta["refresh"]`` (see ``bayes_mmm.refresh.refresh``)."""
        return Fit(posterior=refresh_module.refresh(self.posterior, new_data, **kwargs))

    def refresh_report(self) -> pd.DataFrame | None:
        """The change report of a refreshed fit (None otherwise)."""
        return refresh_module.refresh_table(self.posterior)

    # ------------------------------------------------------------------ report and bundle
    def report(self, path: str | Path = "report.html", **kwargs: Any) -> Path:
        """Write the offline HTML report; see ``bayes_mmm.report.report``."""
        return write_report(self.posterior, path, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Write one bundle directory (atomic; see ``bayes_mmm.bundle``)."""
        return bundle.save(self.posterior, path)

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
    target_accept: float | None = None,
    progress: bool = True,
    sampler_kwargs: dict | None = None,
) -> Fit:
    """Sample the posterior of ``build_model(data, spec)`` and return a :class:`Fit`.

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
    target_accept : float, optional
        NUTS's target acceptance rate. None (the default) picks it from the panel: 0.95
        from 20 geos up, 0.9 below (see Notes); ``fit.meta`` records the value and
        ``target_accept_source`` ("panel size" or "user").
    sampler_kwargs : dict, optional
        Passed on to ``nutpie.sample`` (e.g. ``{"adaptation": "draw_diag"}`` or
        ``{"maxdepth": 8}``) or to ``pm.sample``; recorded in ``fit.meta``.

    Notes
    -----
    **Settings picked from the panel.** On panels of 20 geos or more the media part of the
    graph runs in single precision (``ModelSpec.float32=None``) and nutpie's mass matrix
    comes from draw variances (``adaptation="draw_diag"``, as Stan), and NUTS targets an
    acceptance rate of 0.95 rather than 0.9, because the default
    gradient-based adaptation under-scales geo-spread scales (``beta_sigma``) there: on
    Meridian's 40-geo panel trajectories are ~1.9× longer and the slowest parameter's ESS
    2–3× higher; at 0.9 three Meridian seeds in ten end with one divergence each, at 0.95
    none do (``benchmarks/RESULTS.md``, section 2). Smaller panels keep float64 and
    nutpie's default, where ``draw_diag`` costs 11–17% of ESS per second. ``fit.meta``
    records each choice (``float32``, ``adaptation``, ``target_accept``, and ``centring``,
    the geo hierarchy's parameterisation) and the report lists them;
    ``ModelSpec(float32=False)``, ``target_accept=0.9`` and
    ``sampler_kwargs={"adaptation": "diag"}`` override them.

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
    settings = (draws, tune, chains, cores, random_seed, sampler, target_accept, progress)
    run = Run(*settings, sampler_kwargs=sampler_kwargs)
    result = Fit(posterior=sample(data, spec, **vars(run)))
    for callback in FIT_CALLBACKS:
        callback(result)
    return result


def fit_many(jobs, client=None, **kwargs: Any) -> dict[str, Fit]:
    """Independent fits on Dask distributed, ``{job.name: Fit}`` in the order of ``jobs``;
    see ``bayes_mmm.many.sample_many`` for the arguments."""
    return {name: Fit(posterior=p) for name, p in many.sample_many(jobs, client, **kwargs).items()}


def load(path: str | Path, strict: bool = False) -> Fit:
    """Load a bundle written by ``Fit.save`` (see ``bayes_mmm.bundle.load``)."""
    return Fit(posterior=bundle.load(path, strict=strict))
