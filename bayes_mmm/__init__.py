"""bayes_mmm: Bayesian marketing-mix modeling with honest uncertainty.

This module re-exports the public API; ``bayes_mmm.fit.Fit`` is the facade over a fit.

>>> import bayes_mmm as bm
>>> data = bm.MMMData.from_frame(df, date="date", target="revenue", media=["tv", "search"],
...                              geo="geo", controls=["price"])
>>> fit = bm.fit(data, bm.ModelSpec(), draws=1000, tune=1000, chains=4, random_seed=1)
>>> fit.roi(hdi_prob=0.9)
"""

from bayes_mmm import datasets, mlflow
from bayes_mmm.baselines import BaselineResult, ols_baseline, ridge_baseline, side_by_side
from bayes_mmm.calibration import lift_table
from bayes_mmm.crossval import CVResult, cross_validate
from bayes_mmm.data import MMMData, Scaling
from bayes_mmm.drivers import drivers, ridge_sign_check
from bayes_mmm.errors import (
    BundleError,
    BundleVersionWarning,
    ConvergenceError,
    DataError,
    DataWarning,
    SpecError,
)
from bayes_mmm.fit import ConvergenceWarning, Fit, fit, fit_many, load
from bayes_mmm.forecast import ScenarioComparison, compare_scenarios, predict
from bayes_mmm.holdout import Holdout, holdout
from bayes_mmm.loo import compare
from bayes_mmm.many import Job
from bayes_mmm.mediation import mediation, total_roi
from bayes_mmm.model import build_model
from bayes_mmm.optimize import Allocation, WhatIf
from bayes_mmm.posterior import Posterior
from bayes_mmm.report import planner, report
from bayes_mmm.runtime import RuntimePlan, plan_runtime
from bayes_mmm.sbc import SBCResult, sbc
from bayes_mmm.simulate import Truth, simulate
from bayes_mmm.spec import DEFAULT_PRIORS, LiftTest, ModelSpec

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRIORS",
    "Allocation",
    "BaselineResult",
    "BundleError",
    "BundleVersionWarning",
    "CVResult",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "Fit",
    "Holdout",
    "Job",
    "LiftTest",
    "MMMData",
    "ModelSpec",
    "Posterior",
    "RuntimePlan",
    "SBCResult",
    "Scaling",
    "ScenarioComparison",
    "SpecError",
    "Truth",
    "WhatIf",
    "__version__",
    "build_model",
    "compare",
    "compare_scenarios",
    "cross_validate",
    "datasets",
    "drivers",
    "fit",
    "fit_many",
    "holdout",
    "lift_table",
    "load",
    "mediation",
    "mlflow",
    "ols_baseline",
    "plan_runtime",
    "planner",
    "predict",
    "report",
    "ridge_baseline",
    "ridge_sign_check",
    "sbc",
    "side_by_side",
    "simulate",
    "total_roi",
]
