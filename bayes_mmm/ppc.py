"""Predictive checks of a posterior against its data: R², MAPE and coverage of the
posterior predictive, CRPS, and how far the data moved each parameter from its prior.

- :func:`ppc_metrics`: R², MAPE (with intervals over draws) and 50%/90% coverage of the
  posterior predictive;
- :func:`prior_posterior_shift`: posterior sd / prior sd and the shift of the mean in
  prior sd units, per scalar parameter (which parameters the data informed);
- :func:`crps_draws`: the sample CRPS of a forecast (``bayes_mmm.holdout`` scores with it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm import results
from bayes_mmm.analysis import summarize
from bayes_mmm.convergence import flatten
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior
from bayes_mmm.sample import prior_predictive

COVERAGE_PROBS = (0.5, 0.9)
DATA_INFORMED_RATIO = 0.5


def coverage(pred: np.ndarray, obs: np.ndarray, prob: float) -> float:
    """Share of observations inside the central ``prob`` interval of ``pred`` (sample, ...)."""
    lo, hi = np.quantile(pred, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return float(np.mean((obs >= lo) & (obs <= hi)))


def ppc_metrics(
    posterior: Posterior, hdi_prob: float = 0.9, random_seed: int | None = 0
) -> pd.DataFrame:
    """Posterior predictive checks of the observed target.

    - ``r2``: 1 − SS_res / SS_tot per draw of the expected target, with SS_tot taken
      around each geo's own mean (a panel R² around the grand mean would credit the model
      for geo sizes it is told);
    - ``mape``: mean absolute percentage error of the expected target, per draw;
    - ``coverage_50``, ``coverage_90``: share of (date, geo) observations inside the
      central 50% / 90% posterior predictive interval (single numbers: lower/upper NaN).

    Returns
    -------
    DataFrame indexed by metric with ``mean``, ``median``, ``lower``, ``upper``;
    ``attrs["hdi_prob"]`` is the interval's probability.
    """
    post = as_posterior(posterior)
    y = post.data.target  # (date, geo)
    mu = results.expected_target(post)  # (chain, draw, date, geo)
    resid = ((mu - y) ** 2).sum(("date", "geo"))
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    r2 = 1 - resid / ss_tot
    mape = (abs(mu - y) / np.abs(y)).mean(("date", "geo"))
    both = xr.concat([r2, mape], dim=pd.Index(["r2", "mape"], name="metric"))
    table = summarize(both, hdi_prob)
    pred = results.posterior_predictive(post, random_seed=random_seed, expected=mu).values
    pred = pred.reshape(-1, *pred.shape[2:])
    for prob in COVERAGE_PROBS:
        c = coverage(pred, y, prob)
        table.loc[f"coverage_{round(prob * 100)}"] = [c, c, np.nan, np.nan]
    table.index.name = "metric"
    table.attrs["hdi_prob"] = hdi_prob
    return table


def _moments(ds: xr.Dataset) -> tuple[pd.Series, pd.Series]:
    return flatten(ds.mean(SAMPLE_DIMS), "mean"), flatten(ds.std(SAMPLE_DIMS), "sd")


def prior_posterior_shift(
    posterior: Posterior,
    prior: xr.DataTree | xr.Dataset | None = None,
    samples: int = 500,
    random_seed: int | None = 0,
) -> pd.DataFrame:
    """How far the data moved each scalar parameter from its prior.

    Parameters
    ----------
    prior : DataTree (with a ``prior`` group) or Dataset, dims (chain, draw, ...), optional
        Prior draws; by default ``sample.prior_predictive`` of the posterior's data and
        spec (compiles the PyMC model once, ~10 s).

    Returns
    -------
    DataFrame indexed by parameter element with ``prior_mean``, ``prior_sd``,
    ``posterior_mean``, ``posterior_sd``, ``sd_ratio`` (posterior sd / prior sd: well below
    1 means the data informed the parameter), ``shift`` ((posterior mean − prior mean) /
    prior sd) and ``informed`` (``sd_ratio < DATA_INFORMED_RATIO``).
    """
    fitted = as_posterior(posterior)
    if prior is None:
        prior = prior_predictive(fitted.data, fitted.spec, samples, random_seed)
    if isinstance(prior, xr.DataTree):
        prior = prior["prior"].to_dataset()
    post = fitted.idata["posterior"].to_dataset()
    params = fitted.parameter_table.index.str.split("[").str[0].unique()
    names = [n for n in params if n in prior]
    pm_, psd = _moments(prior[names])
    qm, qsd = _moments(post[names])
    table = pd.DataFrame(
        {"prior_mean": pm_, "prior_sd": psd, "posterior_mean": qm, "posterior_sd": qsd}
    ).dropna()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["sd_ratio"] = table["posterior_sd"] / table["prior_sd"]
        table["shift"] = (table["posterior_mean"] - table["prior_mean"]) / table["prior_sd"]
    table["informed"] = table["sd_ratio"] < DATA_INFORMED_RATIO
    table.index.name = "parameter"
    return table


def crps_draws(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Sample CRPS, E|X − y| − ½ E|X − X'|, per observation.

    Parameters
    ----------
    pred : ndarray, dims (sample, ...)
    obs : ndarray, dims (...)
    """
    m = pred.shape[0]
    first = np.abs(pred - obs).mean(axis=0)
    x = np.sort(pred, axis=0)
    w = (2 * np.arange(1, m + 1) - m - 1).reshape(-1, *([1] * obs.ndim))
    second = 2 * (w * x).sum(axis=0) / m**2  # E|X - X'| from order statistics
    return first - 0.5 * second
