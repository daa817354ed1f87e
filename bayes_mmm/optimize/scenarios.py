"""What-if scenarios and response curves on the window problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.analysis import summarize
from bayes_mmm.errors import SpecError
from bayes_mmm.optimize.constraints import label_index
from bayes_mmm.optimize.factory import gate, planner
from bayes_mmm.optimize.rf_optimal import resolve_rf_frequency
from bayes_mmm.optimize.window import window_baseline
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior


@dataclass(frozen=True, eq=False)
class WhatIf:
    """Revenue change of a spend scenario against the current plan.

    Attributes
    ----------
    change : DataArray, dims (chain, draw)
        Revenue change in target units over window + tail.
    change_pct : DataArray, dims (chain, draw)
        The change in % of the current plan's expected revenue over window + tail.
    table : DataFrame
        ``mean``, ``median``, ``lower``, ``upper`` for ``change`` and ``change_pct``.
    spend : pd.Series
        Scenario spend per spend group (``current`` column alongside).
    sentence : str
        E.g. "+10% budget over the next 13 weeks → +2.1% revenue (90% CI 1.2% to 3.0%)".
    warning : str or None
    """

    change: xr.DataArray
    change_pct: xr.DataArray
    table: pd.DataFrame
    spend: pd.DataFrame
    sentence: str
    warning: str | None = None


def what_if(
    posterior: Posterior,
    budget_change: float = 0.0,
    spend_change: Mapping[str, float] | None = None,
    weeks: int = 13,
    *,
    flighting: str = "history",
    hdi_prob: float = 0.9,
    allow_unconverged: bool = False,
    rf_frequency="history",
) -> WhatIf:
    """Revenue change when the last ``weeks`` weeks' spend is repeated with changes.

    Parameters
    ----------
    posterior : Posterior
        Or a ``Fit`` (its posterior is used).
    budget_change : float
        Relative change of every spend group (0.10: +10%).
    spend_change : dict, optional
        Extra relative change per spend group label (or channel), e.g. ``{"tv": 0.2}``.
    weeks : int
        Window length; current spend is the last ``weeks`` weeks of history.
    rf_frequency : {"history", "optimal"} or dict of str to float
        Window frequency of reach-and-frequency channels, in the current plan and the
        scenario alike (``optimize.rf_window``).

    Returns
    -------
    WhatIf
    """
    posterior = as_posterior(posterior)
    warning = gate(posterior, allow_unconverged)
    draws, shape = posterior.draws
    rf = resolve_rf_frequency(posterior.data, posterior.spec, draws, rf_frequency)
    plan = planner(posterior.data, posterior.spec, draws, weeks, flighting, rf_frequency=rf)
    cur = plan.current()
    factor = np.full(len(plan.labels), 1.0 + budget_change)
    for key, ch in dict(spend_change or {}).items():
        factor[label_index(plan.labels, posterior.data, key)] *= 1.0 + ch
    if np.any(factor < 0):
        raise SpecError("A spend change below -100% gives negative spend: use ≥ -1.")
    new = cur * factor[None]
    r0, r1 = plan.revenue(cur), plan.revenue(new)
    total0 = r0 + window_baseline(plan, draws)
    change = xr.DataArray((r1 - r0).reshape(shape), dims=SAMPLE_DIMS, name="change")
    pct = xr.DataArray((100 * (r1 - r0) / total0).reshape(shape), dims=SAMPLE_DIMS, name="pct")
    table = summarize(
        xr.concat([change, pct], dim=pd.Index(["change", "change_pct"], name="quantity")),
        hdi_prob,
    )
    spend = pd.DataFrame(
        {"current": cur.sum(axis=0), "scenario": new.sum(axis=0)},
        index=pd.Index(plan.labels, name="channel"),
    )
    row = table.loc["change_pct"]
    parts = []
    if budget_change:
        parts.append(f"{budget_change:+.0%} budget")
    parts += [f"{k} {v:+.0%}" for k, v in dict(spend_change or {}).items()]
    sentence = (
        f"{', '.join(parts) or 'Current spend'} over the next {weeks} weeks → "
        f"{row['mean']:+.1f}% revenue ({hdi_prob:.0%} CI {row['lower']:+.1f}% to "
        f"{row['upper']:+.1f}%)"
    )
    if warning:
        sentence += " [unconverged fit]"
    return WhatIf(
        change=change, change_pct=pct, table=table, spend=spend, sentence=sentence, warning=warning
    )


def response_curves(
    posterior: Posterior,
    weeks: int = 13,
    *,
    points: int = 21,
    max_multiple: float = 2.0,
    optimal: pd.Series | pd.DataFrame | None = None,
    flighting: str = "history",
    hdi_prob: float = 0.9,
    rf_frequency="history",
) -> xr.Dataset:
    """Expected revenue of each spend group against its window spend, others at current.

    Spend runs from 0 to ``max_multiple`` × current (split across geos like history);
    revenue is the change in window + tail media revenue relative to zero spend on that
    group, i.e. the group's own channels' revenue (with ``spec.mediators``, an upstream
    group's curve also counts the revenue of the mediator media it induces).

    Returns
    -------
    Dataset with dims (channel, point): ``spend``, ``mean``, ``lower``, ``upper``, and
    per channel ``current`` and ``optimal`` (NaN when no plan is given).
    """
    posterior = as_posterior(posterior)
    draws, _ = posterior.draws
    rf = resolve_rf_frequency(posterior.data, posterior.spec, draws, rf_frequency)
    plan = planner(posterior.data, posterior.spec, draws, weeks, flighting, rf_frequency=rf)
    cur = plan.current()
    mult = np.linspace(0.0, max_multiple, points)
    k_n = len(plan.labels)
    spend = np.zeros((k_n, points))
    stats = np.zeros((3, k_n, points))
    for k in range(k_n):
        zero = cur.copy()
        zero[:, k] = 0.0
        r_zero = plan.revenue(zero)
        for j, mlt in enumerate(mult):
            s = zero.copy()
            s[:, k] = cur[:, k] * mlt
            r = plan.revenue(s) - r_zero
            spend[k, j] = s[:, k].sum()
            da = xr.DataArray(r[None], dims=SAMPLE_DIMS)
            hdi = summarize(da.expand_dims(q=[0]), hdi_prob).iloc[0]
            stats[:, k, j] = hdi["mean"], hdi["lower"], hdi["upper"]
    if optimal is None:
        opt = np.full(k_n, np.nan)
    else:  # an Allocation's spend: per group, or geo × group (summed over geos)
        total = optimal.sum(axis=0) if isinstance(optimal, pd.DataFrame) else optimal
        opt = total.reindex(plan.labels).to_numpy(dtype=float)
    dims = ("channel", "point")
    return xr.Dataset(
        {
            "spend": (dims, spend),
            "mean": (dims, stats[0]),
            "lower": (dims, stats[1]),
            "upper": (dims, stats[2]),
            "current": (("channel",), cur.sum(axis=0)),
            "optimal": (("channel",), opt),
        },
        coords={"channel": plan.labels, "point": np.arange(points)},
        attrs={"hdi_prob": hdi_prob, "weeks": weeks},
    )
