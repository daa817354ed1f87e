"""Convergence diagnostics and gates (arviz-stats underneath).

A fit passes when every gate holds:

- ``r_hat``: every parameter's rank-normalised split R-hat ≤ 1.01;
- ``ess_bulk``: every parameter's bulk ESS ≥ 400 (short test runs fail this on
  purpose: a 200-draw fit is not a result);
- ``divergences``: none after warm-up;
- ``bfmi``: E-BFMI ≥ 0.3 in every chain;
- ``tree_depth`` (when the sampler reports it; part of ``Fit.convergence``): at most 1%
  of draws hit the maximum tree depth.

Each failing gate comes with its remedy, and ``Fit`` warns loudly when one fails.

Beyond the gates this module checks a fit against the data:

- :func:`ppc_metrics`: R², MAPE (with intervals over draws) and 50%/90% coverage of the
  posterior predictive;
- :func:`prior_posterior_shift`: posterior sd / prior sd and the shift of the mean in
  prior sd units, per scalar parameter (which parameters the data informed);
- :func:`holdout` / :func:`holdout_metrics`: fit on all but the last weeks and score the
  forecast (MAPE, CRPS, coverage);
- :func:`log_likelihood` and :func:`compare`: ELPD-LOO per (date, geo) observation from
  a pointwise log-likelihood computed in numpy from the draws (no model recompilation),
  with holdout metrics, convergence verdicts and fit times in one table.

Holdout design choice: the mean function is evaluated on the *full* panel's dates, with
the *training* panel's scaling (media, target and control scales), because the draws are
on the training fit's scale. The trend is time / span of the training dates; evaluated on
full-panel time it is ``trend * span_full / span_train`` times the full panel's rescaled
time, so the trend draws are rescaled by that ratio and extrapolate linearly.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

R_HAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3

TREE_DEPTH_MAX_SHARE = 0.01

REMEDIES = {
    "tree_depth": "the sampler hit its maximum tree depth: the posterior is badly scaled or "
    "strongly correlated; reparameterise or tighten priors (raising max depth only hides it)",
    "r_hat": "chains disagree: run longer (more tune and draws), check for multimodality, "
    "or tighten weakly identified priors; if the slowest parameters in fit.diagnostics() "
    "are geo-spread scales (beta_sigma), try the nutpie mass matrix from draw variances "
    "(adaptation=draw_diag in sampler_kwargs) if it is not on already",
    "ess_bulk": "too few effective draws: increase draws, reparameterise the slow "
    "parameters shown in fit.diagnostics(), or (geo-spread scales, beta_sigma) try "
    "adaptation=draw_diag in sampler_kwargs (if not on already)",
    "divergences": "the sampler hit sharp curvature: raise target_accept (e.g. 0.95), "
    "simplify the saturation, or use stronger priors on the geo spread",
    "bfmi": "poor energy exploration: reparameterise (non-centred geo effects) or use "
    "more informative priors on scale parameters",
}


@dataclass(frozen=True)
class Gate:
    """One convergence gate: its name, value, threshold, pass/fail and remedy."""

    name: str
    value: float
    threshold: str
    passed: bool
    remedy: str


@dataclass(frozen=True)
class Convergence:
    """The verdict of all gates."""

    gates: tuple[Gate, ...]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failed(self) -> tuple[Gate, ...]:
        return tuple(g for g in self.gates if not g.passed)

    def message(self) -> str:
        if self.passed:
            return "converged: " + ", ".join(f"{g.name} {g.value:.4g}" for g in self.gates)
        return "NOT CONVERGED — " + "; ".join(
            f"{g.name} = {g.value:.4g} (needs {g.threshold}): {g.remedy}" for g in self.failed
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([g.__dict__ for g in self.gates]).set_index("name")


def _flatten(ds: xr.Dataset, column: str) -> pd.Series:
    """One value per scalar parameter element, labelled like ``beta[geo_1, tv]``."""
    rows = {}
    for name, da in ds.data_vars.items():
        if da.ndim == 0:
            rows[name] = float(da)
            continue
        stacked = da.stack(__i__=da.dims)
        for label, value in zip(stacked["__i__"].values, stacked.values):
            lab = label if isinstance(label, tuple) else (label,)
            rows[f"{name}[{', '.join(str(x) for x in lab)}]"] = float(value)
    return pd.Series(rows, name=column)


def diagnostics_table(posterior: xr.Dataset) -> pd.DataFrame:
    """R-hat, bulk and tail ESS and MCSE of the mean for every scalar parameter element.

    Parameters
    ----------
    posterior : Dataset with dims (chain, draw, ...)
    """
    cols = [
        _flatten(az.rhat(posterior), "r_hat"),
        _flatten(az.ess(posterior, method="bulk"), "ess_bulk"),
        _flatten(az.ess(posterior, method="tail"), "ess_tail"),
        _flatten(az.mcse(posterior, method="mean"), "mcse_mean"),
    ]
    table = pd.concat(cols, axis=1)
    table.index.name = "parameter"
    return table


def count_divergences(sample_stats: xr.Dataset) -> int:
    """Post-warm-up divergent transitions."""
    return int(sample_stats["diverging"].sum()) if "diverging" in sample_stats else 0


def min_bfmi(sample_stats: xr.Dataset) -> float:
    """Smallest E-BFMI over chains (NaN when the sampler reported no energy)."""
    if "energy" not in sample_stats:
        return float("nan")
    energy = sample_stats["energy"].transpose("chain", "draw").values
    num = np.square(np.diff(energy, axis=1)).mean(axis=1)
    den = energy.var(axis=1)
    return float(np.min(num / den))


def tree_depth_share(sample_stats: xr.Dataset) -> float:
    """Share of draws that hit the sampler's maximum tree depth (NaN when not reported).

    nutpie reports ``maxdepth_reached`` (dims (chain, draw)); PyMC reports
    ``reached_max_treedepth``.
    """
    for name in ("maxdepth_reached", "reached_max_treedepth"):
        if name in sample_stats:
            return float(sample_stats[name].astype(float).mean())
    return float("nan")


def convergence(
    table: pd.DataFrame, divergences: int, bfmi: float, tree_depth: float | None = None
) -> Convergence:
    """Evaluate the gates from a diagnostics table and sampler statistics.

    ``tree_depth`` (share of draws at maximum tree depth) adds the tree-depth gate when
    given; NaN passes (the sampler did not report it).
    """
    ess_min = ESS_MIN
    r_hat = float(table["r_hat"].max())
    ess = float(table["ess_bulk"].min())
    gates = (
        Gate("r_hat", r_hat, f"≤ {R_HAT_MAX}", bool(r_hat <= R_HAT_MAX), REMEDIES["r_hat"]),
        Gate("ess_bulk", ess, f"≥ {ess_min}", bool(ess >= ess_min), REMEDIES["ess_bulk"]),
        Gate("divergences", divergences, "= 0", divergences == 0, REMEDIES["divergences"]),
        Gate(
            "bfmi",
            bfmi,
            f"≥ {BFMI_MIN}",
            bool(np.isnan(bfmi) or bfmi >= BFMI_MIN),
            REMEDIES["bfmi"],
        ),
    )
    if tree_depth is not None:
        ok = bool(np.isnan(tree_depth) or tree_depth <= TREE_DEPTH_MAX_SHARE)
        gates += (
            Gate("tree_depth", tree_depth, f"≤ {TREE_DEPTH_MAX_SHARE}", ok, REMEDIES["tree_depth"]),
        )
    return Convergence(gates)


# ---------------------------------------------------------------------- whole-fit gates
# ---------------------------------------------------------------------- predictive checks
COVERAGE_PROBS = (0.5, 0.9)
DATA_INFORMED_RATIO = 0.5


def _coverage(pred: np.ndarray, obs: np.ndarray, prob: float) -> float:
    """Share of observations inside the central ``prob`` interval of ``pred`` (sample, ...)."""
    lo, hi = np.quantile(pred, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return float(np.mean((obs >= lo) & (obs <= hi)))


def ppc_metrics(fit, hdi_prob: float = 0.9, random_seed: int | None = 0) -> pd.DataFrame:
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
    from bayes_mmm.analysis import summarize

    y = fit.data.target  # (date, geo)
    mu = fit.expected_target()  # (chain, draw, date, geo)
    resid = ((mu - y) ** 2).sum(("date", "geo"))
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    r2 = 1 - resid / ss_tot
    mape = (abs(mu - y) / np.abs(y)).mean(("date", "geo"))
    both = xr.concat([r2, mape], dim=pd.Index(["r2", "mape"], name="metric"))
    table = summarize(both, hdi_prob)
    pred = fit.posterior_predictive(random_seed=random_seed, expected=mu).values
    pred = pred.reshape(-1, *pred.shape[2:])
    for prob in COVERAGE_PROBS:
        c = _coverage(pred, y, prob)
        table.loc[f"coverage_{round(prob * 100)}"] = [c, c, np.nan, np.nan]
    table.index.name = "metric"
    table.attrs["hdi_prob"] = hdi_prob
    return table


def _moments(ds: xr.Dataset) -> tuple[pd.Series, pd.Series]:
    dims = ("chain", "draw")
    return _flatten(ds.mean(dims), "mean"), _flatten(ds.std(dims), "sd")


def prior_posterior_shift(
    fit,
    prior: xr.DataTree | xr.Dataset | None = None,
    samples: int = 500,
    random_seed: int | None = 0,
) -> pd.DataFrame:
    """How far the data moved each scalar parameter from its prior.

    Parameters
    ----------
    prior : DataTree (with a ``prior`` group) or Dataset, dims (chain, draw, ...), optional
        Prior draws; by default ``fit.prior_predictive(samples, random_seed)`` (compiles
        the PyMC model once, ~10 s).

    Returns
    -------
    DataFrame indexed by parameter element with ``prior_mean``, ``prior_sd``,
    ``posterior_mean``, ``posterior_sd``, ``sd_ratio`` (posterior sd / prior sd: well below
    1 means the data informed the parameter), ``shift`` ((posterior mean − prior mean) /
    prior sd) and ``informed`` (``sd_ratio < DATA_INFORMED_RATIO``).
    """
    if prior is None:
        prior = fit.prior_predictive(samples=samples, random_seed=random_seed)
    if isinstance(prior, xr.DataTree):
        prior = prior["prior"].to_dataset()
    post = fit.idata["posterior"].to_dataset()
    names = [n for n in fit.diagnostics().index.str.split("[").str[0].unique() if n in prior]
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


# ---------------------------------------------------------------------- holdout
@dataclass(frozen=True)
class Holdout:
    """A forecast of the last ``weeks`` periods by a fit that did not see them.

    Attributes
    ----------
    weeks : int
    expected : DataArray, dims (chain, draw, date, geo)
        Expected target on the holdout dates, target units.
    predictive : DataArray, dims (chain, draw, date, geo)
        Posterior predictive draws on the holdout dates (expected + noise).
    observed : DataArray, dims (date, geo)
    metrics : Series
        ``mape`` (of the posterior-mean forecast), ``crps`` (target units, mean over
        observations), ``crps_rel`` (CRPS / mean |observed|), ``coverage_50``,
        ``coverage_90``.
    train_fit : Fit or None
    """

    weeks: int
    expected: xr.DataArray
    predictive: xr.DataArray
    observed: xr.DataArray
    metrics: pd.Series
    train_fit: object = None


def truncate(data, n_dates: int):
    """The panel's first ``n_dates`` periods (a training set for :func:`holdout`).

    Every array field whose leading dim is ``date`` (target, media, spend, controls,
    events, …) is cut, so fields added to ``MMMData`` later are cut too.
    """
    from dataclasses import fields, replace

    if not 1 <= n_dates <= data.n_dates:
        from bayes_mmm.errors import DataError

        raise DataError(f"Cannot keep {n_dates} of {data.n_dates} periods.")
    changes = {"dates": data.dates[:n_dates]}
    for f in fields(data):
        value = getattr(data, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 2 and len(value) == data.n_dates:
            changes[f.name] = value[:n_dates]
    return replace(data, **changes)


def _span(dates) -> float:
    return max(float((dates[-1] - dates[0]).days), 1.0)


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


def forecast_expected(train_fit, full_data, chunk: int = 250) -> np.ndarray:
    """Expected target of ``full_data``'s dates under ``train_fit``'s draws, target units.

    The design is built from ``full_data`` with the training panel's media, target and
    control scales, and the trend draws are rescaled from the training span to the full
    span, so on the training dates this equals ``train_fit.expected_target()``.

    Returns
    -------
    ndarray, dims (sample, date, geo)
    """
    from dataclasses import replace

    from bayes_mmm.response import expected_response, make_design

    train, spec = train_fit.data, train_fit.spec
    tsc, fsc = train.scaling, full_data.scaling
    design = make_design(full_data, spec)
    design = replace(
        design,
        stack=design.stack * (fsc.media / tsc.media)[None, None],
        controls=(full_data.control_values - tsc.control_center) / tsc.control_scale,
        target_scale=tsc.target,
    )
    draws, shape = train_fit._draws
    draws = dict(draws)
    if "trend" in draws:
        draws["trend"] = draws["trend"] * _span(full_data.dates) / _span(train.dates)
    n = shape[0] * shape[1]
    parts = [
        expected_response(design, {k: v[i : i + chunk] for k, v in draws.items()}, spec)
        for i in range(0, n, chunk)
    ]
    return np.concatenate(parts) * tsc.target


def holdout_forecast(
    train_fit, full_data, random_seed: int | None = 0, chunk: int = 250
) -> Holdout:
    """Forecast the periods of ``full_data`` that ``train_fit`` did not see.

    The draws of ``train_fit`` are applied to a design built from ``full_data`` with the
    training panel's scaling, and the trend draws rescaled to the full span (see the
    module docstring).
    """
    train, spec = train_fit.data, train_fit.spec
    n_train = train.n_dates
    weeks = full_data.n_dates - n_train
    if weeks < 1 or not full_data.dates[:n_train].equals(train.dates):
        from bayes_mmm.errors import DataError

        raise DataError(
            "The holdout panel must extend the training panel: same first "
            f"{n_train} dates and at least one more (got {full_data.n_dates} dates)."
        )
    tsc = train.scaling
    mu = forecast_expected(train_fit, full_data, chunk)[:, n_train:]
    draws, shape = train_fit._draws
    rng = np.random.default_rng(random_seed)
    sigma = draws["sigma"][:, None, :] * tsc.target
    if spec.likelihood == "student_t":
        noise = rng.standard_t(draws["nu"].reshape(-1, 1, 1), size=mu.shape)
    else:
        noise = rng.standard_normal(mu.shape)
    pred = mu + sigma * noise
    obs = full_data.target[n_train:]
    metrics = pd.Series(
        {
            "mape": float(np.mean(np.abs(mu.mean(axis=0) - obs) / np.abs(obs))),
            "crps": float(crps_draws(pred, obs).mean()),
            "crps_rel": float(crps_draws(pred, obs).mean() / np.abs(obs).mean()),
            **{f"coverage_{round(p * 100)}": _coverage(pred, obs, p) for p in COVERAGE_PROBS},
        },
        name="holdout",
    )
    coords = {"date": full_data.dates[n_train:], "geo": list(full_data.geos)}
    dims = ("chain", "draw", "date", "geo")

    def wrap(a, name):
        return xr.DataArray(a.reshape(*shape, *a.shape[1:]), dims=dims, coords=coords, name=name)

    return Holdout(
        weeks=weeks,
        expected=wrap(mu, "expected_target"),
        predictive=wrap(pred, "posterior_predictive"),
        observed=xr.DataArray(obs, dims=("date", "geo"), coords=coords, name="observed"),
        metrics=metrics,
        train_fit=train_fit,
    )


def holdout(data, spec=None, weeks: int = 13, random_seed: int | None = 0, **fit_kwargs) -> Holdout:
    """Fit on all but the last ``weeks`` periods and forecast them.

    ``fit_kwargs`` go to ``bm.fit`` (draws, tune, chains, progress, ...).
    """
    from bayes_mmm.fit import fit as fit_model

    if not 1 <= weeks < data.n_dates - 4:
        from bayes_mmm.errors import DataError

        raise DataError(
            f"weeks={weeks}: a holdout needs at least 1 period and leaves at least 5 of "
            f"{data.n_dates} for training."
        )
    train_fit = fit_model(
        truncate(data, data.n_dates - weeks), spec, random_seed=random_seed, **fit_kwargs
    )
    return holdout_forecast(train_fit, data, random_seed=random_seed)


# ---------------------------------------------------------------------- LOO and compare
def log_likelihood(fit, chunk: int = 250) -> xr.DataArray:
    """Pointwise log-likelihood of each (date, geo) observation of the scaled target.

    Computed in numpy from the posterior draws (Normal or Student-t around
    ``response.expected_response``), so no model is rebuilt or recompiled.

    Returns
    -------
    DataArray, dims (chain, draw, date, geo)
    """
    from scipy import stats

    from bayes_mmm.response import expected_response, make_design

    design = make_design(fit.data, fit.spec)
    y = fit.idata["observed_data"]["y"].transpose("date", "geo").values
    draws, shape = fit._draws
    n = shape[0] * shape[1]
    parts = []
    for i in range(0, n, chunk):
        c = {k: v[i : i + chunk] for k, v in draws.items()}
        mu = expected_response(design, c, fit.spec)
        sigma = c["sigma"][:, None, :]
        if fit.spec.likelihood == "student_t":
            parts.append(stats.t.logpdf(y, c["nu"].reshape(-1, 1, 1), loc=mu, scale=sigma))
        else:
            parts.append(stats.norm.logpdf(y, loc=mu, scale=sigma))
    ll = np.concatenate(parts).reshape(*shape, *y.shape)
    coords = {"date": fit.data.dates, "geo": list(fit.data.geos)}
    return xr.DataArray(ll, dims=("chain", "draw", "date", "geo"), coords=coords, name="y")


def with_log_likelihood(fit) -> xr.DataTree:
    """``fit.idata`` with a ``log_likelihood`` group (variable ``y``) for ``az.loo``."""
    groups = {k: fit.idata[k].to_dataset() for k in fit.idata.children}
    groups["log_likelihood"] = log_likelihood(fit).to_dataset()
    return xr.DataTree.from_dict(groups)


def loo(fit):
    """ELPD-LOO (PSIS) of ``fit`` per (date, geo) observation (arviz-stats ``ELPDData``)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return az.loo(with_log_likelihood(fit), pointwise=True)


def compare(fits, holdouts=None) -> pd.DataFrame:
    """One table comparing fits of the same data.

    Parameters
    ----------
    fits : mapping of str to Fit
    holdouts : mapping of str to Holdout, optional
        Holdout results by the same names (see :func:`holdout`).

    Returns
    -------
    DataFrame indexed by model, best ELPD first: ``elpd_loo``, ``se``, ``elpd_diff``
    (from the best), ``p_loo``, ``n_obs``, ``pareto_k_bad`` (observations with Pareto k
    above the reliability threshold), ``converged``, ``verdict``, ``fit_s`` and, when given,
    ``holdout_mape``, ``holdout_crps``, ``holdout_coverage_90``. ``attrs["note"]`` states
    that LOO is per (date, geo) observation.

    Warns
    -----
    UserWarning
        When a fit has observations with high Pareto k (its ELPD estimate is unreliable).
    """
    import warnings

    from bayes_mmm.errors import DataError

    fits = dict(fits)
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
        res = loo(f)
        k = np.asarray(res.pareto_k).reshape(-1)
        bad = int(np.sum(k > res.good_k))
        if bad:
            warnings.warn(
                f"{name}: {bad} of {k.size} observations have Pareto k > {res.good_k:.2f}; "
                "its ELPD-LOO is unreliable (consider a holdout or K-fold CV).",
                UserWarning,
                stacklevel=2,
            )
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
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table.sort_values("elpd_loo", ascending=False)
    table.insert(2, "elpd_diff", table["elpd_loo"] - table["elpd_loo"].iloc[0])
    table.index.name = "model"
    table.attrs["note"] = (
        "ELPD-LOO (PSIS) is per (date, geo) observation of the scaled target; higher is "
        "better. Differences smaller than about 2 × se are not meaningful."
    )
    return table
