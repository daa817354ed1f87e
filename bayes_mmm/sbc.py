"""``bm.sbc``: simulation-based calibration of a spec on a panel's shape (Talts et al. 2018).

Each dataset draws parameters from the spec's prior, simulates a target from the model's
own generative process on the template's media, controls and calendar, fits it, and records
the rank of each true value among (thinned) posterior draws. Under a correct sampler and
model the ranks are uniform; a quantity whose ranks pile up at the edges (over-confident),
in the middle (under-confident) or at one end (biased) fails the uniformity test.

The simulated panels keep the template's scalings (target and media scales): the prior is
defined on those scales, so fitting with scales recomputed from each simulated target
would fit a different prior than the one the truth came from, and SBC would flag that
mismatch instead of the sampler's calibration.

Quantities: ROI per spend group (original units, carryover included), the channel
coefficients (``beta`` per geo and channel, ``beta_mu``), adstock ``alpha``, the saturation
parameters, the geo ``intercept`` and the noise ``sigma``.

Fits run in this process one after another, or on Dask through ``many.sample_many`` when a
``client`` is given (``bm.fit_many``'s runner).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from bayes_mmm.analysis import roi_draws
from bayes_mmm.data import MMMData
from bayes_mmm.many import Job, sample_many
from bayes_mmm.model import parameter_names
from bayes_mmm.posterior import Posterior, posterior_draws
from bayes_mmm.sample import prior_predictive, sample
from bayes_mmm.spec import ModelSpec

PARAMETERS = ("alpha", "ec", "slope", "lam", "beta", "beta_mu", "intercept", "sigma")
N_RANK_DRAWS = 99  # thinned posterior draws per fit: ranks take 100 values, 0 … 99
N_BINS = 10  # rank histogram bins for the chi-square test
DIMS = {"beta": ("geo", "channel"), "intercept": ("geo",), "sigma": ("geo",)}  # else channel
ALPHA = 0.01  # family-wise level of the uniformity tests (Bonferroni over quantities)


@dataclass(frozen=True)
class SBCResult:
    """Ranks and uniformity tests of a simulation-based calibration run.

    Attributes
    ----------
    ranks : DataFrame, dims (dataset, quantity)
        Rank of each true value among ``n_rank_draws`` thinned posterior draws (0 … L).
    n_rank_draws : int
        ``L``: the number of posterior draws each rank counts.
    tests : DataFrame, one row per quantity
        ``chi2``, ``p_value`` (chi-square test of uniform rank histograms in ``N_BINS``
        bins), ``p_adjusted`` (Bonferroni over quantities) and ``uniform``
        (``p_adjusted >= ALPHA``).
    converged : Series, dims (dataset,)
        Whether each fit passed every convergence gate (False for a fit that raised; its
        dataset has no ranks).
    """

    ranks: pd.DataFrame
    n_rank_draws: int
    tests: pd.DataFrame
    converged: pd.Series

    @property
    def gate_pass_rate(self) -> float:
        """Share of the fits that passed every convergence gate."""
        return float(self.converged.mean())

    @property
    def passed(self) -> bool:
        """No quantity fails uniformity at ``ALPHA`` after the multiplicity correction."""
        return bool(self.tests["uniform"].all())

    def summary(self) -> str:
        """One line per failing quantity, plus the counts, for people."""
        bad = self.tests[~self.tests["uniform"]]
        head = (
            f"SBC: {len(self.ranks)} datasets, {len(self.tests)} quantities, "
            f"{len(bad)} fail uniformity (Bonferroni, family-wise {ALPHA:g}); "
            f"{self.gate_pass_rate:.0%} of fits passed every convergence gate."
        )
        lines = [f"  {q}: p_adjusted={r.p_adjusted:.3g}" for q, r in bad.iterrows()]
        return "\n".join([head, *lines])


def sbc(
    template: MMMData,
    spec: ModelSpec | None = None,
    n: int = 200,
    client=None,
    *,
    random_seed: int = 0,
    **fit_kwargs,
) -> SBCResult:
    """Simulation-based calibration of ``spec`` on panels shaped like ``template``.

    Parameters
    ----------
    template : MMMData
        Media, spend, controls and calendar of the simulated panels (its target is
        replaced by each simulated one).
    spec : ModelSpec, optional
    n : int
        Datasets (each one prior draw and one fit).
    client : distributed.Client, optional
        Run the fits on Dask (``many.sample_many``); without one they run here in turn.
    random_seed : int
        Seeds the prior draws and, one spawned per dataset, the fits.
    **fit_kwargs
        Sampler settings for every fit (``draws``, ``tune``, ``chains``, ...).

    Returns
    -------
    SBCResult
    """
    spec = (spec or ModelSpec()).for_channels(template.channels)
    truths, panels = prior_panels(template, spec, n, random_seed)
    jobs = [
        Job(f"sbc{i}", panel, spec, {"progress": False, **fit_kwargs})
        for i, panel in enumerate(panels)
    ]
    fits = {k: p for k, p in _run(jobs, client, random_seed).items() if p is not None}
    done = [i for i, j in enumerate(jobs) if j.name in fits]
    rows = [ranks_of(fits[jobs[i].name], truths[i]) for i in done]
    ranks = pd.DataFrame(rows, index=pd.Index(done, name="dataset"))
    converged = pd.Series(
        [j.name in fits and fits[j.name].converged for j in jobs],
        index=pd.Index(range(n), name="dataset"),
        name="converged",
    )
    return SBCResult(ranks, N_RANK_DRAWS, uniformity(ranks, N_RANK_DRAWS), converged)


def prior_panels(
    template: MMMData, spec: ModelSpec, n: int, random_seed: int
) -> tuple[list[dict[str, float]], list[MMMData]]:
    """``n`` prior draws as true values (quantity → value) and the panels they generate.

    Each panel is ``template`` with its target replaced by one prior-predictive draw (in
    original units) and the template's scalings kept (see the module docstring).
    """
    prior = prior_predictive(template, spec, samples=n, random_seed=random_seed)
    names = [p for p in parameter_names(template, spec) if p in prior["prior"]]
    values, shape = posterior_draws(prior["prior"].to_dataset(), names)
    truths = quantity_draws(template, spec, values, shape)
    y = prior["prior_predictive"]["y"].transpose("chain", "draw", "date", "geo").values
    y = y.reshape(-1, *y.shape[2:]) * template.scaling.target[None, None, :]
    panels = []
    for i in range(n):
        panel = replace(template, target=y[i])
        # The prior lives on the template's scales; the fit must use the same ones.
        panel.__dict__["scaling"] = template.scaling
        panels.append(panel)
    return [{q: float(v[i]) for q, v in truths.items()} for i in range(n)], panels


def quantity_draws(data: MMMData, spec: ModelSpec, values: dict, shape) -> dict[str, np.ndarray]:
    """Quantity label → values per sample, dims (sample,): ROI per spend group and every
    element of the ``PARAMETERS`` present."""
    out = {}
    roi = roi_draws(data, spec, values, shape).values.reshape(-1, len(data.group_labels))
    for k, label in enumerate(data.group_labels):
        out[f"roi[{label}]"] = roi[:, k]
    labels = {"channel": data.channels, "geo": data.geos}
    for name in PARAMETERS:
        if name not in values:
            continue
        arr = values[name]
        dims = DIMS.get(name, ("channel",))
        for index in np.ndindex(*arr.shape[1:]):
            where = ",".join(
                str(labels[d][i]) if arr.shape[1 + k] == len(labels[d]) else str(i)
                for k, (d, i) in enumerate(zip(dims, index))
            )
            out[f"{name}[{where}]"] = arr[(slice(None), *index)]
    return out


def ranks_of(posterior: Posterior, truth: dict[str, float]) -> dict[str, int]:
    """Rank of each true value among ``N_RANK_DRAWS`` evenly thinned posterior draws."""
    values, shape = posterior.draws
    quantities = quantity_draws(posterior.data, posterior.spec, values, shape)
    total = shape[0] * shape[1]
    keep = np.linspace(0, total - 1, min(N_RANK_DRAWS, total)).astype(int)
    return {q: int(np.sum(quantities[q][keep] < truth[q])) for q in truth}


def uniformity(ranks: pd.DataFrame, n_rank_draws: int, bins: int = N_BINS) -> pd.DataFrame:
    """Chi-square test of uniform ranks per quantity, Bonferroni-adjusted.

    Parameters
    ----------
    ranks : DataFrame, dims (dataset, quantity), values in 0 … ``n_rank_draws``
    n_rank_draws : int

    Returns
    -------
    DataFrame indexed by quantity: ``chi2``, ``p_value``, ``p_adjusted``, ``uniform``.
    """
    edges = np.linspace(0, n_rank_draws + 1, bins + 1)
    rows = {}
    for q in ranks.columns:
        counts, _ = np.histogram(ranks[q].to_numpy(), bins=edges)
        chi2, p = stats.chisquare(counts)
        rows[q] = {"chi2": float(chi2), "p_value": float(p)}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["chi2", "p_value"])
    table["p_adjusted"] = np.minimum(table["p_value"] * len(table), 1.0)
    table["uniform"] = table["p_adjusted"] >= ALPHA
    table.index.name = "quantity"
    return table


def fit_seeds(random_seed: int, n: int) -> list[int]:
    """The NUTS seed of each of ``n`` datasets' fits (one spawned per dataset), so a run's
    fits can be replayed one by one."""
    seeds = np.random.SeedSequence([random_seed, 1]).spawn(n)
    return [int(s.generate_state(1)[0] >> 1) for s in seeds]


def _run(jobs: list[Job], client, random_seed: int) -> Mapping[str, Posterior | None]:
    """Fit every job: on Dask with a client, else here in turn (None for a fit that raised
    a sampler error; on Dask any failure ends the run, as in ``sample_many``)."""
    jobs = [
        replace(j, fit_kwargs={"random_seed": seed, **j.fit_kwargs})
        for j, seed in zip(jobs, fit_seeds(random_seed, len(jobs)))
    ]
    if client is not None:
        return sample_many(jobs, client)
    out: dict[str, Posterior | None] = {}
    for job in jobs:
        out[job.name] = None
        try:
            with warnings.catch_warnings():
                # Convergence is recorded per fit (SBCResult.converged), not warned n times.
                warnings.simplefilter("ignore")
                out[job.name] = sample(job.data, job.spec, **job.fit_kwargs)
        except (RuntimeError, FloatingPointError) as err:
            # A prior draw the sampler cannot start from is a failed fit, not the run's end.
            warnings.warn(f"SBC {job.name}: the fit failed ({err}).", stacklevel=3)
    return out
