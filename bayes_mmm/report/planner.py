"""``bm.planner(fit, "planner.html")``: an offline page that re-plans budgets in the browser.

The page carries the window problem of ``optimize.window`` for a thinned set of posterior
draws and recomputes it in JavaScript (``templates/planner.js``) on every slider move:
expected incremental revenue of the plan against spending nothing in the window, with its
central interval, the change against the current plan and P(beats current), and per
spend group the ROI and marginal ROI. There is no server, CDN, font or request of any kind.

What is embedded, and why it is exact: the planner's revenue is
``sum f(base + spend * unit) * coef`` over window + tail dates, geos and channels, where
``base`` and ``unit`` are adstocked exposures (``Planner.base``, ``Planner.unit``). Their
inputs before adstock (``window.exposure_inputs``: draw-independent, a few weeks × geos ×
channels) and each draw's lag weights are far smaller than the adstocked arrays, so the
page embeds those and adstocks once on load. A reach-and-frequency channel's inputs are
its scaled reach, multiplied before adstock by each draw's ``gain`` (the saturation of its
frequency, ``optimize.rf_window.frequency_gain``), and its saturation is ``linear``. Each
draw's ``coef`` and saturation parameters complete the model; the page therefore
reproduces ``Planner.revenue`` (and ``optimize.what_if``) on the same draws to rounding
(tested to 1e-9).

The page's plan is spend per (geo, spend group) cell. A spend group's slider sets its
window total and scales that group's cells alike, so from the current plan it splits the
total across geos like the last ``weeks`` weeks of history. The per-geo view (a geo
selector and a slider per spend group) sets one geo's cells and leaves the other geos'
spend as it is; the page then shows each cell's ROI and marginal ROI, the totals the same
way as for group spend, and exports the cells as the geo × spend-group table
``fit.plan_frame`` reads. A ``by_geo`` optimizer plan is marked by its cells, any other
by its group totals split like history. The per-geo view needs no further draws: the
page already keeps every (sample, geo, channel) term of the revenue.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from bayes_mmm.errors import SpecError
from bayes_mmm.optimize import Allocation, Planner
from bayes_mmm.optimize import planner as make_planner
from bayes_mmm.optimize.rf_window import frequency_gain, input_frequency
from bayes_mmm.optimize.window import exposure_inputs
from bayes_mmm.posterior import Posterior, as_posterior
from bayes_mmm.response import adstock_weights

TEMPLATES = Path(__file__).parent / "templates"
MAX_DRAWS = 200  # keeps a 10-geo × 5-channel page well under 3 MB


def thin(n: int, max_draws: int) -> np.ndarray:
    """Evenly spaced indices of ``max_draws`` out of ``n`` draws (all when ``n`` ≤ it)."""
    return np.arange(n) if n <= max_draws else np.linspace(0, n - 1, max_draws).astype(int)


def planner_model(
    posterior: Posterior,
    weeks: int = 13,
    *,
    plan: Allocation | None = None,
    max_draws: int = MAX_DRAWS,
    flighting: str = "history",
    hdi_prob: float = 0.9,
) -> tuple[dict, Planner]:
    """The page's model (JSON-ready) and the planner it reproduces.

    Parameters
    ----------
    posterior : Posterior
        Or a ``Fit``.
    plan : Allocation, optional
        The optimizer's plan, marked on the page (per spend group).
    max_draws : int
        Draws kept (evenly spaced over chain × draw).

    Returns
    -------
    model : dict
        Arrays flattened C-order: ``base_in``/``unit_in`` dims (lag + date, geo, channel),
        ``weights`` (sample, lag, channel), ``coef`` (sample, geo, channel), ``params``
        per channel ``{name: (sample,)}``; ``gain`` (sample, lag + date, geo, channel) with
        reach-and-frequency channels, else None; ``share`` (geo, spend_group), ``groups``
        (channel → spend-group index or -1), ``current``/``optimal`` (spend_group,), and
        ``optimal_cells`` (geo, spend_group) for a ``by_geo`` plan, else None.
    planner : Planner
        The window problem on the same draws: ``planner.revenue`` is what the page computes.

    Raises
    ------
    SpecError
        A spec with mediators (the page plans direct effects only), or ``max_draws`` < 2.
    """
    post = as_posterior(posterior)
    if post.spec.mediators:
        raise SpecError("The planner page plans direct effects only: the spec has mediators.")
    if max_draws < 2:
        raise SpecError(f"max_draws={max_draws!r} must be at least 2.")
    all_draws, _ = post.draws
    n = len(next(iter(all_draws.values())))
    idx = thin(n, max_draws)
    draws = {k: np.asarray(v)[idx] for k, v in all_draws.items()}
    pl = make_planner(post.data, post.spec, draws, weeks=weeks, flighting=flighting)
    data, spec = post.data, post.spec
    base_in, unit_in = exposure_inputs(data, spec, pl.unit_media)
    kinds, params = _kinds_and_params(pl)
    current = pl.history_spend.sum(axis=0)
    tot = pl.history_spend.sum(axis=0, keepdims=True)
    share = np.where(tot > 0, pl.history_spend / np.where(tot > 0, tot, 1.0), 1 / len(data.geos))
    optimal, optimal_cells = _optimal(plan, pl)
    model = {
        "labels": list(pl.labels),
        "channels": list(data.channels),
        "geos": [str(g) for g in data.geos],
        "groups": [-1 if g is None else data.spend_groups.index(g) for g in data.channel_group],
        "weeks": pl.weeks,
        "l_max": spec.l_max,
        "n_draws": len(idx),
        "hdi_prob": hdi_prob,
        "kinds": kinds,
        "params": params,
        "base_in": base_in.ravel().tolist(),
        "unit_in": unit_in.ravel().tolist(),
        "weights": np.asarray(adstock_weights(draws, spec)).ravel().tolist(),
        "gain": _gain(pl, draws),
        "coef": pl.coef[:, 0].ravel().tolist(),
        "share": share.ravel().tolist(),
        "current": current.tolist(),
        "optimal": optimal,
        "optimal_cells": optimal_cells,
    }
    return model, pl


def _optimal(plan: Allocation | None, pl: Planner) -> tuple[list | None, list | None]:
    """The optimizer's plan per spend group, dims (spend_group,), and for a ``by_geo``
    plan per cell, dims (geo, spend_group) flattened; None where it does not apply."""
    if plan is None:
        return None, None
    by_geo = isinstance(plan.spend, pd.DataFrame)
    totals = plan.spend.sum(axis=0) if by_geo else plan.spend
    optimal = totals.reindex(pl.labels).to_numpy(dtype=float).tolist()
    if not by_geo:
        return optimal, None
    cells = plan.spend.reindex(index=list(pl.data.geos), columns=pl.labels)
    return optimal, cells.to_numpy(dtype=float).ravel().tolist()


def _kinds_and_params(pl: Planner) -> tuple[list[str], list[dict]]:
    """Each channel's saturation kind in the planner (``linear`` for reach and frequency)
    and its parameters ``{name: (sample,)}``, dims (channel,)."""
    params: list[dict] = [{} for _ in pl.data.channels]
    kinds = [""] * len(pl.data.channels)
    for kind, index, p in pl.sat:
        for j, c in enumerate(index):
            kinds[c] = kind
            params[c] = {name: v[:, 0, 0, j].tolist() for name, v in p.items()}
    return kinds, params


def _gain(pl: Planner, draws) -> list | None:
    """Each draw's frequency gain of every channel, flattened (sample, lag + date, geo,
    channel); None without reach-and-frequency channels."""
    if pl.frequency is None:
        return None
    freq = input_frequency(pl.data, pl.spec, pl.frequency)
    return frequency_gain(pl.data, pl.spec, draws, freq).ravel().tolist()


def render_planner(model: dict, title: str = "Budget planner") -> str:
    """The page's HTML: the template with the model and ``planner.js`` inlined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    payload = json.dumps(model, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    script = (TEMPLATES / "planner.js").read_text(encoding="utf-8")
    return env.get_template("planner.html.j2").render(
        title=title, model_json=payload, script=script
    )


def planner(
    posterior: Posterior,
    path: str | Path = "planner.html",
    weeks: int = 13,
    *,
    plan: Allocation | None = None,
    max_draws: int = MAX_DRAWS,
    flighting: str = "history",
    hdi_prob: float = 0.9,
) -> Path:
    """Write the offline planner page of a posterior (or ``Fit``) to ``path``.

    Parameters are :func:`planner_model`'s. Returns the path.
    """
    model, _ = planner_model(
        posterior, weeks, plan=plan, max_draws=max_draws, flighting=flighting, hdi_prob=hdi_prob
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_planner(model), encoding="utf-8")
    return path
