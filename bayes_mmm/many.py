"""``fit_many``: independent fits on Dask distributed (folds, calibration runs, spec grids,
per-market models).

A :class:`Job` is a frozen value (name, data, spec, fit keyword arguments, free-form
``info``). Small constructors build the usual job lists: :func:`time_slice_jobs`
(expanding-window cross-validation), :func:`spec_grid_jobs`, :func:`panel_jobs` (one model
per brand or market) and :func:`simulation_jobs` (fits on simulated panels with known truth,
for calibration checks).

Design choices
--------------
- Dask does the scheduling (``client.map`` + ``as_completed``); there is no home-made
  scheduler. Without a client, a ``LocalCluster`` of processes with one thread each is
  started (``n_workers = min(len(jobs), cpu_count)``) and closed afterwards. With a
  client, its scheduler is used as it is.
- A ``Fit`` pickles reliably (checked: ``pickle`` round trips of a fit give identical
  posteriors, ROI and spec), so by default fits come back through Dask. With
  ``bundle_dir`` each worker also saves its fit as a bundle (``bundle_dir/<name>``) and the
  client loads it with ``bm.load``: results then survive a crash of the client, and on a
  multi-machine cluster ``bundle_dir`` must be a shared file system.
- Jobs without a ``random_seed`` get one spawned from ``fit_many``'s ``random_seed``, so a
  whole batch is reproducible from one number.
- nutpie runs a fit's chains on threads of its own: on our own LocalCluster each fit gets
  ``cores=1`` unless the job says otherwise, so that workers do not oversubscribe the CPUs.
"""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bayes_mmm.bundle import load, save
from bayes_mmm.data import MMMData
from bayes_mmm.errors import BundleError, DataError, SpecError
from bayes_mmm.posterior import Posterior
from bayes_mmm.progress import iterate
from bayes_mmm.sample import sample
from bayes_mmm.spec import ModelSpec

_NAME = re.compile(r"^[A-Za-z0-9_.=+-]+$")


@dataclass(frozen=True)
class Job:
    """One independent fit.

    Attributes
    ----------
    name : str
        Unique within a batch; letters, digits and ``_.=+-`` (it names the bundle folder).
    data : MMMData
    spec : ModelSpec
    fit_kwargs : dict
        Keyword arguments of ``bm.fit`` (draws, tune, chains, random_seed, sampler, ...).
    info : dict
        Anything the caller needs afterwards (a fold's holdout panel, a simulation's truth);
        not used by the fit.
    """

    name: str
    data: MMMData
    spec: ModelSpec = field(default_factory=ModelSpec)
    fit_kwargs: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- job constructors
def time_slice_jobs(
    data: MMMData, spec: ModelSpec | None, n_folds: int, horizon: int, **fit_kwargs: Any
) -> list[Job]:
    """Expanding-window time-slice cross-validation folds.

    Fold ``k`` (0-based) trains on the first ``T - (n_folds - k) * horizon`` periods;
    ``job.info["holdout_data"]`` is the panel up to ``horizon`` periods later, so
    ``bm.holdout.holdout_forecast(fits[job.name], job.info["holdout_data"])`` scores
    the fold's forecast.

    Parameters
    ----------
    n_folds, horizon : int
        Number of folds and periods forecast by each.
    """
    spec = spec or ModelSpec()
    n_train0 = data.n_dates - n_folds * horizon
    if n_folds < 1 or horizon < 1 or n_train0 < 5:
        raise SpecError(
            f"n_folds={n_folds}, horizon={horizon}: the first fold would train on {n_train0} "
            f"of {data.n_dates} periods; it needs at least 5 (fewer folds or a shorter horizon)."
        )
    jobs = []
    for k in range(n_folds):
        n_train = n_train0 + k * horizon
        jobs.append(
            Job(
                name=f"fold{k}",
                data=data.truncate(n_train),
                spec=spec,
                fit_kwargs=dict(fit_kwargs),
                info={
                    "fold": k,
                    "train_end": data.dates[n_train - 1],
                    "holdout_data": data.truncate(n_train + horizon),
                },
            )
        )
    return jobs


def spec_grid_jobs(data: MMMData, specs: Mapping[str, ModelSpec], **fit_kwargs: Any) -> list[Job]:
    """One job per named spec on the same data, e.g. ``{"hill": ModelSpec(), "log": ...}``."""
    return [Job(name, data, spec, dict(fit_kwargs)) for name, spec in specs.items()]


def panel_jobs(
    datasets: Mapping[str, MMMData], spec: ModelSpec | None = None, **fit_kwargs: Any
) -> list[Job]:
    """One model per brand or market: ``{"brand_a": data_a, "brand_b": data_b}``."""
    spec = spec or ModelSpec()
    return [Job(name, data, spec, dict(fit_kwargs)) for name, data in datasets.items()]


def simulation_jobs(
    seeds: Iterable[int],
    spec: ModelSpec | None = None,
    simulate_kwargs: Mapping[str, Any] | None = None,
    **fit_kwargs: Any,
) -> list[Job]:
    """Fits on panels simulated by ``bm.simulate`` (one per seed), for calibration runs.

    ``job.info`` holds ``seed`` and the simulation's ``truth`` (``bm.Truth``: true ROI and
    contributions), to compare with each fit's posterior.
    """
    from bayes_mmm.simulate import simulate

    simulate_kwargs = dict(simulate_kwargs or {})
    unsupported = sorted({"spend_groups", "organic", "holiday_effect"} & set(simulate_kwargs))
    if unsupported:
        raise SpecError(
            f"simulation_jobs builds plain media panels; {unsupported} need their own "
            "MMMData.from_frame call: simulate the panels yourself and use panel_jobs."
        )
    spec = spec or ModelSpec()
    jobs = []
    for seed in seeds:
        frame, truth = simulate(seed=int(seed), **simulate_kwargs)
        data = MMMData.from_frame(
            frame,
            date="date",
            target="revenue",
            media=[str(c) for c in truth.contributions["channel"].values],
            geo="geo",
            controls=[c for c in frame.columns if c.startswith("control_")],
        )
        info = {"seed": int(seed), "truth": truth}
        jobs.append(Job(f"sim{seed}", data, spec, dict(fit_kwargs), info))
    return jobs


# ---------------------------------------------------------------------- running
def _run_job(job: Job, bundle_dir: str | None, default_cores: int | None):
    """Worker side: sample one job; save it to ``bundle_dir/<name>`` when asked."""

    kwargs = dict(job.fit_kwargs)
    if default_cores is not None:
        kwargs.setdefault("cores", default_cores)
    kwargs.setdefault("progress", False)
    with warnings.catch_warnings():
        # Convergence is part of the result (.converged); a warning on a worker is lost.
        warnings.simplefilter("ignore")
        result = sample(job.data, job.spec, **kwargs)
    if bundle_dir is None:
        return result
    return str(save(result, Path(bundle_dir) / job.name))


def _check_jobs(jobs: Sequence[Job]) -> None:
    if not jobs:
        raise SpecError("fit_many needs at least one Job.")
    names = [j.name for j in jobs]
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise SpecError(f"Job names {bad} may use only letters, digits and '_.=+-'.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"Job names must be unique; repeated: {dup}.")


def sample_many(
    jobs: Sequence[Job],
    client=None,
    *,
    bundle_dir: str | Path | None = None,
    random_seed: int | None = None,
    n_workers: int | None = None,
    progress: bool | None = None,
) -> dict[str, Posterior]:
    """Run independent fits on Dask distributed and return ``{job.name: Posterior}``
    (``bm.fit_many`` wraps each in a ``Fit``).

    Parameters
    ----------
    jobs : sequence of Job
    client : distributed.Client, optional
        An existing scheduler to use. Without one, a ``LocalCluster`` of processes with
        one thread each (``n_workers`` default ``min(len(jobs), os.cpu_count())``) is
        started and closed.
    bundle_dir : path, optional
        Save each fit as the bundle ``bundle_dir/<name>`` on the worker and load it back
        with ``bm.load`` (must be visible to workers and client alike).
    random_seed : int, optional
        Seeds jobs whose ``fit_kwargs`` have no ``random_seed`` (one spawned per job, in
        order), so the batch is reproducible.
    progress : bool or None
        A bar counting finished fits (``bayes_mmm.progress``; None: terminals and notebooks).

    Returns
    -------
    dict of str to Posterior, in the order of ``jobs``.

    Notes
    -----
    Dask starts worker processes with ``spawn``: a script that calls ``fit_many`` without a
    client must do so under ``if __name__ == "__main__":``. A worker compiles a model graph
    once (nutpie, ~10–20 s) and reuses it for every later job of the same spec and shapes
    (``bayes_mmm.compile``: simulation runs, markets, folds of one length; 12.9 s → 0.2 s
    on Meridian's panel); numba's disk cache shortens the first compile of a graph already
    built by another process.

    Examples
    --------
    >>> jobs = bm.many.time_slice_jobs(data, bm.ModelSpec(), n_folds=4, horizon=13,
    ...                                draws=500, tune=500, chains=2)
    >>> fits = bm.fit_many(jobs, random_seed=1)
    >>> holdout = holdout_forecast(fits["fold0"], jobs[0].info["holdout_data"])

    Raises
    ------
    DataError, SpecError, BundleError
        When a job fails with one of the package's own errors (bad data, spec or bundle):
        the first such error's type, so ``except bm.DataError`` works as for ``bm.fit``.
    RuntimeError
        When jobs fail otherwise.
        Either message names every failed job and its error (with ``bundle_dir``, the fits
        that finished are saved there all the same).
    """
    from distributed import Client, LocalCluster

    jobs = list(jobs)
    _check_jobs(jobs)
    jobs = _seeded(jobs, random_seed)
    own = client is None
    if own:
        n_workers = n_workers or min(len(jobs), os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    bundle = None if bundle_dir is None else str(Path(bundle_dir).resolve())
    try:
        results, errors = _collect(client, jobs, bundle, 1 if own else None, progress)
    finally:
        if own:
            client.close()
            cluster.close()
    if errors:
        raise batch_error(errors, len(jobs))
    return {j.name: results[j.name] for j in jobs}


USER_ERRORS = (DataError, SpecError, BundleError)


def batch_error(errors: Mapping[str, BaseException], n_jobs: int) -> Exception:
    """One error for a batch's failed jobs (``{name: exception}``): the type of the first
    ``USER_ERRORS`` among them, else ``RuntimeError``; the message names every job."""
    lines = "; ".join(f"{n}: {type(e).__name__}: {e}" for n, e in errors.items())
    message = f"{len(errors)} of {n_jobs} fits failed — {lines}"
    ours = [e for e in errors.values() if isinstance(e, USER_ERRORS)]
    return type(ours[0])(message) if ours else RuntimeError(message)


def _collect(
    client, jobs: list[Job], bundle: str | None, default_cores: int | None, progress: bool | None
):
    """Submit every job and gather ``({name: Posterior}, {name: error})`` as they finish."""
    from distributed import as_completed

    futures = client.map(
        _run_job,
        jobs,
        bundle_dir=bundle,
        default_cores=default_cores,
        key=[f"bayes_mmm-fit-{j.name}-{uuid.uuid4().hex[:8]}" for j in jobs],
    )
    name_of = {f.key: j.name for f, j in zip(futures, jobs)}
    results, errors = {}, {}
    for future in iterate(as_completed(futures), "fits", progress, len(jobs)):
        name = name_of[future.key]
        if future.status == "error":
            errors[name] = future.exception()
        else:
            out = future.result()
            results[name] = load(out) if bundle is not None else out
    return results, errors


def _seeded(jobs: list[Job], random_seed: int | None) -> list[Job]:
    if random_seed is None:
        return jobs
    seeds = np.random.SeedSequence(random_seed).spawn(len(jobs))
    out = []
    for job, seq in zip(jobs, seeds):
        if "random_seed" not in job.fit_kwargs:
            kwargs = {**job.fit_kwargs, "random_seed": int(seq.generate_state(1)[0] >> 1)}
            job = replace(job, fit_kwargs=kwargs)
        out.append(job)
    return out
