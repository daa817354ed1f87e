"""Time-slice cross-validation: expanding-window folds, each forecasting the next weeks.

Fold ``k`` of ``folds`` trains on the first ``T - (folds - k) * horizon`` periods and
forecasts the ``horizon`` periods after them (``many.time_slice_jobs``); each forecast is
scored by ``holdout.holdout_forecast`` (MAPE of the mean forecast, CRPS, 50% and 90%
coverage of the posterior predictive). ROI per channel with its interval is kept per fold,
so its stability across training windows can be read and plotted.

The folds run in this process one after another by default; with ``client`` (a Dask
``Client``, or ``"local"`` for a ``LocalCluster`` of its own) they run through
``many.sample_many`` (``bm.fit_many``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from bayes_mmm import results
from bayes_mmm.data import MMMData
from bayes_mmm.holdout import Holdout, holdout_forecast
from bayes_mmm.many import sample_many, time_slice_jobs
from bayes_mmm.plot import cv_roi
from bayes_mmm.sample import sample
from bayes_mmm.spec import ModelSpec

METRICS = ("mape", "crps", "crps_rel", "coverage_50", "coverage_90")


@dataclass(frozen=True)
class CVResult:
    """Scores of an expanding-window time-slice cross-validation.

    Attributes
    ----------
    folds : DataFrame
        One row per fold: ``n_train``, ``train_end``, the holdout metrics (``mape``,
        ``crps``, ``crps_rel``, ``coverage_50``, ``coverage_90``) and ``converged``.
    roi : DataFrame
        ROI per (fold, channel): ``mean``, ``median``, ``lower``, ``upper``.
    horizon : int
    holdouts : dict of str to Holdout
        Each fold's forecast draws.
    """

    folds: pd.DataFrame
    roi: pd.DataFrame
    horizon: int
    holdouts: dict

    @property
    def overall(self) -> pd.Series:
        """The metrics averaged over folds (each fold forecasts as many observations)."""
        return self.folds[list(METRICS)].mean().rename("overall")

    @property
    def table(self) -> pd.DataFrame:
        """Per-fold metrics with an ``overall`` row."""
        out = self.folds[list(METRICS)].copy()
        out.loc["overall"] = self.overall
        return out

    def plot(self, **kwargs):
        """ROI per channel and fold with intervals (``plot.cv_roi``)."""
        return cv_roi(self.roi, **kwargs)


def cross_validate(
    data: MMMData,
    spec: ModelSpec | None = None,
    folds: int = 5,
    horizon: int = 13,
    client=None,
    random_seed: int | None = 0,
    hdi_prob: float = 0.9,
    **fit_kwargs,
) -> CVResult:
    """Rolling-origin time-slice cross-validation of ``spec`` on ``data``.

    Parameters
    ----------
    folds, horizon : int
        Number of folds and periods each forecasts.
    client : None, "local" or distributed.Client
        None runs the folds here one after another; otherwise they run on Dask through
        ``many.sample_many`` (``"local"``: a ``LocalCluster`` of its own).
    random_seed : int, optional
        Seeds the folds (one spawned per fold) and the predictive noise.
    fit_kwargs
        Sampler settings (draws, tune, chains, ...; see ``bm.fit``).
    """
    jobs = time_slice_jobs(data, spec, folds, horizon, **fit_kwargs)
    if client is None:
        fits = {}
        for k, job in enumerate(jobs):
            kwargs = {"progress": False, **job.fit_kwargs}
            if random_seed is not None:
                kwargs.setdefault("random_seed", random_seed + k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence is reported per fold
                fits[job.name] = sample(job.data, job.spec, **kwargs)
    else:
        fits = sample_many(jobs, None if client == "local" else client, random_seed=random_seed)
    rows, rois, holdouts = [], [], {}
    for job in jobs:
        post = fits[job.name]
        h: Holdout = holdout_forecast(post, job.info["holdout_data"], random_seed=random_seed)
        holdouts[job.name] = h
        rows.append(
            {
                "fold": job.name,
                "n_train": job.data.n_dates,
                "train_end": job.info["train_end"],
                **h.metrics.to_dict(),
                "converged": post.converged,
            }
        )
        roi = results.roi(post, hdi_prob=hdi_prob)[["mean", "median", "lower", "upper"]]
        rois.append(roi.assign(fold=job.name).reset_index())
    table = pd.DataFrame(rows).set_index("fold")
    roi = pd.concat(rois).set_index(["fold", "channel"])
    roi.attrs["hdi_prob"] = hdi_prob
    return CVResult(folds=table, roi=roi, horizon=horizon, holdouts=holdouts)
