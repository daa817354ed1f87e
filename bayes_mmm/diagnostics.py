"""Convergence diagnostics and gates (arviz-stats underneath).

A fit passes when every gate holds:

- ``r_hat``: every parameter's rank-normalised split R-hat ≤ 1.01;
- ``ess_bulk``: every parameter's bulk ESS ≥ 400 (short test runs fail this on
  purpose: a 200-draw fit is not a result);
- ``divergences``: none after warm-up;
- ``bfmi``: E-BFMI ≥ 0.3 in every chain.

Each failing gate comes with its remedy, and ``Fit`` warns loudly when one fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

R_HAT_MAX = 1.01
ESS_MIN = 400
BFMI_MIN = 0.3

REMEDIES = {
    "r_hat": "chains disagree: run longer (more tune and draws), check for multimodality, "
    "or tighten weakly identified priors",
    "ess_bulk": "too few effective draws: increase draws, or reparameterise the slow "
    "parameters shown in fit.diagnostics()",
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
            f"{g.name} = {g.value:.4g} (needs {g.threshold}): {g.remedy}" for g in self.failed
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([g.__dict__ for g in self.gates]).set_index("name")


def _flatten(ds: xr.Dataset, column: str) -> pd.Series:
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
        _flatten(az.rhat(posterior), "r_hat"),
        _flatten(az.ess(posterior, method="bulk"), "ess_bulk"),
        _flatten(az.ess(posterior, method="tail"), "ess_tail"),
        _flatten(az.mcse(posterior, method="mean"), "mcse_mean"),
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


def convergence(table: pd.DataFrame, divergences: int, bfmi: float) -> Convergence:
    """Evaluate the gates from a diagnostics table and sampler statistics."""
    ess_min = ESS_MIN
    r_hat = float(table["r_hat"].max())
    ess = float(table["ess_bulk"].min())
    gates = (
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
    return Convergence(gates)
