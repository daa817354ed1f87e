"""The seeds' approach, reproduced: OLS and ridge on adstocked, log-transformed media.

The two seed analyses this package grew from regress revenue on media that were
geometrically adstocked with a fixed decay of 0.3 and then log-transformed, first with
OLS (p-values, VIF) and then with ridge regression to "tame multicollinearity". This
module rebuilds that approach with scikit-learn and statsmodels (no hand-written
estimators), so that its verdicts can be put next to the posterior on the *same* data
(:func:`side_by_side`).

Design choices
--------------
- **Adstock** is the seeds' *un-normalised* recursion ``a_t = x_t + decay * a_{t-1}``,
  truncated at ``l_max`` lags (default 26: ``0.3**26`` is 2e-14, so the truncation is
  exact to float precision). It is computed with the package's own
  :func:`bayes_mmm.transforms.geometric_adstock` (normalised weights) times the weights'
  sum ``sum(decay**l)``, which turns normalised weights back into the seeds' recursion.
- **Transform** ``"log"`` is ``log1p`` of the adstocked media in *original units* (as
  the seeds did with spend), ``"linear"`` leaves it as is. Note that a log model's implied
  ROI depends on the media's units; that is a property of the seeds' approach, kept here.
- **Design rows** are (date, geo) pairs pooled over the panel; columns are one term per
  channel, the controls, and geo fixed effects (dummies, first geo dropped) for geo
  panels. No trend or seasonality: the seeds had none.
- **Ridge** standardises every column (``StandardScaler``) and picks the penalty with
  ``RidgeCV`` over ``alphas`` with ``cv`` contiguous folds; coefficients are reported both
  per standard deviation of the feature and in original units. **OLS** is statsmodels'
  ``OLS`` with an intercept, so every coefficient has a standard error and a p-value.
- **Implied ROI** uses the Bayesian ROI's counterfactual: the revenue the fitted term of
  a channel adds (its media set to zero removes exactly that term, because the model is
  additive), carryover tail of ``l_max - 1`` periods included, summed over the channels of
  a spend group and divided by the group's spend.

scikit-learn and statsmodels are the optional extra ``baselines``
(``pip install bayes_mmm[baselines]``); they are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.datachecks import design_frame, media_correlation, variance_inflation
from bayes_mmm.errors import DataError, SpecError
from bayes_mmm.posterior import SAMPLE_DIMS
from bayes_mmm.transforms import geometric_adstock

TRANSFORMS = ("log", "linear")
DEFAULT_ALPHAS = np.logspace(-3, 3, 25)
INSTALL_HINT = "pip install bayes_mmm[baselines]"


@dataclass(frozen=True)
class BaselineResult:
    """A fitted OLS or ridge baseline.

    Attributes
    ----------
    method : {"ols", "ridge"}
    coefficients : DataFrame
        One row per design column (``intercept``, channels, controls, ``geo[...]``
        dummies). Columns: ``kind`` ("intercept", "media", "control", "geo"), ``coef``
        (original units: revenue per unit of the transformed feature), ``std_coef`` (per
        standard deviation of the feature; ridge only), ``std_err`` and ``p_value`` (OLS
        only; NaN for ridge).
    r2 : float
        In-sample R² of the fit.
    roi : DataFrame
        Index: spend-group labels (as in ``Fit.roi()``). Columns ``roi`` (implied ROI),
        ``incremental`` (revenue from the group's fitted terms, carryover included) and
        ``spend``.
    vif : Series
        Variance inflation factor of each media and control column of the design,
        conditional on the geo fixed effects.
    decay, transform, l_max :
        The design's settings.
    penalty : float
        The ridge penalty chosen by cross-validation (0 for OLS).
    data_hash : str
        ``MMMData.data_hash`` of the data it was fitted on.
    """

    method: str
    coefficients: pd.DataFrame
    r2: float
    roi: pd.DataFrame
    vif: pd.Series
    decay: float
    transform: str
    l_max: int
    penalty: float
    data_hash: str


# ---------------------------------------------------------------------- lazy imports
def _sklearn():
    try:
        from sklearn.linear_model import RidgeCV
        from sklearn.model_selection import KFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"The ridge baseline needs scikit-learn: {INSTALL_HINT}") from err
    return RidgeCV, KFold, make_pipeline, StandardScaler


def _statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"The OLS baseline needs statsmodels: {INSTALL_HINT}") from err
    return sm


# ---------------------------------------------------------------------- data checks
def correlation(data: MMMData) -> pd.DataFrame:
    """Pearson correlation of media and controls, pooled over geos and dates
    (``datachecks.media_correlation``), dims (column, column)."""
    return media_correlation(data)


def vif(data: MMMData) -> pd.Series:
    """Variance inflation factor of each media and control column.

    Each column is regressed on all the others plus an intercept, pooled over geos and
    dates; ``VIF = 1 / (1 - R²)`` (``datachecks.variance_inflation``). Values above about
    10 mean the column's effect can hardly be told apart from the others'; a duplicated
    column gives a huge number (at most ``datachecks.VIF_CAP``).

    Returns
    -------
    Series, dims (column,), named ``vif``.
    """
    return _vif_table(design_frame(data), list(data.channels) + list(data.controls))


def _vif_table(frame: pd.DataFrame, report: list[str]) -> pd.Series:
    """VIF of the ``report`` columns of a design, each regressed on all the other columns
    plus an intercept."""
    x = frame.to_numpy(dtype=float)
    return variance_inflation(x, list(frame.columns), report, intercept=True)


# ---------------------------------------------------------------------- design
def _check_options(decay: float, transform: str, l_max: int) -> None:
    if not 0.0 <= decay < 1.0:
        raise SpecError(f"decay={decay!r} must be in [0, 1) (the seeds used 0.3).")
    if transform not in TRANSFORMS:
        raise SpecError(f"transform={transform!r}: choose one of {TRANSFORMS}.")
    if not isinstance(l_max, int) or l_max < 1:
        raise SpecError(f"l_max={l_max!r} must be a positive integer (adstock window).")


def media_features(
    data: MMMData, decay: float = 0.3, transform: str = "log", l_max: int = 26, tail: int = 0
) -> np.ndarray:
    """The seeds' media features: un-normalised geometric adstock, then ``log1p``.

    Parameters
    ----------
    decay : float in [0, 1)
        Adstock decay: ``a_t = x_t + decay * a_{t-1}`` (truncated at ``l_max`` lags).
    transform : {"log", "linear"}
    tail : int
        Zero-media periods appended after the last date (to catch carryover).

    Returns
    -------
    ndarray, dims (date + tail, geo, channel)
    """
    _check_options(decay, transform, l_max)
    x = data.media
    if tail:
        x = np.concatenate([x, np.zeros((tail, *x.shape[1:]))], axis=0)
    alpha = np.full(len(data.channels), float(decay))
    gain = np.sum(float(decay) ** np.arange(l_max))  # normalised weights -> seeds' recursion
    adstocked = geometric_adstock(x, alpha, l_max) * gain
    return np.log1p(adstocked) if transform == "log" else adstocked


def _design(data: MMMData, features: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Pooled design matrix (rows: date × geo), target vector and column kinds."""
    n_dates, n_geos = data.target.shape
    cols = {c: features[..., i].reshape(-1) for i, c in enumerate(data.channels)}
    kinds = dict.fromkeys(data.channels, "media")
    for k, name in enumerate(data.controls):
        cols[name] = data.control_values[..., k].reshape(-1)
        kinds[name] = "control"
    for g in range(1, n_geos):
        name = f"geo[{data.geos[g]}]"
        cols[name] = np.tile((np.arange(n_geos) == g).astype(float), n_dates)
        kinds[name] = "geo"
    return pd.DataFrame(cols), data.target.reshape(-1), kinds


def _implied_roi(
    data: MMMData, coef: pd.Series, decay: float, transform: str, l_max: int
) -> pd.DataFrame:
    """Revenue from each channel's fitted term (carryover included) per unit of spend."""
    tail = media_features(data, decay, transform, l_max, tail=l_max - 1)
    beta = coef.reindex(list(data.channels)).to_numpy()
    incr_channel = (tail * beta).sum(axis=(0, 1))  # (channel,)
    incr = incr_channel @ data.group_matrix  # (spend_group,)
    spend = data.spend.sum(axis=(0, 1))
    return pd.DataFrame(
        {"roi": incr / spend, "incremental": incr, "spend": spend},
        index=pd.Index(data.group_labels, name="channel"),
    )


def _result(method, data, coefficients, r2, penalty, frame, kinds, decay, transform, l_max):
    report = [c for c, k in kinds.items() if k in ("media", "control")]
    return BaselineResult(
        method=method,
        coefficients=coefficients,
        r2=float(r2),
        roi=_implied_roi(data, coefficients["coef"], decay, transform, l_max),
        vif=_vif_table(frame, report),
        decay=float(decay),
        transform=transform,
        l_max=l_max,
        penalty=float(penalty),
        data_hash=data.data_hash,
    )


# ---------------------------------------------------------------------- estimators
def ridge_baseline(
    data: MMMData,
    decay: float = 0.3,
    transform: str = "log",
    alphas: np.ndarray = DEFAULT_ALPHAS,
    cv: int = 5,
    l_max: int = 26,
) -> BaselineResult:
    """The seeds' ridge regression: standardised features, penalty by cross-validation.

    Parameters
    ----------
    data : MMMData
    decay : float in [0, 1)
        Adstock decay applied to every channel (the seeds used 0.3).
    transform : {"log", "linear"}
    alphas : array, dims (n_alpha,)
        Candidate ridge penalties for ``RidgeCV``.
    cv : int
        Number of contiguous (unshuffled, so roughly time-blocked) folds.
    l_max : int
        Adstock window in periods.

    Returns
    -------
    BaselineResult
    """
    RidgeCV, KFold, make_pipeline, StandardScaler = _sklearn()
    frame, y, kinds = _design(data, media_features(data, decay, transform, l_max))
    if cv < 2 or cv > len(y):
        raise SpecError(f"cv={cv!r} must be between 2 and the number of rows ({len(y)}).")
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.asarray(alphas), cv=KFold(cv)))
    X = frame.to_numpy()
    model.fit(X, y)
    scaler, ridge = model[0], model[-1]
    std_coef = ridge.coef_
    coef = std_coef / scaler.scale_
    intercept = ridge.intercept_ - np.sum(coef * scaler.mean_)
    coefficients = pd.DataFrame(
        {
            "kind": ["intercept", *kinds.values()],
            "coef": [intercept, *coef],
            "std_coef": [np.nan, *std_coef],
            "std_err": np.nan,
            "p_value": np.nan,
        },
        index=pd.Index(["intercept", *frame.columns], name="term"),
    )
    r2 = model.score(X, y)
    return _result(
        "ridge", data, coefficients, r2, ridge.alpha_, frame, kinds, decay, transform, l_max
    )


def ols_baseline(
    data: MMMData, decay: float = 0.3, transform: str = "log", l_max: int = 26
) -> BaselineResult:
    """The seeds' first model: OLS (statsmodels) with standard errors and p-values.

    Parameters are those of :func:`ridge_baseline` without the penalty settings.

    Returns
    -------
    BaselineResult
    """
    sm = _statsmodels()
    frame, y, kinds = _design(data, media_features(data, decay, transform, l_max))
    exog = sm.add_constant(frame, has_constant="add").rename(columns={"const": "intercept"})
    res = sm.OLS(y, exog).fit()
    coefficients = pd.DataFrame(
        {
            "kind": ["intercept", *kinds.values()],
            "coef": res.params.to_numpy(),
            "std_coef": np.nan,
            "std_err": res.bse.to_numpy(),
            "p_value": res.pvalues.to_numpy(),
        },
        index=pd.Index(exog.columns, name="term"),
    )
    return _result(
        "ols", data, coefficients, res.rsquared, 0.0, frame, kinds, decay, transform, l_max
    )


# ---------------------------------------------------------------------- side by side
class PosteriorROI(Protocol):
    """What :func:`side_by_side` reads from a fit (``bayes_mmm.Fit`` is one)."""

    data: MMMData

    def roi(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """ROI summary per spend group: ``mean``, ``median``, ``lower``, ``upper``."""
        ...

    def roi_draws(self) -> xr.DataArray:
        """ROI per draw, dims (chain, draw, channel)."""
        ...


def side_by_side(
    fit: PosteriorROI,
    baseline: BaselineResult,
    hdi_prob: float = 0.9,
    breakeven: float = 1.0,
    level: float = 0.9,
) -> pd.DataFrame:
    """The baseline's verdict per spend group next to the posterior ROI.

    Parameters
    ----------
    fit : PosteriorROI
        A Bayesian fit (``bayes_mmm.Fit``) on the same data as ``baseline``: anything with
        ``data``, ``roi(hdi_prob=...)`` and ``roi_draws()``.
    baseline : BaselineResult
    hdi_prob : float
        Probability mass of the posterior interval.
    breakeven : float
        ROI at which a channel pays for itself (1 when the target is revenue).
    level : float
        Posterior probability needed to call the baseline's claim "supported"; a claim
        with probability ≤ ``1 - level`` is "not supported", anything between is
        "inconclusive".

    Returns
    -------
    DataFrame
        See :func:`compare_roi`.
    """
    _check_same_data(baseline, fit.data)
    return compare_roi(
        baseline,
        fit.data,
        fit.roi(hdi_prob=hdi_prob),
        fit.roi_draws(),
        hdi_prob=hdi_prob,
        breakeven=breakeven,
        level=level,
    )


def compare_roi(
    baseline: BaselineResult,
    data: MMMData,
    roi: pd.DataFrame,
    roi_draws: xr.DataArray,
    hdi_prob: float = 0.9,
    breakeven: float = 1.0,
    level: float = 0.9,
) -> pd.DataFrame:
    """The baseline's verdict per spend group next to a posterior's ROI.

    Parameters
    ----------
    baseline : BaselineResult
    data : MMMData
        The panel both were fitted on.
    roi : DataFrame
        Posterior ROI summary (``Fit.roi(hdi_prob)``): index ``channel`` (spend-group
        labels), columns ``mean``, ``median``, ``lower``, ``upper``; ``attrs`` may hold a
        convergence ``warning``.
    roi_draws : DataArray, dims (chain, draw, channel)
        Posterior ROI draws (``Fit.roi_draws()``).
    hdi_prob, breakeven, level : float
        As in :func:`side_by_side`; ``hdi_prob`` is the mass of ``roi``'s interval.

    Returns
    -------
    DataFrame, one row per spend group (index as in ``roi``), columns
        ``baseline_sign`` ("+", "-", "0" or "mixed" over the group's channels),
        ``baseline_coef`` (original units; single-channel groups only), ``baseline_p_value``
        (OLS, single-channel groups), ``baseline_roi``, ``baseline_verdict``,
        ``posterior_mean``, ``posterior_median``, ``posterior_lower``, ``posterior_upper``,
        ``p_roi_above_breakeven``, ``p_roi_above_baseline`` (NaN where the baseline ROI is
        negative: the posterior ROI is never negative), ``baseline_in_interval`` and
        ``posterior_support``. ``attrs`` hold the settings and, for an unconverged fit,
        the convergence ``warning``.
    """
    _check_same_data(baseline, data)
    draws = roi_draws.stack(sample=SAMPLE_DIMS).transpose("channel", "sample")
    rows = []
    for label, group in zip(data.group_labels, data.spend_groups):
        members = [c for c, g in zip(data.channels, data.channel_group) if g == group]
        roi_b = float(baseline.roi.loc[label, "roi"])
        post, d = roi.loc[label], draws.sel(channel=label).values
        verdict, support = _verdict(
            roi_b, d, breakeven, level, hdi_prob, post["lower"], post["upper"]
        )
        rows.append(
            {
                **_baseline_claim(baseline, members, roi_b),
                "baseline_verdict": verdict,
                **_posterior_side(roi_b, post, d, breakeven),
                "posterior_support": support,
            }
        )
    table = pd.DataFrame(rows, index=roi.index)
    table.attrs.update(method=baseline.method, hdi_prob=hdi_prob, breakeven=breakeven, level=level)
    if "warning" in roi.attrs:
        table.attrs["warning"] = roi.attrs["warning"]
    return table


def _check_same_data(baseline: BaselineResult, data: MMMData) -> None:
    if baseline.data_hash != data.data_hash:
        raise DataError(
            "The baseline was fitted on different data than the posterior (data hashes "
            "differ): fit both on the same MMMData to compare them side by side."
        )


def _baseline_claim(baseline: BaselineResult, members: list[str], roi_b: float) -> dict:
    """The baseline's side of one spend group's row (channels ``members``)."""
    coef = baseline.coefficients["coef"]
    pvals = baseline.coefficients["p_value"]
    signs = {"+" if coef[m] > 0 else "-" if coef[m] < 0 else "0" for m in members}
    return {
        "baseline_sign": signs.pop() if len(signs) == 1 else "mixed",
        "baseline_coef": coef[members[0]] if len(members) == 1 else np.nan,
        "baseline_p_value": pvals[members[0]] if len(members) == 1 else np.nan,
        "baseline_roi": roi_b,
    }


def _posterior_side(roi_b: float, post: pd.Series, draws: np.ndarray, breakeven: float) -> dict:
    """The posterior's side of one spend group's row.

    Parameters
    ----------
    roi_b : float
        Baseline ROI.
    post : Series
        The group's row of the posterior ROI summary.
    draws : ndarray, dims (sample,)
        Posterior ROI draws.
    """
    lo, hi = post["lower"], post["upper"]
    return {
        "posterior_mean": post["mean"],
        "posterior_median": post["median"],
        "posterior_lower": lo,
        "posterior_upper": hi,
        "p_roi_above_breakeven": float(np.mean(draws > breakeven)),
        "p_roi_above_baseline": float(np.mean(draws > roi_b)) if roi_b >= 0 else np.nan,
        "baseline_in_interval": bool(lo <= roi_b <= hi),
    }


def _verdict(roi_b, draws, breakeven, level, hdi_prob, lo, hi) -> tuple[str, str]:
    """The baseline's claim about a channel and how much posterior mass backs it.

    Parameters
    ----------
    roi_b : float
        Baseline ROI.
    draws : ndarray, dims (sample,)
        Posterior ROI draws.
    """
    interval = f"{hdi_prob:.0%} interval {lo:.2f} to {hi:.2f}"
    if roi_b < 0:
        above = np.mean(draws > breakeven)
        return "hurts revenue (ROI < 0)", (
            f"not supported: the model's effects are non-negative by construction; it puts "
            f"{above:.0%} of its mass above ROI {breakeven:g} ({interval})"
        )
    if roi_b >= breakeven:
        claim, prob, where = f"pays back (ROI ≥ {breakeven:g})", np.mean(draws >= breakeven), "≥"
    else:
        claim, prob, where = (
            f"does not pay back (ROI < {breakeven:g})",
            np.mean(draws < breakeven),
            "<",
        )
    status = (
        "supported" if prob >= level else "not supported" if prob <= 1 - level else "inconclusive"
    )
    support = f"{status}: posterior puts {prob:.0%} of its mass at ROI {where} {breakeven:g}"
    return claim, f"{support} ({interval})"
