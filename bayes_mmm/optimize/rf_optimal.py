"""``rf_frequency="optimal"``: each reach-and-frequency channel's optimal frequency, from a
posterior, for the planner (``optimize.rf_window``).

The optimal frequency is the argmax of the posterior-mean ROI curve at fixed impressions
(``fit.optimal_frequency()``'s ``at_mean`` column, Meridian's ``optimal_freq``): one
frequency per channel, which a media plan can buy. It is resolved here, in the entry
points' layer, because it reads the analysis path (``bayes_mmm.frequency``) and the
planner below does not.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.frequency import frequency_roi_draws
from bayes_mmm.optimize.factory import gate, planner
from bayes_mmm.optimize.rf_window import check_rf_frequency
from bayes_mmm.optimize.window import Planner
from bayes_mmm.posterior import as_posterior
from bayes_mmm.spec import ModelSpec


def optimal_frequencies(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """Each R&F channel's frequency of highest mean ROI over ``draws`` (parameters with a
    leading sample dim), on ``frequency.frequency_grid``."""
    n = len(draws["beta"])
    out = {}
    for channel in data.rf_channels:
        curve = frequency_roi_draws(data, spec, draws, (1, n), channel).mean(("chain", "draw"))
        out[channel] = float(curve["frequency"][int(curve.argmax("frequency"))])
    return out


def resolve_rf_frequency(data: MMMData, spec: ModelSpec, draws, rf_frequency):
    """``rf_frequency`` as the planner takes it: ``"optimal"`` becomes
    :func:`optimal_frequencies` of ``draws``; ``"history"`` and mappings pass (checked).

    Raises
    ------
    SpecError
        An unknown choice, a channel that is not R&F, or a frequency below 1.
    """
    check_rf_frequency(data, rf_frequency)
    if isinstance(rf_frequency, str) and rf_frequency == "optimal":
        return optimal_frequencies(data, spec, draws) if data.rf_channels else "history"
    return rf_frequency


def window_of(
    posterior, allow_unconverged: bool, weeks: int, flighting: str, rf_frequency
) -> tuple[Planner, tuple[int, int], str | None]:
    """The window problem of a posterior's draws (a ``Fit`` is read as its posterior),
    after the convergence gate (``factory.gate``), with ``rf_frequency`` resolved.

    Returns
    -------
    planner : Planner
    shape : (n_chain, n_draw)
    warning : str or None
        The gate's verdict.
    """
    posterior = as_posterior(posterior)
    warning = gate(posterior, allow_unconverged)
    draws, shape = posterior.draws
    rf = resolve_rf_frequency(posterior.data, posterior.spec, draws, rf_frequency)
    plan = planner(posterior.data, posterior.spec, draws, weeks, flighting, rf_frequency=rf)
    return plan, shape, warning
