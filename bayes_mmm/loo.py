"""Model comparison by ELPD-LOO: a pointwise log-likelihood computed in numpy from the
draws (no model recompilation), PSIS-LOO through arviz-stats, and :func:`compare`, which
puts ELPD, holdout metrics, convergence verdicts and fit times in one table.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from bayes_mmm.errors import DataError
from bayes_mmm.posterior import Posterior, as_posterior, chunked
from bayes_mmm.response import expected_response, make_design


def log_likelihood(posterior: Posterior, chunk: int = 250) -> xr.DataArray:
    """Pointwise log-likelihood of each (date, geo) observation of the scaled target.

    Computed in numpy from the posterior draws (Normal or Student-t around
    ``response.expected_response``), so no model is rebuilt or recompiled.

    Returns
    -------
    DataArray, dims (chain, draw, date, geo)
    """
    post = as_posterior(posterior)
    spec = post.spec
    design = make_design(post.data, spec)
    y = post.idata["observed_data"]["y"].transpose("date", "geo").values
    values, shape = post.draws

    def one(c):
        mu = expected_response(design, c, spec)
        sigma = c["sigma"][:, None, :]
        if spec.likelihood == "student_t":
            return stats.t.logpdf(y, c["nu"].reshape(-1, 1, 1), loc=mu, scale=sigma)
        return stats.norm.logpdf(y, loc=mu, scale=sigma)

    ll = chunked(values, one, chunk).reshape(*shape, *y.shape)
    coords = {"date": post.data.dates, "geo": list(post.data.geos)}
    return xr.DataArray(ll, dims=("chain", "draw", "date", "geo"), coords=coords, name="y")


def with_log_likelihood(posterior: Posterior) -> xr.DataTree:
    """The posterior's ``idata`` with a ``log_likelihood`` group (variable ``y``) for
    ``az.loo``."""
    post = as_posterior(posterior)
    groups = {k: post.idata[k].to_dataset() for k in post.idata.children}
    groups["log_likelihood"] = log_likelihood(post).to_dataset()
    return xr.DataTree.from_dict(groups)


def loo(posterior: Posterior, *, label: str = "This fit"):
    """ELPD-LOO (PSIS) per (date, geo) observation (arviz-stats ``ELPDData``).

    Parameters
    ----------
    label : str
        How the warning names the fit (``compare`` passes each model's name).

    Warns
    -----
    UserWarning
        When observations have Pareto k above arviz-stats' reliability threshold: the
        ELPD estimate is then unreliable, and the warning says how many and what to do.
    """
    with warnings.catch_warnings():
        # arviz-stats' own warning names no fit and no remedy; ours below does both.
        warnings.simplefilter("ignore", UserWarning)
        res = az.loo(with_log_likelihood(posterior), pointwise=True)
    bad = n_bad_pareto_k(res)
    if bad:
        k = np.asarray(res.pareto_k)
        warnings.warn(
            f"{label}: {bad} of {k.size} observations have Pareto k > {res.good_k:.2f} "
            f"(largest {np.nanmax(k):.2f}); its ELPD-LOO is unreliable (consider a holdout "
            "or K-fold CV).",
            UserWarning,
            stacklevel=2,
        )
    return res


def n_bad_pareto_k(res) -> int:
    """Observations whose Pareto k exceeds the reliability threshold of ``res`` (an
    arviz-stats ``ELPDData`` with pointwise values)."""
    k = np.asarray(res.pareto_k).reshape(-1)
    return int(np.sum(k > res.good_k))


def compare(fits, holdouts=None, cv=None) -> pd.DataFrame:
    """One table comparing fits of the same data.

    Parameters
    ----------
    fits : mapping of str to Posterior (or Fit)
    holdouts : mapping of str to Holdout, optional
        Holdout results by the same names (see :func:`holdout`).
    cv : mapping of str to CVResult, optional
        Time-slice cross-validation results by the same names (``bm.cross_validate``):
        adds ``cv_crps``, ``cv_mape``, ``cv_coverage_90`` (averaged over folds) and
        ``cv_rank`` (1 = lowest out-of-sample CRPS).

    Returns
    -------
    DataFrame indexed by model, best ELPD first: ``elpd_loo``, ``se``, ``elpd_diff``
    (from the best), ``p_loo``, ``n_obs``, ``pareto_k_bad`` (observations with Pareto k
    above the reliability threshold), ``converged``, ``verdict``, ``fit_s`` and, when given,
    ``holdout_mape``, ``holdout_crps``, ``holdout_coverage_90``. ``attrs["note"]`` states
    that LOO is per (date, geo) observation, and starts with "NOT CONVERGED" naming the
    fits that fail the convergence gates when any does.

    Warns
    -----
    UserWarning
        When a fit has observations with high Pareto k (its ELPD estimate is unreliable).
    """
    fits = {name: as_posterior(f) for name, f in dict(fits).items()}
    if not fits:
        raise DataError("compare() needs at least one fit, e.g. {'hierarchical': fit}.")
    hashes = {name: f.data.data_hash for name, f in fits.items()}
    if len(set(hashes.values())) > 1:
        raise DataError(
            f"compare() needs fits of the same data; data hashes differ: {hashes}. "
            "ELPD of different data sets is not comparable."
        )
    rows = {}
    for name, f in fits.items():
        res = loo(f, label=name)
        bad = n_bad_pareto_k(res)
        conv = f.convergence
        row = {
            "elpd_loo": float(res.elpd),
            "se": float(res.se),
            "p_loo": float(res.p),
            "n_obs": int(res.n_data_points),
            "pareto_k_bad": bad,
            "converged": conv.passed,
            "verdict": conv.message(),
            "fit_s": float(f.meta.get("wall_s", np.nan)),
        }
        if holdouts and name in holdouts:
            m = holdouts[name].metrics
            row.update(
                holdout_mape=m["mape"],
                holdout_crps=m["crps"],
                holdout_coverage_90=m["coverage_90"],
            )
        if cv and name in cv:
            m = cv[name].overall
            row.update(cv_crps=m["crps"], cv_mape=m["mape"], cv_coverage_90=m["coverage_90"])
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    if "cv_crps" in table:
        table["cv_rank"] = table["cv_crps"].rank(method="min")
    table = table.sort_values("elpd_loo", ascending=False)
    table.insert(2, "elpd_diff", table["elpd_loo"] - table["elpd_loo"].iloc[0])
    table.index.name = "model"
    note = (
        "ELPD-LOO (PSIS) is per (date, geo) observation of the scaled target; higher is "
        "better. Differences smaller than about 2 × se are not meaningful."
    )
    failed = list(table.index[~table["converged"].astype(bool)])
    if failed:  # loud and first: a ranking of unconverged fits is not a result
        note = (
            f"NOT CONVERGED: {', '.join(failed)} {'fails' if len(failed) == 1 else 'fail'} "
            "the convergence gates (see the verdict column); this ranking is provisional "
            "until every fit converges. " + note
        )
    table.attrs["note"] = note
    return table
