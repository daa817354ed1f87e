"""From a posterior to a window problem: the planner factory and the convergence gate.

:func:`planner` picks the direct-effect :class:`~bayes_mmm.optimize.window.Planner` or,
when the spec has mediators, the total-effect
:class:`~bayes_mmm.optimize.mediated.MediatedPlanner`. :func:`gate` is the check every
budget answer makes on the posterior first.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.errors import ConvergenceError, SpecError
from bayes_mmm.optimize.mediated import mediate
from bayes_mmm.optimize.window import Planner, plain_planner
from bayes_mmm.posterior import Posterior
from bayes_mmm.spec import ModelSpec


def planner(
    data: MMMData,
    spec: ModelSpec,
    draws: Mapping[str, np.ndarray],
    weeks: int = 13,
    flighting: str = "history",
    mediated: bool = True,
    rf_frequency="history",
) -> Planner:
    """Precompute the window problem for posterior (or true) parameter draws.

    Parameters
    ----------
    draws : dict of str to ndarray
        Parameters with a leading sample dim: ``alpha`` (sample, channel), ``beta``
        (sample, geo, channel) and the saturation's parameters (sample, channel); with
        ``spec.mediators`` also ``mediator_coef`` (sample, path).
    weeks : int
        Window length; the flighting pattern and cost per exposure come from the last
        ``weeks`` weeks of history.
    flighting : {"history", "flat"}
    mediated : bool
        When ``spec.mediators`` is non-empty, return the total-effect
        ``mediated.MediatedPlanner`` (upstream channels valued direct + through the
        mediator); ``False`` gives the plain, direct-effect planner.
    rf_frequency : "history" or dict of str to float
        Window frequency of reach-and-frequency channels (``optimize.rf_window``): spend
        scales reach at the last weeks' frequency (default), or reach is bought at the
        frequency given per channel (``optimize.rf_optimal.resolve_rf_frequency`` gives
        each channel's optimal frequency as one).
    """
    if mediated and spec.mediators and data.rf_channels:
        raise SpecError(
            f"The total-effect planner does not plan reach-and-frequency channels "
            f"{list(data.rf_channels)} with mediators: pass mediated=False for direct "
            "effects, or fit the R&F channels as impressions."
        )
    plan = plain_planner(
        data, spec, draws, weeks=weeks, flighting=flighting, rf_frequency=rf_frequency
    )
    if mediated and spec.mediators:
        return mediate(plan, draws)
    return plan


def gate(posterior: Posterior, allow_unconverged: bool) -> str | None:
    """The convergence verdict to attach to a budget answer, or None when the posterior
    passed its gates.

    Raises
    ------
    ConvergenceError
        When the posterior failed a gate and ``allow_unconverged`` is False.
    """
    if posterior.converged:
        return None
    message = posterior.convergence.message()
    if not allow_unconverged:
        raise ConvergenceError(
            f"{message} Budget answers from an unconverged fit are not trustworthy: refit "
            "with more draws/tuning, or pass allow_unconverged=True to proceed anyway."
        )
    return message
