"""The drivers table: every driver's effect on the target in target units, honestly.

The seed behind this module ranked bare ridge coefficients of mixed units as "top positive
and negative drivers". Here every driver gets an effect in target units per posterior
draw, so the table can carry an interval, P(effect > 0) and the distribution of its rank.

Effect definitions (target units, summed over the data window's dates and geos)
------------------------------------------------------------------------------
- **media / organic**: the channel's total contribution (the target with the channel's
  observed media minus without it; ``analysis.channel_contribution_draws``). Always ≥ 0.
- **control**: the change in the target had the control been one standard deviation higher
  in every period of the window (``control_coef`` × target scale × number of periods; for
  an adstocked control the sustained shift passes the normalised adstock unchanged). A
  control's total "contribution" relative to its own mean is zero by construction, so a
  +1 sd shift is the comparable, signed quantity; it can be negative (price).
- **event**: the event's total contribution (``event_coef`` × event column).
- **indirect path** (with mediators): the upstream channel's effect through the mediator
  (``bayes_mmm.mediation``). The mediator's own contribution already contains it, so the
  indirect rows explain part of the mediator's row rather than add to it.

Ranks are taken per draw over all drivers by signed effect (rank 1 = largest effect), so
``p_rank1`` is the posterior probability that the driver is the top positive driver.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm.analysis import channel_contribution_draws, summarize
from bayes_mmm.data import MMMData
from bayes_mmm.posterior import Posterior, as_posterior, to_sample_array
from bayes_mmm.spec import ModelSpec


def effect_draws(
    data: MMMData, spec: ModelSpec, draws: Mapping[str, np.ndarray], mediation: bool = True
) -> tuple[list[str], list[str], np.ndarray]:
    """Per-draw effect of every driver (see the module docstring for the definitions).

    Parameters
    ----------
    draws : dict of str to ndarray
        Parameters with a leading sample dim.
    mediation : bool
        Add the indirect paths when the spec has mediators.

    Returns
    -------
    names : list of str, dims (driver,)
    kinds : list of str, dims (driver,)
        ``"media"``, ``"organic"``, ``"control"``, ``"event"`` or ``"indirect"``.
    values : ndarray, dims (sample, driver)
    """
    names, kinds, cols = [], [], []
    media = channel_contribution_draws(data, spec, draws, reduce=lambda x: x.sum(axis=(1, 2)))
    for c, name in enumerate(data.channels):
        names.append(name)
        kinds.append("media" if data.channel_group[c] is not None else "organic")
        cols.append(media[:, c])
    scale_total = data.scaling.target.sum() * data.n_dates  # Σ_geo scale × periods
    for k, name in enumerate(data.controls):
        names.append(name)
        kinds.append("control")
        cols.append(draws["control_coef"][:, k] * scale_total)
    if getattr(data, "events", ()) and "event_coef" in draws:
        weighted = data.event_values * data.scaling.target[None, :, None]  # (date, geo, event)
        totals = np.einsum("sge,tge->se", draws["event_coef"], weighted)
        for e, name in enumerate(data.events):
            names.append(name)
            kinds.append("event")
            cols.append(totals[:, e])
    if mediation and spec.mediators:
        from bayes_mmm.mediation import effect_draws as mediated
        from bayes_mmm.mediation import path_labels

        indirect = mediated(data, spec, draws)["indirect"]
        for p, label in enumerate(path_labels(spec)):
            names.append(f"{label} (indirect)")
            kinds.append("indirect")
            cols.append(indirect[:, p])
    return names, kinds, np.stack(cols, axis=-1)


def driver_draws(posterior: Posterior, mediation: bool = True) -> xr.DataArray:
    """Effect of every driver per draw, dims (chain, draw, driver); coordinate ``kind``."""
    post = as_posterior(posterior)
    draws, shape = post.draws
    names, kinds, values = effect_draws(post.data, post.spec, draws, mediation=mediation)
    da = to_sample_array(values, shape, ("driver",), {"driver": names}, "effect")
    return da.assign_coords(kind=("driver", kinds))


def drivers(posterior: Posterior, hdi_prob: float = 0.9, mediation: bool = True) -> pd.DataFrame:
    """The drivers table, sorted by posterior mean effect (largest first).

    Returns
    -------
    DataFrame indexed by driver with ``kind``, ``mean``, ``median``, ``lower``, ``upper``
    (HDI of ``hdi_prob``, target units), ``p_positive`` = P(effect > 0), ``p_rank1`` =
    P(rank = 1) and ``mean_rank`` (1 = largest signed effect, per draw).
    ``attrs["hdi_prob"]`` and ``attrs["definitions"]``.
    """
    post = as_posterior(posterior)
    da = driver_draws(post, mediation=mediation)
    table = summarize(da.drop_vars("kind"), hdi_prob)
    flat = da.values.reshape(-1, da.sizes["driver"])
    ranks = (-flat).argsort(axis=1).argsort(axis=1) + 1  # (sample, driver), 1 = largest
    table.insert(0, "kind", da["kind"].values)
    table["p_positive"] = (flat > 0).mean(axis=0)
    table["p_rank1"] = (ranks == 1).mean(axis=0)
    table["mean_rank"] = ranks.mean(axis=0)
    table = table.sort_values("mean", ascending=False)
    table.attrs.update(
        hdi_prob=hdi_prob,
        definitions=(
            "media/organic/event/indirect: total contribution over the data window; "
            "control: effect of +1 sd in every period of the window; target units."
        ),
    )
    if not post.converged:
        table.attrs["warning"] = post.convergence.message()
    return table


def ridge_sign_check(posterior: Posterior, ridge=None, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Where the ridge baseline's coefficient signs are (not) supported by the posterior.

    Parameters
    ----------
    ridge : BaselineResult, optional
        ``bayes_mmm.baselines.ridge_baseline(fit.data, transform="log")`` when None.

    Returns
    -------
    DataFrame indexed by driver (the drivers present in both) with ``ridge_coef``,
    ``ridge_sign``, the posterior ``mean``/``lower``/``upper``, ``p_same_sign`` (posterior
    probability of the ridge's sign) and ``verdict``: ``"supported"`` (the HDI excludes 0 on
    the ridge's side), ``"contradicted"`` (it excludes 0 on the other side) or
    ``"uncertain"``. Media effects are ≥ 0 by the model's construction, so a negative media
    coefficient can at best be "uncertain" when the effect may be ~0.
    """
    post = as_posterior(posterior)
    if ridge is None:
        from bayes_mmm.baselines import ridge_baseline

        ridge = ridge_baseline(post.data, transform="log")
    table = drivers(post, hdi_prob, mediation=False)
    coef = ridge.coefficients["coef"].drop("intercept", errors="ignore")
    rows = []
    for name, value in coef.items():
        match = _match(str(name), table.index)
        if match is None:
            continue
        r = table.loc[match]
        sign = float(np.sign(value))
        p_same = r["p_positive"] if sign > 0 else 1.0 - r["p_positive"]
        lo, hi = r["lower"] * sign, r["upper"] * sign
        # Media are positive by construction: require a clearly positive lower bound (above
        # 1% of the mean) before calling a media sign "supported".
        eps = 1e-2 * abs(r["mean"]) if r["kind"] in ("media", "organic") else 0.0
        verdict = "supported" if lo > eps else "contradicted" if hi < -eps else "uncertain"
        rows.append(
            {
                "driver": match,
                "ridge_term": name,
                "ridge_coef": value,
                "ridge_sign": int(sign),
                "mean": r["mean"],
                "lower": r["lower"],
                "upper": r["upper"],
                "p_same_sign": p_same,
                "verdict": verdict,
            }
        )
    out = pd.DataFrame(rows).set_index("driver")
    out.attrs["hdi_prob"] = hdi_prob
    return out


def _match(term: str, drivers) -> str | None:
    """The driver a ridge term describes (ridge terms may carry prefixes like ``log_``)."""
    if term in drivers:
        return term
    hits = [d for d in drivers if term.endswith(d) or d in term]
    return max(hits, key=len) if hits else None
