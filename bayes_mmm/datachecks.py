"""Checks on a panel's regressors before fitting: correlation, VIF and a flag table.

Used by ``bayes-mmm check``, the report's data-checks section and ``baselines``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

VIF_MAX = 10.0  # above it a column is flagged as weakly identified
VIF_CAP = 1e12  # the VIF reported for a column that is a linear combination of the others
CORRELATION_MAX = 0.9


def media_correlation(data) -> pd.DataFrame:
    """Pearson correlation of media and controls over all (date, geo) rows."""
    return design_frame(data).corr()


def design_frame(data) -> pd.DataFrame:
    """Media and control columns as a frame with one row per (date, geo)."""
    cols = {c: data.media[..., i].reshape(-1) for i, c in enumerate(data.channels)}
    cols.update({k: data.control_values[..., i].reshape(-1) for i, k in enumerate(data.controls)})
    return pd.DataFrame(cols)


def vif(data) -> pd.Series:
    """Variance inflation factor of each media and control column over (date, geo) rows,
    with geo means removed (the model has per-geo levels). Above ~10: the column is
    nearly a linear combination of the others and its effect is weakly identified."""
    frame = design_frame(data)
    x = frame.to_numpy(dtype=float, copy=True)
    geo = np.tile(np.arange(len(data.geos)), data.n_dates)
    for g in np.unique(geo):
        x[geo == g] -= x[geo == g].mean(axis=0)
    return variance_inflation(x, list(frame.columns))


def variance_inflation(
    x: np.ndarray,
    names: Sequence[str],
    report: Sequence[str] | None = None,
    *,
    intercept: bool = False,
) -> pd.Series:
    """Variance inflation factor ``1 / (1 - R²)`` of columns of a design, each regressed
    (least squares) on all the other columns.

    Parameters
    ----------
    x : ndarray, dims (row, column)
    names : list of str, dims (column,)
    report : list of str, optional
        The columns to report, in this order; default all.
    intercept : bool
        Add a constant to every regression and measure R² around the column's mean.
        Without it the columns are taken as centred already (e.g. geo means removed) and
        R² is measured around 0.

    Returns
    -------
    Series, dims (column,), named ``vif``: 1 for a column with no others to explain it,
    at most ``VIF_CAP`` (a column that is a linear combination of the others).
    """
    names = list(names)
    out = {}
    for name in names if report is None else report:
        j = names.index(name)
        others = np.delete(x, j, axis=1)
        if intercept:
            others = np.column_stack([np.ones(len(x)), others])
        if others.shape[1] == 0:
            out[name] = 1.0
            continue
        coef, *_ = np.linalg.lstsq(others, x[:, j], rcond=None)
        resid = x[:, j] - others @ coef
        centred = x[:, j] - x[:, j].mean() if intercept else x[:, j]
        tot = np.sum(centred**2)
        r2 = 1 - np.sum(resid**2) / tot if tot > 0 else 1.0
        out[name] = float(1 / max(1 - r2, 1 / VIF_CAP))
    return pd.Series(out, name="vif")


def data_checks(data) -> pd.DataFrame:
    """One row per media/control column: share of zero periods, largest absolute
    correlation with another column, VIF, and a ``flag`` when VIF > 10 or |r| > 0.9."""
    corr = media_correlation(data)
    corr = corr.mask(np.eye(len(corr), dtype=bool))
    frame = design_frame(data)
    table = pd.DataFrame(
        {
            "zero_share": (frame == 0).mean(),
            "max_abs_corr": corr.abs().max(),
            "most_correlated_with": corr.abs().idxmax(),
            "vif": vif(data),
        }
    )
    table["flag"] = (table["vif"] > VIF_MAX) | (table["max_abs_corr"] > CORRELATION_MAX)
    table.index.name = "column"
    return table
