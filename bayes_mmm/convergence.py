"""Convergence gates: is a posterior sample fit to report? (arviz-stats underneath.)

A sample passes when every gate holds:

- ``r_hat``: every parameter's rank-normalised split R-hat ≤ 1.01;
- ``ess_bulk``: every parameter's bulk ESS ≥ 400 (short test runs fail this on
  purpose: a 200-draw fit is not a result);
- ``divergences``: none after warm-up;
- ``bfmi``: E-BFMI ≥ 0.3 in every chain;
- ``tree_depth`` (when the sampler reports it): at most 1% of draws hit the maximum tree
  depth.

Each failing gate comes with its remedy, and sampling warns loudly
(:class:`ConvergenceWarning`) when one fails. This module sits just above the model: it
reads ArviZ groups and imports nothing else of the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr


class ConvergenceWarning(UserWarning):
    """A fit failed a convergence gate: its results are not to be trusted as they are."""


R_HAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3

TREE_DEPTH_MAX_SHARE = 0.01

REMEDIES = {
    "tree_depth": "the sampler hit its maximum tree depth: the posterior is badly scaled or "
    "strongly correlated; reparameterise or tighten priors (raising max depth only hides it)",
    "r_hat": "chains disagree: run longer (more tune and draws), check for multimodality, "
    "or tighten weakly identified priors; if the slowest parameters in fit.diagnostics() "
    "are geo-spread scales (beta_sigma), try the nutpie mass matrix from draw variances "
    "(adaptation=draw_diag in sampler_kwargs) if it is not on already",
    "ess_bulk": "too few effective draws: increase draws, reparameterise the slow "
    "parameters shown in fit.diagnostics(), or (geo-spread scales, beta_sigma) try "
    "adaptation=draw_diag in sampler_kwargs (if not on already)",
    "divergences": "the sampler hit sharp curvature: raise target_accept (e.g. 0.95), "
    "simplify the saturation, or use stronger priors on the geo spread",
    "bfmi": "poor energy exploration: reparameterise (non-centred geo effects) or use "
    "more informative priors on scale parameters",
}


@dataclass(frozen=True)
class Gate:
    """One convergence gate: its name, value, threshold, pass/fail and remedy."""

    name: str
    value: float
    threshold: str
    passed: bool
    remedy: str


@dataclass(frozen=True)
class Convergence:
    """The verdict of all gates."""

    gates: tuple[Gate, ...]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failed(self) -> tuple[Gate, ...]:
        return tuple(g for g in self.gates if not g.passed)

    def message(self) -> str:
        if self.passed:
            return "converged: " + ", ".join(f"{g.name} {g.value:.4g}" for g in self.gates)
        return "NOT CONVERGED — " + "; ".join(
            f"{g.name} = {_failing(g)} (needs {g.threshold}): {g.remedy}" for g in self.failed
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([g.__dict__ for g in self.gates]).set_index("name")


def _failing(gate: Gate) -> str:
    """A failed gate's value with enough digits to differ from its threshold: an R-hat of
    1.0101 printed as "1.01" next to "needs ≤ 1.01" reads as a pass."""
    bound = gate.threshold.split()[-1]
    for digits in range(4, 10):
        text = f"{gate.value:.{digits}g}"
        if text != bound:
            return text
    return repr(gate.value)


def flatten(ds: xr.Dataset, column: str) -> pd.Series:
    """One value per scalar parameter element, labelled like ``beta[geo_1, tv]``."""
    rows = {}
    for name, da in ds.data_vars.items():
        if da.ndim == 0:
            rows[name] = float(da)
            continue
        stacked = da.stack(__i__=da.dims)
        for label, value in zip(stacked["__i__"].values, stacked.values):
            lab = label if isinstance(label, tuple) else (label,)
            rows[f"{name}[{', '.join(str(x) for x in lab)}]"] = float(value)
    return pd.Series(rows, name=column)


def diagnostics_table(posterior: xr.Dataset) -> pd.DataFrame:
    """R-hat, bulk and tail ESS and MCSE of the mean for every scalar parameter element.

    Parameters
    ----------
    posterior : Dataset with dims (chain, draw, ...)
    """
    cols = [
        flatten(az.rhat(posterior), "r_hat"),
        flatten(az.ess(posterior, method="bulk"), "ess_bulk"),
        flatten(az.ess(posterior, method="tail"), "ess_tail"),
        flatten(az.mcse(posterior, method="mean"), "mcse_mean"),
    ]
    table = pd.concat(cols, axis=1)
    table.index.name = "parameter"
    return table


def count_divergences(sample_stats: xr.Dataset) -> int:
    """Post-warm-up divergent transitions."""
    return int(sample_stats["diverging"].sum()) if "diverging" in sample_stats else 0


def min_bfmi(sample_stats: xr.Dataset) -> float:
    """Smallest E-BFMI over chains (NaN when the sampler reported no energy)."""
    if "energy" not in sample_stats:
        return float("nan")
    energy = sample_stats["energy"].transpose("chain", "draw").values
    num = np.square(np.diff(energy, axis=1)).mean(axis=1)
    den = energy.var(axis=1)
    return float(np.min(num / den))


def tree_depth_share(sample_stats: xr.Dataset) -> float:
    """Share of draws that hit the sampler's maximum tree depth (NaN when not reported).

    nutpie reports ``maxdepth_reached`` (dims (chain, draw)); PyMC reports
    ``reached_max_treedepth``.
    """
    for name in ("maxdepth_reached", "reached_max_treedepth"):
        if name in sample_stats:
            return float(sample_stats[name].astype(float).mean())
    return float("nan")


def convergence(
    table: pd.DataFrame, divergences: int, bfmi: float, tree_depth: float | None = None
) -> Convergence:
    """Evaluate the gates from a diagnostics table and sampler statistics.

    ``tree_depth`` (share of draws at maximum tree depth) adds the tree-depth gate when
    given; NaN passes (the sampler did not report it).
    """
    ess_min = ESS_MIN
    r_hat = float(table["r_hat"].max())
    ess = float(table["ess_bulk"].min())
    gates: tuple[Gate, ...] = (
        Gate("r_hat", r_hat, f"≤ {R_HAT_MAX}", bool(r_hat <= R_HAT_MAX), REMEDIES["r_hat"]),
        Gate("ess_bulk", ess, f"≥ {ess_min}", bool(ess >= ess_min), REMEDIES["ess_bulk"]),
        Gate("divergences", divergences, "= 0", divergences == 0, REMEDIES["divergences"]),
        Gate(
            "bfmi",
            bfmi,
            f"≥ {BFMI_MIN}",
            bool(np.isnan(bfmi) or bfmi >= BFMI_MIN),
            REMEDIES["bfmi"],
        ),
    )
    if tree_depth is not None:
        ok = bool(np.isnan(tree_depth) or tree_depth <= TREE_DEPTH_MAX_SHARE)
        gates += (
            Gate("tree_depth", tree_depth, f"≤ {TREE_DEPTH_MAX_SHARE}", ok, REMEDIES["tree_depth"]),
        )
    return Convergence(gates)
