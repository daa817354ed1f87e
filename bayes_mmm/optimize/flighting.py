"""Week-by-week flighting: the window budget allocated per period and spend group.

``fixed`` flightings (``optimize(flighting="history" | "flat")``) choose one total per
spend group and spread it over the window by a set pattern. :func:`weekly` chooses the
spend of every (period, spend group) instead, so it can move spend away from weeks whose
exposure is already high (history carryover spilling into the window's first weeks) and
towards weeks where the response is steeper.

Design: adstock is linear, so the exposure of a weekly plan ``S`` (dims (period,
spend_group)) is ``base + sum_w P_w * U_w`` where ``U_w`` is the adstocked exposure of one
unit of spend in week ``w`` alone (history carryover, saturation and the carryover tail
exactly as in ``optimize.window``) and ``P_w`` the week's spend per (geo, channel), split
across geos like the last ``weeks`` weeks of history. Expected revenue and its exact
gradient feed SLSQP (budget met exactly, per-period floors and caps, dark periods, and a
maximum change between consecutive periods as linear constraints). The search starts from
the best flat plan, which the weekly problem contains exactly (the flat planner spreads
each group's total evenly over the weeks with the same geo split), so on the draws it is
solved on the weekly plan never does worse than it in expectation. The gain is reported
against the better of the best ``"history"`` and ``"flat"`` plans, draw by draw, with
P(better), scored out of sample by two-fold cross-fitting (see :func:`weekly`).

With ``by_geo=True`` the plan is per (period, geo, spend group): the geo split is free too,
and the comparator is the best fixed flighting of free (geo, spend group) cells
(``allocate`` with ``Constraints(by_geo=True)``), so the reported gain is the gain of
re-timing alone. Caps, floors, dark weeks and ``max_change`` then bound each group's
weekly total over geos, as in the national plan, and the cells are solved by the
structured solvers of ``optimize.geo_split`` (L-BFGS-B; the limits couple geos only
through the weekly totals), not by SLSQP, whose dense subproblems are slow at hundreds of
cells.

Seasonality of the media effect is not modelled (the media coefficients do not vary over
time), so the gain comes from carryover into and out of the window and from saturation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import linprog, minimize

from bayes_mmm.analysis import summarize
from bayes_mmm.errors import SpecError
from bayes_mmm.optimize.allocate import allocate
from bayes_mmm.optimize.constraints import Constraints
from bayes_mmm.optimize.factory import gate
from bayes_mmm.optimize.geo_split import solve_bounded, solve_shares
from bayes_mmm.optimize.kernels import grouped_saturation
from bayes_mmm.optimize.rf_window import frequency_gain
from bayes_mmm.optimize.window import Planner, exposure_inputs, plain_planner
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior
from bayes_mmm.response import adstock_weights
from bayes_mmm.transforms import adstock, lag_stack


@dataclass(frozen=True, eq=False)
class WeeklyPlan:
    """A week-by-week plan and its gain over the best fixed flighting.

    Attributes
    ----------
    spend : DataFrame, dims (period, spend_group)
        Spend per window week (index 1 … weeks) and spend group; with ``by_geo`` rows
        are (period, geo) pairs, dims (period × geo, spend_group).
    fixed : Series, dims (spend_group,)
        The best fixed plan's group totals (``fixed.attrs["flighting"]`` says which);
        with ``by_geo`` a DataFrame of its cells, dims (geo, spend_group).
    gain : DataArray, dims (chain, draw)
        Revenue of the weekly plan minus the best fixed plan's, window + tail; with
        ``honest`` (the default) scored out of sample (two-fold cross-fitting, see
        :func:`weekly`).
    prob_better : float
    table : DataFrame
        ``mean``, ``median``, ``lower``, ``upper`` of ``gain``.
    budget : float
    weeks : int
    """

    spend: pd.DataFrame
    fixed: pd.Series
    gain: xr.DataArray
    prob_better: float
    table: pd.DataFrame
    budget: float
    weeks: int


class WeekModel:
    """Per-draw revenue of week-by-week plans, with its exact gradient.

    Parameters
    ----------
    plan : Planner
        A direct-effect window problem (its flighting is irrelevant here; a
        reach-and-frequency channel is served at its window frequency averaged over the
        weeks, per geo).
    draws : dict
        The draws it was built on (for the adstock weights).
    """

    def __init__(self, plan: Planner, draws: Mapping[str, np.ndarray]):
        data, spec = plan.data, plan.spec
        lag = spec.l_max - 1
        cpe = plan.unit_media.sum(axis=0)  # media per unit of spend, dims (geo, channel)
        one = np.zeros_like(plan.unit_media)
        one[0] = cpe
        _, unit_in = exposure_inputs(data, spec, one)
        unit = adstock(lag_stack(unit_in, spec.l_max, tail=lag), adstock_weights(draws, spec))
        if plan.frequency is not None:
            # An R&F channel's unit of spend buys reach served at the geo's window frequency
            # (constant over the weeks under the flat planner): exposure = reach × s(freq).
            gain = frequency_gain(data, spec, draws, plan.frequency.mean(axis=0)[None])
            unit = unit * gain
        # Adstock is linear and the same every week, so one unit of spend in week w gives
        # the week-0 response shifted by w: ``kernel[g, c, s, l]`` is the exposure ``l``
        # weeks after spending one unit (l < l_max), and revenue needs only this kernel,
        # not one (sample, date, geo, channel) array per week.
        n_lags = min(spec.l_max, unit.shape[1] - lag)
        self.kernel = np.ascontiguousarray(unit[:, lag : lag + n_lags].transpose(2, 3, 0, 1))
        self.plan = plan
        tot = plan.history_spend.sum(axis=0, keepdims=True)
        share = plan.history_spend / np.where(tot > 0, tot, 1.0)
        self.share = np.where(tot > 0, share, 1.0 / len(data.geos))  # (geo, group)
        self.m = data.group_matrix  # (channel, group)

    def subset(self, index) -> WeekModel:
        """The same model on a subset of draws (``index`` into the sample dim)."""
        new = copy.copy(self)
        new.plan, new.kernel = self.plan.subset(index), self.kernel[:, :, index]
        return new

    def _shifts(self, per: np.ndarray) -> np.ndarray:
        """``per`` (dims (period, geo, channel)) placed at each lag: dims (geo, channel,
        lag, date), entry ``per[d - l]`` (zero outside the window)."""
        n_dates = self.plan.base.shape[-3]
        n_lags = self.kernel.shape[-1]
        out = np.zeros((*per.shape[1:], n_lags, n_dates))
        for lag in range(n_lags):
            k = min(len(per), n_dates - lag)
            out[:, :, lag, lag : lag + k] = per[:k].transpose(1, 2, 0)
        return out

    def revenue(self, weekly: np.ndarray, grad: bool = False):
        """Revenue per draw of ``weekly`` spend.

        Parameters
        ----------
        weekly : ndarray, dims (period, spend_group) or (period, geo, spend_group)
            Group spend per week split across geos like history, or spend per cell.

        Returns
        -------
        revenue : ndarray, dims (sample,)
        gradient : ndarray, dims of ``weekly``, mean over draws (with ``grad``)
        """
        cells = weekly.ndim == 3
        if cells:
            per = np.einsum("wgk,ck->wgc", weekly, self.m)
        else:
            per = np.einsum("wk,gk,ck->wgc", weekly, self.share, self.m)
        # exposure (geo, channel, sample, date): one small matmul per (geo, channel)
        paid = np.matmul(self.kernel, self._shifts(per))
        x = np.ascontiguousarray(paid.transpose(2, 3, 0, 1))  # (sample, date, geo, channel)
        x += self.plan.base
        f, df = grouped_saturation(self.plan.sat, x, slice(None), grad)
        coef = self.plan.coef[:, 0]  # (sample, geo, channel)
        rev = (f.sum(axis=1) * coef).sum(axis=(1, 2))
        if not grad:
            return rev
        df *= coef[:, None]
        # d rev / d per[w] = sum over lags l of sum_s kernel[.., s, l] * df[s, w + l]
        g = np.matmul(self.kernel.transpose(0, 1, 3, 2), df.transpose(2, 3, 0, 1))
        weeks, n_lags = len(per), g.shape[2]
        d_per = np.zeros(per.shape)
        for lag in range(n_lags):
            k = min(weeks, g.shape[3] - lag)
            d_per[:k] += g[:, :, lag, lag : lag + k].transpose(2, 0, 1)
        d_per /= len(rev)
        if cells:
            return rev, np.einsum("wgc,ck->wgk", d_per, self.m)
        return rev, np.einsum("wgc,gk,ck->wk", d_per, self.share, self.m)


def _limits(weeks, labels, budget, caps, floors, dark, max_change=None):
    """Lower and upper spend per (period, spend group), dims (period, spend_group).

    Raises ``SpecError`` when no weekly plan meets the budget within the limits, including
    ``max_change`` (checked as a linear feasibility problem, so no solver starts from an
    empty feasible set and returns a plan that breaks a limit).
    """
    lo, hi = np.zeros((weeks, len(labels))), np.full((weeks, len(labels)), float(budget))
    for name, table, arr in (("floors", floors, lo), ("caps", caps, hi)):
        for key, value in dict(table or {}).items():
            if key not in labels:
                raise SpecError(f"Unknown spend group {key!r} in {name}; groups are {labels}.")
            arr[:, labels.index(key)] = value
    for w in dark:
        if not 1 <= w <= weeks:
            raise SpecError(f"Dark period {w!r} must be a week between 1 and {weeks}.")
        hi[w - 1] = 0.0
        if lo[w - 1].any():
            raise SpecError(f"Week {w} is dark but has a spend floor: drop one of them.")
    if (lo > hi).any():
        raise SpecError("A spend floor exceeds its cap: lower the floor or raise the cap.")
    if lo.sum() > budget or hi.sum() < budget:
        raise SpecError(
            f"The flighting limits allow between {lo.sum():,.2f} and {hi.sum():,.2f} in "
            f"total, not the budget {budget:,.2f}: relax the floors, caps or dark weeks."
        )
    if max_change is not None:
        _check_max_change(budget, lo, hi, max_change)
    return lo, hi


def _check_max_change(budget: float, lo: np.ndarray, hi: np.ndarray, max_change) -> None:
    """``SpecError`` unless some weekly plan (dims (period, spend_group)) spends ``budget``
    within ``lo``/``hi`` with no group changing by more than ``max_change`` between
    consecutive weeks (a linear program on spend scaled by the budget)."""
    if not np.isfinite(max_change) or max_change < 0:
        raise SpecError(f"max_change={max_change!r} must be a number ≥ 0 (currency per week).")
    weeks, groups = lo.shape
    if weeks < 2:
        return
    n = weeks * groups
    diff = np.eye(n)[groups:] - np.eye(n)[:-groups]  # week w+1 minus week w
    step = np.full(len(diff), max_change / budget)
    res = linprog(
        np.zeros(n),
        A_ub=np.vstack([diff, -diff]),
        b_ub=np.concatenate([step, step]),
        A_eq=np.ones((1, n)),
        b_eq=[1.0],
        bounds=list(zip((lo / budget).ravel(), (hi / budget).ravel())),
        method="highs",
    )
    if res.status == 2:
        raise SpecError(
            f"max_change={max_change:,.2f} cannot be met together with the budget "
            f"{budget:,.2f} and the floors, caps and dark weeks: no weekly plan ramps "
            "between them within that step. Raise `max_change` or relax the other limits."
        )


def weekly(
    posterior: Posterior,
    budget: float,
    weeks: int = 13,
    *,
    caps: Mapping | None = None,
    floors: Mapping | None = None,
    max_change: float | None = None,
    dark: Sequence[int] = (),
    hdi_prob: float = 0.9,
    honest: bool = True,
    by_geo: bool = False,
    allow_unconverged: bool = False,
) -> WeeklyPlan:
    """Allocate ``budget`` per window week and spend group to maximise expected revenue.

    Parameters
    ----------
    posterior : Posterior
        Or a ``Fit``.
    budget : float
        Total window spend (currency); met exactly.
    caps, floors : dict, optional
        ``{spend_group: spend}`` per week.
    max_change : float, optional
        The largest change of a group's spend between consecutive weeks (currency).
    dark : sequence of int
        Weeks (1 … ``weeks``) with no paid spend.
    honest : bool
        Score the gain out of sample: the draws are split in two halves (even and odd
        positions), the weekly and best fixed plans are solved on each half and scored on
        the other. A plan scored on the draws it was solved on looks better than it is;
        cross-fitting removes that optimism, not a bias of the posterior itself (on a
        short, unconverged 3-geo fit the weekly plan lost 2.8% against the best fixed
        plan in truth while P(better) was 0.79 in sample and 0.77 cross-fitted,
        ``benchmarks/FLIGHTING.md``). Costs two more solves.
    by_geo : bool
        Plan each (period, geo, spend group) cell instead of splitting each group's
        weekly spend across geos like history; ``caps``, ``floors``, ``dark`` and
        ``max_change`` bound each group's weekly total over geos.

    Raises
    ------
    SpecError
        Limits that contradict the budget, unknown groups or weeks, a mediated spec.
    """
    posterior = as_posterior(posterior)
    if posterior.spec.mediators:
        raise SpecError("Week-by-week flighting plans direct effects only: the spec has mediators.")
    if not np.isfinite(budget) or budget <= 0:
        raise SpecError(f"budget={budget!r} must be a positive number (currency).")
    gate(posterior, allow_unconverged)
    draws, shape = posterior.draws
    flat = plain_planner(posterior.data, posterior.spec, draws, weeks=weeks, flighting="flat")
    labels = list(flat.labels)
    lo, hi = _limits(flat.weeks, labels, budget, caps, floors, dark, max_change)
    model = WeekModel(flat, draws)
    fixed_planners = {f: _as(flat, f, draws) for f in ("flat", "history")}
    limits = (budget, lo, hi, max_change, by_geo)
    n = flat.base.shape[0]
    if honest and n >= 4:
        x, best, totals, gain_values = _cross_fitted(model, fixed_planners, limits, n)
    else:
        x, best, totals = _plans(model, fixed_planners, limits, np.arange(n))
        gain_values = _gain_on(model, fixed_planners, x, best, totals, np.arange(n))
    gain = xr.DataArray(gain_values.reshape(shape), dims=SAMPLE_DIMS, name="gain")
    spend, fixed_spend = _labelled(flat, x, totals)
    fixed_spend.attrs["flighting"] = best
    return WeeklyPlan(
        spend=spend,
        fixed=fixed_spend,
        gain=gain,
        prob_better=float((gain.values > 0).mean()),
        table=summarize(gain.expand_dims(quantity=["gain"]), hdi_prob),
        budget=float(budget),
        weeks=flat.weeks,
    )


def _labelled(flat: Planner, x: np.ndarray, totals: np.ndarray):
    """The weekly plan ``x`` and the fixed plan ``totals`` as labelled frames: (period,
    spend_group) and a Series (spend_group,), or with cells (``x`` dims (period, geo,
    spend_group)) rows (period, geo) and a (geo, spend_group) frame."""
    labels = list(flat.labels)
    periods = pd.RangeIndex(1, flat.weeks + 1, name="period")
    if x.ndim == 2:
        return pd.DataFrame(x, periods, labels), pd.Series(totals, labels, name="fixed")
    rows = pd.MultiIndex.from_product([periods, list(flat.data.geos)], names=["period", "geo"])
    geos = pd.Index(flat.data.geos, name="geo")
    return pd.DataFrame(x.reshape(-1, len(labels)), rows, labels), pd.DataFrame(
        totals, geos, labels
    )


def _cross_fitted(model: WeekModel, fixed_planners: dict, limits: tuple, n: int):
    """Two-fold cross-fitting: each half's (even, odd positions) plans scored on the other
    half, then the whole posterior's plans; returns ``_plans``' three and the gain per
    draw, dims (sample,)."""
    gain_values = np.empty(n)
    halves = np.arange(0, n, 2), np.arange(1, n, 2)
    starts = []
    for a, b in (halves, halves[::-1]):
        x_a, best_a, totals_a = _plans(model, fixed_planners, limits, a)
        gain_values[b] = _gain_on(model, fixed_planners, x_a, best_a, totals_a, b)
        starts.append(x_a)
    # the whole-posterior plan starts from the halves' mean plan when that beats the flat
    # start (fewer SLSQP iterations; the halves' plans are scored before this)
    x, best, totals = _plans(model, fixed_planners, limits, np.arange(n), np.mean(starts, 0))
    return x, best, totals, gain_values


def _plans(
    model: WeekModel, fixed_planners: dict, limits: tuple, index, start=None
) -> tuple[np.ndarray, str, np.ndarray]:
    """The weekly plan and the best fixed plan (flighting, group totals or, with
    ``by_geo``, cells) on draws ``index``; ``limits`` is (budget, lower, upper,
    max_change, by_geo). The solver starts from the best flat plan, or from ``start`` (dims of
    the plan) when that meets the limits and earns more on these draws."""
    budget, lo, hi, _, by_geo = limits
    fixed = {}
    for f, pl in fixed_planners.items():
        sub = pl.subset(index)
        totals = allocate(sub, budget, (1, len(index)), Constraints(by_geo=by_geo)).spend
        totals = totals.to_numpy()
        fixed[f] = (sub.revenue(fixed_plan_cells(pl, totals)).mean(), totals)
    flat_totals = fixed["flat"][1]
    group_totals = flat_totals.sum(axis=0) if by_geo else flat_totals
    y0 = np.clip(np.tile(group_totals / model.plan.weeks, (model.plan.weeks, 1)), lo, hi)
    if by_geo:  # the flat cells' geo split, each week
        split = flat_totals / np.where(group_totals > 0, group_totals, 1.0)
        y0 = y0[:, None, :] * np.where(group_totals > 0, split, 1.0 / len(split))[None]
    sub_model = model.subset(index)
    if start is not None and _meets(start, limits):
        if sub_model.revenue(start).mean() > sub_model.revenue(y0).mean():
            y0 = start
    x = _solve(sub_model, limits, y0)
    best = max(fixed, key=lambda f: fixed[f][0])
    return x, best, fixed[best][1]


def _meets(x: np.ndarray, limits: tuple) -> bool:
    """Whether weekly plan ``x`` spends the budget within the limits (to 1e-9)."""
    budget, lo, hi, max_change, by_geo = limits
    tol = 1e-9 * budget
    ok = not by_geo or bool((x >= -tol).all())
    x = x.sum(axis=1) if by_geo else x  # group totals per week
    ok = ok and abs(x.sum() - budget) <= tol and (x >= lo - tol).all() and (x <= hi + tol).all()
    if max_change is not None and len(x) > 1:
        ok = ok and bool((np.abs(np.diff(x, axis=0)) <= max_change + tol).all())
    return bool(ok)


def _gain_on(model: WeekModel, fixed_planners: dict, x, best, totals, index) -> np.ndarray:
    """Revenue of weekly plan ``x`` minus the fixed plan's on draws ``index``, dims (sample,)."""
    pl = fixed_planners[best].subset(index)
    return model.subset(index).revenue(x) - pl.revenue(fixed_plan_cells(pl, totals))


def _as(flat: Planner, flighting: str, draws) -> Planner:
    if flighting == "flat":
        return flat
    return plain_planner(flat.data, flat.spec, draws, weeks=flat.weeks, flighting=flighting)


def fixed_plan_cells(plan: Planner, totals: np.ndarray) -> np.ndarray:
    """Group totals (dims (spend_group,)) split across geos like history, dims (geo,
    spend_group); cells (dims (geo, spend_group)) are returned as they are."""
    if np.ndim(totals) == 2:
        return np.asarray(totals, dtype=float)
    tot = plan.history_spend.sum(axis=0, keepdims=True)
    share = np.where(tot > 0, plan.history_spend / np.where(tot > 0, tot, 1.0), 1 / tot.size)
    return share * totals[None]


def _solve(model: WeekModel, limits: tuple, y0: np.ndarray) -> np.ndarray:
    """The weekly plan from ``y0`` (dims of the plan: (period, spend_group), or (period,
    geo, spend_group) with ``by_geo``): SLSQP on the national plan's few variables, the
    structured solvers of ``optimize.geo_split`` on a by-geo plan's cells."""
    budget, lo, hi, max_change, by_geo = limits
    if by_geo and max_change is None and not (lo > 0).any() and ((hi == 0) | (hi >= budget)).all():
        return solve_shares(model, budget, hi > 0, y0)
    if by_geo:
        x = solve_bounded(model, budget, lo, hi, max_change, y0)
        if _meets(x, limits) and model.revenue(x).mean() > model.revenue(y0).mean():
            return x
        return y0 if _meets(y0, limits) else _slsqp(model, limits, y0)
    return _slsqp(model, limits, y0)


def _slsqp(model: WeekModel, limits: tuple, y0: np.ndarray) -> np.ndarray:
    """SLSQP on the weekly spend (scaled by the budget) with every limit as a linear
    constraint, from ``y0``."""
    budget, lo, hi, max_change, by_geo = limits
    shape = y0.shape
    norm = max(abs(float(model.revenue(y0).mean())), 1e-12)

    def fun(z):
        rev, g = model.revenue(z.reshape(shape) * budget, grad=True)
        return -rev.mean() / norm, -g.ravel() * budget / norm

    # ``totals @ z``: each (period, spend group)'s spend (summed over geos with by_geo)
    totals = _group_totals(shape) if by_geo else np.eye(lo.size)
    cons = [{"type": "eq", "fun": lambda z: z.sum() - 1.0, "jac": lambda z: np.ones_like(z)}]
    if by_geo:  # per-week group limits bind the sums over geos; cells keep 0 ≤ z ≤ cap
        for rows, sign, edge in ((lo.ravel() > 0, 1.0, lo), (hi.ravel() < budget, -1.0, hi)):
            a, b = sign * totals[rows], sign * edge.ravel()[rows] / budget
            if rows.any():
                cons.append(_linear(a, b))
        bounds = np.broadcast_to(hi[:, None, :], shape).ravel() / budget
        bounds = list(zip(np.zeros(bounds.size), bounds))
    else:
        bounds = list(zip((lo / budget).ravel(), (hi / budget).ravel()))
    if max_change is not None and shape[0] > 1:
        groups = lo.shape[1]
        diff = (np.eye(lo.size)[groups:] - np.eye(lo.size)[:-groups]) @ totals  # w+1 minus w
        step = np.full(len(diff), max_change / budget)
        cons += [_linear(-diff, -step), _linear(diff, -step)]
    res = minimize(
        fun,
        (y0 / budget).ravel(),
        jac=True,
        method="SLSQP",
        bounds=bounds,
        constraints=cons,
        options={"maxiter": 300, "ftol": 1e-10},
    )
    low, high = np.array(bounds).T
    return np.clip(res.x, low, high).reshape(shape) * budget


def _linear(a: np.ndarray, b: np.ndarray) -> dict:
    """The SLSQP constraint ``a @ z - b ≥ 0``."""
    return {"type": "ineq", "fun": lambda z: a @ z - b, "jac": lambda z: a}


def _group_totals(shape: tuple) -> np.ndarray:
    """The matrix summing a (period, geo, spend_group) plan, flattened, over geos:
    dims (period × spend_group, period × geo × spend_group)."""
    weeks, geos, groups = shape
    return np.kron(np.eye(weeks), np.kron(np.ones((1, geos)), np.eye(groups)))
