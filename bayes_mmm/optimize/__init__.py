"""Posterior-aware budget allocation and what-if scenarios over posterior draws.

The question is always about a *future window* of ``weeks`` periods right after the data:

- **Spend, not media.** The optimizer allocates spend per spend group (``data.spend``); a
  group paying several channels is one decision and its channels scale together. Spend is
  turned into media with each channel's historical media-per-spend ratio in the last
  ``weeks`` weeks (cost per exposure). Organic channels get no budget and keep the media of
  the last ``weeks`` weeks.
- **Flighting.** ``"history"`` spreads a channel's window spend over the weeks as the last
  ``weeks`` weeks did, per geo; ``"flat"`` spreads it evenly.
- **Carryover both ways.** The last ``l_max - 1`` weeks of history are prepended, so their
  adstock spills into the window, and ``l_max - 1`` zero weeks are appended, so the tail
  of window spend is counted. Revenue is summed over window + tail.
- **"Current"** is the same budget split across spend groups and geos as in the last
  ``weeks`` weeks of history.

Design choice: adstock is linear, so for a spend matrix ``s`` (dims (geo, spend_group))
the adstocked, scaled exposure of every draw is ``A + s[g, k(c)] * B`` where ``A`` (history
carryover and organic media) and ``B`` (adstock of one unit of spend) are computed once per
call with ``transforms.lag_stack``/``adstock``. Each objective evaluation is then one
saturation over (sample, date, geo, channel) and its *exact* gradient follows from
:func:`saturation_derivative` by the chain rule: the solvers get analytic gradients, never
finite differences of the revenue, and nothing touches the PyMC model. The same numbers come out of
``analysis.channel_contribution_draws`` for the explicit media plan (tested).

Plans carry their own uncertainty: uplift draws against the current split, P(better),
marginal ROI intervals and, with ``stability=k``, the spread of the optimum re-solved on
``k`` disjoint subsets of the draws and, with ``near_optimal=k``, the share of the best
plan's uplift it earns under each of ``k`` draws taken as the truth. The search is global
in the expected revenue (the concave envelope of the cells' tabulated curves) and then
local in the chosen utility, within the plan's :class:`Constraints` (bounds, locks,
``by_geo``): by the structured solver (``separable``; cost linear in cells) on the
direct-effect planner, by SLSQP (``search``) on the mediated one or with
``solver="slsqp"``.

Objectives are utilities over per-draw revenue: ``fn(revenue) -> (value, d value / d
revenue)`` with ``revenue`` of dims (sample,). Built-ins: :func:`mean_utility`,
:func:`cvar_utility`, :func:`mean_sd_utility`, :func:`profit_utility`; pass your own
callable with the same signature.

Reach and frequency: an R&F channel's spend buys reach at the last weeks' frequency
(``rf_frequency="history"``), at its posterior optimal frequency (``"optimal"``) or at a
frequency given per channel; its window revenue is then linear in spend (see
``bayes_mmm.optimize.rf_window``).

Mediation: with ``spec.mediators`` the planner is ``mediated.MediatedPlanner``, which values
upstream channels by their total effect (direct + through the media they induce in the
mediator); see ``bayes_mmm.optimize.mediated``.

Modules, each importing only those before it: ``kernels`` (saturation and slope kind by
kind) and ``rf_window`` (reach-and-frequency exposure) → ``window`` (the direct-effect
:class:`Planner`) → ``mediated`` (the total-effect planner) → ``factory`` (``planner``
and the convergence gate) → ``utilities`` and ``constraints`` → ``search`` (SLSQP
multi-start) → ``separable`` (the structured solver) → ``allocate`` (:func:`optimize`,
:func:`allocate` and their stability and near-optimality steps) → ``scenarios``
(:func:`what_if`, :func:`response_curves`) → ``target`` (:func:`reach`,
:func:`minimum_budget`: the least budget reaching a target) and ``flighting``
(:func:`weekly`: spend per window week and spend group) and ``costs``
(:class:`CostCurve`, :func:`optimize_costed`: media costs that change with spend), and
``plan`` (:func:`plan_frame`: a plan as a week-by-week future frame for
``bayes_mmm.forecast.predict``) and ``rf_optimal`` (``rf_frequency="optimal"`` resolved
from a posterior).
"""

from bayes_mmm.kinds import saturation_derivative
from bayes_mmm.optimize.allocate import Allocation, allocate, optimize
from bayes_mmm.optimize.constraints import Constraints
from bayes_mmm.optimize.costs import CostCurve, optimize_costed
from bayes_mmm.optimize.factory import planner
from bayes_mmm.optimize.flighting import WeeklyPlan, weekly
from bayes_mmm.optimize.mediated import MediatedPlanner, mediate
from bayes_mmm.optimize.plan import plan_frame, plan_weeks
from bayes_mmm.optimize.scenarios import WhatIf, response_curves, what_if
from bayes_mmm.optimize.target import TargetReach, minimum_budget, reach
from bayes_mmm.optimize.utilities import (
    Utility,
    cvar_utility,
    mean_sd_utility,
    mean_utility,
    profit_utility,
)
from bayes_mmm.optimize.window import Planner, marginal_roi, window_baseline

__all__ = [
    "Allocation",
    "Constraints",
    "CostCurve",
    "MediatedPlanner",
    "Planner",
    "TargetReach",
    "Utility",
    "WeeklyPlan",
    "WhatIf",
    "allocate",
    "cvar_utility",
    "marginal_roi",
    "mean_sd_utility",
    "mean_utility",
    "mediate",
    "minimum_budget",
    "optimize",
    "optimize_costed",
    "plan_frame",
    "plan_weeks",
    "planner",
    "profit_utility",
    "reach",
    "response_curves",
    "saturation_derivative",
    "weekly",
    "what_if",
    "window_baseline",
]
