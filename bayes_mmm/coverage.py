"""Coverage of a simulator's truth by a fit's intervals, on the scale the model estimates.

``against_truth(fit, truth)`` puts every known true value next to its posterior interval
and counts how many intervals hold the truth. Three quantities, each on the footing the
estimate has:

- ``roi``: per spend group, as ``fit.roi()`` labels it (carryover included);
- ``contribution``: each channel's total contribution over the panel (date and geo summed,
  target units, no carryover tail), as ``channel_contribution_draws`` computes it;
- ``<event>_effect``: each geo's event coefficient ``event_coef`` (a share of the geo's
  mean target per event week), against ``Truth.event_effect``, which the simulator states
  on that scale.

The truth is a :class:`bayes_mmm.simulate.Truth` (duck-typed: this module sits below the
simulator) or a long table with columns ``quantity``, ``name``, ``value`` such as the
shipped ``seed000_truth.csv`` (``roi``, ``contribution``, ``holiday_effect`` rows; other
quantities are ignored). Names the fit does not have (geos left out of a subset panel) are
skipped; truths that hold only for the full panel (ROI and contributions of a panel cut to
fewer weeks) are the caller's to leave out with ``quantities``.

With honest 90% intervals about 90% of true values fall inside, not all: a single run's
count is a binomial draw, and misses cluster when the quantities share a cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import xarray as xr

from bayes_mmm.analysis import channel_contribution_draws, summarize
from bayes_mmm.posterior import SAMPLE_DIMS, as_posterior, to_sample_array
from bayes_mmm.results import roi_draws


@dataclass(frozen=True)
class Coverage:
    """True values against posterior intervals.

    Attributes
    ----------
    table : DataFrame
        Indexed by (``quantity``, ``name``): ``true``, ``mean``, ``lower``, ``upper``,
        ``inside`` (the interval holds the true value).
    hdi_prob : float
        Probability of the highest-density intervals.
    """

    table: pd.DataFrame
    hdi_prob: float

    @property
    def inside(self) -> int:
        """Number of true values inside their interval."""
        return int(self.table["inside"].sum())

    @property
    def total(self) -> int:
        """Number of true values compared."""
        return len(self.table)

    @property
    def line(self) -> str:
        """One line, e.g. ``"25/29 true values inside the 90% interval (roi 3/3, …)"``."""
        groups = self.table.groupby(level="quantity", sort=False)["inside"]
        parts = ", ".join(f"{q} {int(s.sum())}/{len(s)}" for q, s in groups)
        return f"{self.inside}/{self.total} true values inside the {self.hdi_prob:.0%} interval" + (
            f" ({parts})" if parts else ""
        )

    def __str__(self) -> str:
        return self.line


def against_truth(
    fit, truth, hdi_prob: float = 0.9, quantities: Sequence[str] | None = None
) -> Coverage:
    """Count the true values that the fit's intervals hold.

    Parameters
    ----------
    fit : Posterior or Fit
    truth : Truth or DataFrame
        A simulator's ``Truth``, or a long table (``quantity``, ``name``, ``value``).
    hdi_prob : float
        Probability of the highest-density intervals.
    quantities : list of str, optional
        Which quantities to compare (``roi``, ``contribution``, ``<event>_effect``);
        default every one the truth has.

    Returns
    -------
    Coverage
    """
    post = as_posterior(fit)
    known = _truth_values(truth, post.data.events)
    if quantities is not None:
        known = {q: v for q, v in known.items() if q in set(quantities)}
    frames = []
    for quantity, true in known.items():
        draws = _estimate(post, quantity)
        names = [n for n in true.index if n in set(draws.coords[draws.dims[-1]].values)]
        if not names:
            continue
        table = summarize(draws.sel({draws.dims[-1]: names}), hdi_prob)
        table.index = pd.MultiIndex.from_product([[quantity], names], names=["quantity", "name"])
        table.insert(0, "true", true.loc[names].to_numpy(dtype=float))
        table["inside"] = (table["lower"] <= table["true"]) & (table["true"] <= table["upper"])
        frames.append(table.drop(columns="median"))
    empty = pd.DataFrame(
        columns=["true", "mean", "lower", "upper", "inside"],
        index=pd.MultiIndex.from_arrays([[], []], names=["quantity", "name"]),
    )
    return Coverage(table=pd.concat(frames) if frames else empty, hdi_prob=hdi_prob)


def _truth_values(truth, events: Sequence[str]) -> dict[str, pd.Series]:
    """True values by quantity, each a Series indexed by the fit's names."""
    if isinstance(truth, pd.DataFrame):
        out = {}
        for quantity, rows in truth.groupby("quantity", sort=False):
            if quantity in ("roi", "contribution") or _event_of(quantity, events):
                out[quantity] = rows.set_index("name")["value"]
        return out
    out = {
        "roi": pd.Series(truth.roi),
        "contribution": truth.contributions.sum(("date", "geo")).to_series(),
    }
    effect = getattr(truth, "event_effect", None)
    if effect is not None:
        for column in effect.columns:
            if _event_of(f"{column}_effect", events):
                out[f"{column}_effect"] = effect[column]
    return out


def _event_of(quantity: str, events: Sequence[str]) -> str | None:
    """The fit's event that ``<event>_effect`` names (case-insensitive), else None."""
    if not quantity.endswith("_effect"):
        return None
    name = quantity.removesuffix("_effect").lower()
    return next((e for e in events if e.lower() == name), None)


def _estimate(post, quantity: str) -> xr.DataArray:
    """Posterior draws of ``quantity``, dims (chain, draw, name dim)."""
    if quantity == "roi":
        return roi_draws(post)
    if quantity == "contribution":
        values, shape = post.draws
        total = channel_contribution_draws(
            post.data, post.spec, values, reduce=lambda x: x.sum(axis=(1, 2))
        )
        coords = {"channel": list(post.data.channels)}
        return to_sample_array(total, shape, ("channel",), coords, "contribution")
    event = _event_of(quantity, post.data.events)
    coef = post.idata["posterior"]["event_coef"].sel(event=event, drop=True)
    return coef.transpose(*SAMPLE_DIMS, "geo")
