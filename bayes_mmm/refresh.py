"""Model refresh: refit on a panel with new weeks, warm-started, and report what changed.

:func:`refresh` checks the new panel against the old one (same geos, channels, spend
groups, controls and frequency; the old dates first, their values may be restated), refits
it warm from the old posterior (``warmstart.warm_sample``, :data:`~bayes_mmm.warmstart.
WARM_TUNE` tuning steps), and compares ROI and contribution per channel before and after.

Design choice: both sides of the change report are measured on the *old* weeks, so a shift
says that the new data changed what the model believes about the same spend, not that the
spend changed. Before is the old fit's ROI; after is the new fit's ROI of the old weeks'
spend (their media, with the carryover into later weeks).

The flag asks whether the new weeks disagree with the old posterior. When they agree with
it (the model holds in the new weeks), the new posterior mean is the old one plus a move
whose variance is the old posterior variance minus the new one (the law of total variance:
the posterior mean is a martingale as data arrive). So the shift is scored against
``sqrt(var_before - var_after)``, plus the Monte Carlo error of both means, not against the
old posterior SD. That difference of two sampled variances is noisy (a variance from 200
effective draws is off by about 10%, as much as 13 new weeks on 91 narrow it), so it is
floored at ``var_before × new periods / all periods``, the narrowing that the same
information per period would give. The old SD would be too wide: a static model refitted
on 130 + 26 weeks moves by only about a sixth of a change confined to the new weeks, which
the old SD hides while this score does not. A channel is flagged when its score exceeds
:func:`flag_threshold`, the two-sided normal quantile at a family-wise error of
:data:`FAMILY_ERROR` over the channels (Bonferroni), so a panel where nothing changed flags
any channel with probability about 10%.

With new weeks, the flag is a lift test of the new weeks against the old model instead
(:func:`new_weeks_lift`): a static refit spreads a change confined to the new weeks over
every parameter that can absorb it, so ROI shifts point at the wrong channel too (on a
10-geo panel whose TV effect doubles in its last 26 weeks, a 2 × 300-draw refit moves
search's ROI by 3.4 scores and TV's by 1.4; the lift scores are 2.6 for TV and at most 1.5
for the others). The residual of the new weeks under the old posterior is regressed, draw by
draw, on each spend group's contribution there as the old posterior forecasts it (with a
level per geo): a coefficient of 0 says the channel works as before, 1 that its effect
doubled. The score is its mean over its SD (the spread over draws, which is the old
posterior's own uncertainty about the effect, plus the regression's sampling variance);
the flag uses the same threshold. The ROI shifts stay in the table for reading, and flag
restated history alone. The report is stored as plain values in ``meta["refresh"]``
(saved with the bundle, shown by the report).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from bayes_mmm import analysis
from bayes_mmm.data import MMMData
from bayes_mmm.errors import DataError
from bayes_mmm.forecast import forecast_design
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior, chunked
from bayes_mmm.response import expected_response, media_response
from bayes_mmm.warmstart import WARM_TUNE, warm_sample

#: Chance, over all channels of a report, of flagging one when nothing changed.
FAMILY_ERROR = 0.1


def flag_threshold(n_channels: int, family_error: float = FAMILY_ERROR) -> float:
    """The score above which a channel is flagged: the two-sided normal quantile at
    ``family_error / n_channels`` (1.64 for one channel, 2.13 for 3, 2.33 for 5)."""
    return float(norm.ppf(1 - family_error / (2 * max(n_channels, 1))))


def check_extends(old: MMMData, new: MMMData) -> None:
    """Raise ``DataError`` unless ``new`` has ``old``'s labels and frequency and starts
    with ``old``'s dates (values of those dates may differ: restated history)."""
    for name in ("geos", "channels", "spend_groups", "controls", "events"):
        a, b = getattr(old, name), getattr(new, name)
        if tuple(a) != tuple(b):
            raise DataError(
                f"The new panel's {name} {list(b)} differ from the fitted panel's {list(a)}: "
                "a refresh keeps the same columns and geos (fit a new model otherwise)."
            )
    if new.freq != old.freq:
        raise DataError(
            f"The new panel's frequency {new.freq!r} differs from the fitted panel's "
            f"{old.freq!r}: aggregate the new data to the old frequency."
        )
    if new.n_dates < old.n_dates or not new.dates[: old.n_dates].equals(old.dates):
        raise DataError(
            f"The new panel must start with the fitted panel's {old.n_dates} dates "
            f"({old.dates[0].date()}…{old.dates[-1].date()}) and may add later ones; it "
            f"covers {new.dates[0].date()}…{new.dates[-1].date()}."
        )


def _old_weeks_roi(post: Posterior, n_old: int) -> xr.DataArray:
    """ROI of the first ``n_old`` weeks' spend under ``post``, dims (chain, draw, channel):
    their media only (later weeks zeroed), carryover counted into the later weeks and an
    ``l_max - 1`` tail."""
    data, spec = post.data, post.spec
    values, shape = post.draws
    media = data.media.copy()
    media[n_old:] = 0.0
    total = analysis.channel_contribution_draws(
        data, spec, values, media=media, tail=spec.l_max - 1, reduce=lambda x: x.sum(axis=1)
    )
    incr = (total @ data.group_matrix).sum(axis=1)  # (sample, spend_group)
    roi = incr / data.spend[:n_old].sum(axis=(0, 1))
    coords = {"channel": data.group_labels}
    return xr.DataArray(roi.reshape(*shape, -1), dims=(*SAMPLE_DIMS, "channel"), coords=coords)


def change_report(old, new, hdi_prob: float = 0.9) -> pd.DataFrame:
    """ROI per channel (spend group) before and after a refresh, on the old weeks.

    Returns
    -------
    DataFrame indexed by channel: ``before``/``before_lower``/``before_upper``,
    ``after``/``after_lower``/``after_upper`` (means and equal-tailed ``hdi_prob``
    intervals), ``shift`` (after − before), ``shift_sd`` (``shift`` over the SD of the
    move that new weeks agreeing with the old posterior make, see :func:`_move_sd`), with
    new weeks the columns of :func:`new_weeks_lift`, and ``flagged``: ``|lift_sd|`` (with
    new weeks) or ``|shift_sd|`` (restated history only) above :func:`flag_threshold`;
    ``attrs["flag_sd"]`` is that threshold.
    """
    old, new = as_posterior(old), as_posterior(new)
    before = _old_weeks_roi(old, old.data.n_dates)
    after = _old_weeks_roi(new, old.data.n_dates)
    q = [(1 - hdi_prob) / 2, (1 + hdi_prob) / 2]
    table = pd.DataFrame(index=pd.Index(before["channel"].values, name="channel"))
    for name, da in (("before", before), ("after", after)):
        lo, hi = da.quantile(q, dim=SAMPLE_DIMS).values
        table[name], table[f"{name}_lower"], table[f"{name}_upper"] = (
            da.mean(SAMPLE_DIMS).values,
            lo,
            hi,
        )
    table["shift"] = table["after"] - table["before"]
    share = 1.0 - old.data.n_dates / new.data.n_dates
    table["shift_sd"] = table["shift"] / _move_sd(before, after, share)
    threshold = flag_threshold(len(table))
    table["flagged"] = table["shift_sd"].abs() > threshold
    if new.data.n_dates > old.data.n_dates:
        lift = new_weeks_lift(old, new.data, hdi_prob)
        table = table.join(lift)
        table["flagged"] = table["lift_sd"].abs() > threshold
    table.attrs.update(hdi_prob=hdi_prob, flag_sd=threshold)
    return table


def new_weeks_lift(old, new_data: MMMData, hdi_prob: float = 0.9) -> pd.DataFrame:
    """How much each spend group's effect in the new weeks departs from the old posterior.

    Per old posterior draw, the new weeks' residual (observed minus expected target, on
    the target scale) is regressed by least squares on each spend group's contribution
    there and a level per geo; the coefficient is the group's extra effect (0: as
    before, 1: doubled).

    Parameters
    ----------
    old : Posterior or Fit
    new_data : MMMData
        The old panel's dates followed by the new ones.

    Returns
    -------
    DataFrame indexed by channel (spend group): ``lift`` (mean coefficient),
    ``lift_lower``/``lift_upper`` (equal-tailed ``hdi_prob`` interval over draws) and
    ``lift_sd`` (``lift`` over the SD of the coefficient: its spread over draws plus the
    regression's mean sampling variance).
    """
    post = as_posterior(old)
    n_old = post.data.n_dates
    design = forecast_design(post, new_data, start=n_old)
    values, _ = post.draws
    resid = new_data.target[n_old:] / design.target_scale - chunked(
        values, lambda c: expected_response(design, c, post.spec)
    )  # (sample, date, geo)
    groups = chunked(
        values, lambda c: media_response(design.stack, c, post.spec) @ new_data.group_matrix
    )  # (sample, date, geo, spend_group)
    n_s, n_t, n_g, n_k = groups.shape
    levels = np.broadcast_to(np.eye(n_g), (n_s, n_t, n_g, n_g))
    x = np.concatenate([groups, levels], axis=-1).reshape(n_s, n_t * n_g, n_k + n_g)
    y = resid.reshape(n_s, n_t * n_g)
    xtx = np.einsum("sni,snj->sij", x, x)
    coef = np.linalg.solve(xtx, np.einsum("sni,sn->si", x, y)[..., None])[..., 0]
    dof = max(n_t * n_g - n_k - n_g, 1)
    s2 = ((y - np.einsum("sni,si->sn", x, coef)) ** 2).sum(axis=1) / dof
    var = np.diagonal(np.linalg.pinv(xtx), axis1=1, axis2=2)[:, :n_k] * s2[:, None]
    lift = coef[:, :n_k]
    lo, hi = np.quantile(lift, [(1 - hdi_prob) / 2, (1 + hdi_prob) / 2], axis=0)
    sd = np.sqrt(lift.var(axis=0) + var.mean(axis=0))
    index = pd.Index(new_data.group_labels, name="channel")
    return pd.DataFrame(
        {
            "lift": lift.mean(axis=0),
            "lift_lower": lo,
            "lift_upper": hi,
            "lift_sd": lift.mean(0) / sd,
        },
        index=index,
    )


def _move_sd(before: xr.DataArray, after: xr.DataArray, share: float) -> np.ndarray:
    """SD of the posterior mean's move when the new weeks agree with the old posterior,
    dims (channel,): ``sqrt(max(var_before - var_after, share × var_before) + mcse_before²
    + mcse_after²)``, ``share`` the new periods' share of all periods."""
    var_before = before.var(SAMPLE_DIMS).values
    narrowed = np.maximum(var_before - after.var(SAMPLE_DIMS).values, share * var_before)
    mc = sum(_mcse(da) ** 2 for da in (before, after))
    return np.sqrt(narrowed + mc)


def _mcse(da: xr.DataArray) -> np.ndarray:
    """Monte Carlo standard error of the mean of ``da`` (chain, draw, channel), dims
    (channel,); a one-chain sample's from its effective sample size on one chain."""
    err = az.mcse(da.transpose(*SAMPLE_DIMS, "channel"), method="mean")
    return np.asarray(err, dtype=float)


def refresh(
    fit, new_data: MMMData, tune: int = WARM_TUNE, hdi_prob: float = 0.9, **settings
) -> Posterior:
    """Refit on a panel with new (and perhaps restated) weeks, warm from the old posterior.

    Parameters
    ----------
    fit : Posterior or Fit
        The old fit.
    new_data : MMMData
        The old panel's dates followed by new ones (see :func:`check_extends`).
    tune : int
        Tuning steps of the warm refit.
    settings
        Other sampler settings (draws, chains, random_seed, ...; see ``bm.fit``); the old
        fit's ``draws`` and ``chains`` by default.

    Returns
    -------
    Posterior
        The new fit; ``meta["refresh"]`` holds the change report (:func:`change_report`,
        as ``{"table": {channel: {column: value}}, ...}``), the new weeks and both fits'
        tuning steps.
    """
    old = as_posterior(fit)
    check_extends(old.data, new_data)
    for key in ("draws", "chains"):
        if key in old.meta:
            settings.setdefault(key, old.meta[key])
    new = warm_sample(old, new_data, tune=tune, **settings)
    table = change_report(old, new, hdi_prob)
    report = {
        "table": {
            str(c): {k: (bool(v) if k == "flagged" else float(v)) for k, v in row.items()}
            for c, row in table.iterrows()
        },
        "flagged": [str(c) for c in table.index[table["flagged"]]],
        "flag_sd": float(table.attrs["flag_sd"]),
        "hdi_prob": hdi_prob,
        "old_dates": int(old.data.n_dates),
        "new_dates": int(new_data.n_dates - old.data.n_dates),
        "old_data_hash": old.data.data_hash,
        "old_tune": int(old.meta.get("tune", -1)),
        "tune": int(tune),
    }
    new.meta["refresh"] = report
    return new


def refresh_table(fit) -> pd.DataFrame | None:
    """The change report stored in a refreshed fit's ``meta["refresh"]`` as a DataFrame
    (None for a fit that is not a refresh)."""
    report = as_posterior(fit).meta.get("refresh")
    if not report:
        return None
    table = pd.DataFrame.from_dict(report["table"], orient="index")
    table.index.name = "channel"
    table["flagged"] = table["flagged"].astype(bool)
    return table
