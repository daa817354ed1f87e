"""Experiment tracking with MLflow: ``log_fit``, ``log_plan``, ``autolog`` and ``load_fit``.

A fit goes into an MLflow run as

- **params**: the spec, flattened (``spec.adstock``, ``spec.priors.beta``, …), and the
  sampler settings (``fit.sampler``, ``fit.draws``, …);
- **metrics**: each convergence gate's value (``gate.r_hat``, ``gate.ess_bulk``, …),
  ``converged`` (1 or 0), and each channel's ROI median and interval
  (``roi.tv.median``, ``roi.tv.lower``, ``roi.tv.upper``);
- **artifacts**: the bundle (``bundle/``, what :func:`load_fit` reads back), ``roi.csv``,
  ``convergence.csv`` and, when asked, the HTML report (``report.html``).

MLflow is an optional extra (``pip install "bayes_mmm[mlflow]"``, which installs
``mlflow-skinny``); it is imported when a function here is called, so ``import
bayes_mmm`` never needs it. The tracking server is whatever MLflow is configured with
(``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``).
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bayes_mmm.fit import FIT_CALLBACKS, Fit, load

__all__ = ["MissingExtra", "autolog", "load_fit", "log_fit", "log_plan"]

BUNDLE_PATH = "bundle"
PARAM_MAX = 500  # longer parameter values are cut: MLflow stores params as short strings


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def _mlflow() -> Any:
    try:
        return importlib.import_module("mlflow")
    except ImportError as err:
        raise MissingExtra(
            "bayes_mmm.mlflow needs MLflow: pip install 'bayes_mmm[mlflow]' "
            "(or pip install mlflow-skinny)."
        ) from err


@contextmanager
def _run(run_id: str | None) -> Iterator[Any]:
    """The run to log into: ``run_id``, else the active run, else a new one (ended after)."""
    mlflow = _mlflow()
    active = mlflow.active_run()
    if run_id is None and active is not None:
        yield active
    elif run_id is not None and active is not None and active.info.run_id == run_id:
        yield active
    else:
        with mlflow.start_run(run_id=run_id) as run:
            yield run


def flatten(values: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """``{"a": {"b": 1}}`` → ``{"prefix.a.b": "1"}``: nested tables as dotted names."""
    out: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[name] = text[:PARAM_MAX]
    return out


def fit_metrics(fit: Fit, hdi_prob: float = 0.9) -> dict[str, float]:
    """The gates' values, ``converged``, and each channel's ROI median and interval."""
    metrics = {
        f"gate.{name}": float(value) for name, value in fit.convergence.to_frame()["value"].items()
    }
    metrics["converged"] = float(fit.converged)
    roi = fit.roi(hdi_prob=hdi_prob)
    for channel, row in roi.iterrows():
        for col in ("median", "lower", "upper"):
            metrics[f"roi.{channel}.{col}"] = float(row[col])
    return metrics


def log_fit(
    fit: Fit, run_id: str | None = None, *, report: bool = False, hdi_prob: float = 0.9
) -> str:
    """Log a fit's spec, gates, ROI and bundle to MLflow and return the run's id.

    Parameters
    ----------
    fit : Fit
    run_id : str, optional
        The run to log into; by default the active run, or a new run when none is active.
    report : bool
        Also write and log the HTML report (``report.html``, without the prior figure).
    hdi_prob : float
        The probability of the logged ROI intervals.
    """
    mlflow = _mlflow()
    settings = ("sampler", "draws", "tune", "chains", "random_seed", "target_accept")
    with _run(run_id) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(flatten(fit.spec.to_dict(), "spec"))
        mlflow.log_params(flatten({k: fit.meta.get(k) for k in settings}, "fit"))
        mlflow.log_metrics(fit_metrics(fit, hdi_prob))
        folder = Path(tmp)
        fit.save(folder / BUNDLE_PATH)
        mlflow.log_artifacts(str(folder / BUNDLE_PATH), BUNDLE_PATH)
        fit.roi(hdi_prob=hdi_prob).to_csv(folder / "roi.csv")
        fit.convergence.to_frame().to_csv(folder / "convergence.csv")
        mlflow.log_artifact(str(folder / "roi.csv"))
        mlflow.log_artifact(str(folder / "convergence.csv"))
        if report:
            mlflow.log_artifact(str(fit.report(folder / "report.html", prior=None)))
        return run.info.run_id


def log_plan(plan: Any, run_id: str | None = None, name: str = "plan") -> str:
    """Log a budget plan (``fit.optimize(...)``'s ``Allocation``) and return the run's id.

    Metrics ``{name}.budget``, ``{name}.weeks``, ``{name}.prob_better``,
    ``{name}.objective``, ``{name}.objective_current`` and the uplift's mean; the plan's
    table as the artifact ``{name}/{name}.csv``.
    """
    mlflow = _mlflow()
    metrics = {
        f"{name}.{key}": float(getattr(plan, key))
        for key in ("budget", "weeks", "prob_better", "objective", "objective_current")
    }
    metrics[f"{name}.uplift_mean"] = float(plan.uplift.mean())
    with _run(run_id) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_metrics(metrics)
        path = Path(tmp) / f"{name}.csv"
        plan.table.to_csv(path)
        mlflow.log_artifact(str(path), name)
        return run.info.run_id


def _log_after_fit(fit: Fit) -> None:
    log_fit(fit)


def autolog(enable: bool = True) -> None:
    """Log every later ``bm.fit`` with :func:`log_fit` (``enable=False`` stops it).

    Each fit goes into the active MLflow run, or into a new run of its own.
    """
    _mlflow()
    if enable and _log_after_fit not in FIT_CALLBACKS:
        FIT_CALLBACKS.append(_log_after_fit)
    elif not enable and _log_after_fit in FIT_CALLBACKS:
        FIT_CALLBACKS.remove(_log_after_fit)


def load_fit(run_id: str, artifact_path: str = BUNDLE_PATH) -> Fit:
    """The ``Fit`` whose bundle :func:`log_fit` logged to the run ``run_id`` (read into
    memory, so the downloaded copy is removed)."""
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory(prefix="bayes_mmm_mlflow_") as folder:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact_path, dst_path=folder
        )
        return load(local)
