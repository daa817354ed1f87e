"""The datasets and CLI configs shipped inside the package, found with ``importlib.resources``.

The files live next to this module, so they resolve the same way from a source checkout, an
editable install or an installed wheel, in any working directory.

=============================  ==========================================================
``demo_geo_panel.csv``         10 geos × 156 weeks, 5 channels + ``price_index``, simulated
                               by ``scripts/make_demo_data.py``
``demo_geo_panel_truth.csv``   its true ROI per channel (``channel``, ``true_roi``)
``demo_geo_panel.toml``        the ``bayes-mmm`` config for the demo panel
``demo_geo_panel_quick.toml``  a fast smoke-test config for the demo panel
``seed000_geo_panel.csv``      20 geos × 156 weeks, impressions with spend groups
                               (``scripts/make_seed000_data.py``)
``seed000_truth.csv``          its true parameters (``quantity``, ``name``, ``value``)
``seed003_national.csv``       156 national weeks with a mediated channel
                               (``scripts/make_seed003_data.py``)
``seed003_truth.csv``          its true effects per driver and mediation path
``robyn_dt_simulated_weekly``  Robyn's weekly demo (208 national weeks), a panel the
``.csv``                       package did not generate: Meta Platforms' open-source Robyn
                               (``R/data/dt_simulated_weekly.RData``), MIT licence
``robyn_dt_simulated_weekly``  that licence, shipped with the data it covers
``.LICENSE``
=============================  ==========================================================

>>> from bayes_mmm import datasets
>>> panel = datasets.demo_panel()
>>> datasets.path("demo_geo_panel.toml")  # a pathlib.Path to pass to ``bayes-mmm --config``

This module sits in the package's bottom layer: it imports nothing from ``bayes_mmm`` but
``bayes_mmm.errors``, and pandas only when a table is read.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bayes_mmm.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

DEMO_PANEL = "demo_geo_panel.csv"
DEMO_TRUTH = "demo_geo_panel_truth.csv"
DEMO_CONFIG = "demo_geo_panel.toml"
DEMO_QUICK_CONFIG = "demo_geo_panel_quick.toml"
SUFFIXES = (".csv", ".toml", ".LICENSE")

# Resources that only exist inside an archive (a zipped install) are extracted to temporary
# files that live until the interpreter exits, so ``path`` can hand out plain paths.
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def names() -> list[str]:
    """The names of the shipped files.

    Returns
    -------
    list of str
        File names (``.csv``, ``.toml`` and a dataset's ``.LICENSE``), sorted, each
        accepted by :func:`path`.
    """
    root = resources.files(__name__)
    return sorted(r.name for r in root.iterdir() if r.is_file() and r.name.endswith(SUFFIXES))


def path(name: str) -> Path:
    """The filesystem path of a shipped file.

    Parameters
    ----------
    name : str
        A file name from :func:`names`, e.g. ``"demo_geo_panel.csv"``.

    Returns
    -------
    pathlib.Path
        An existing file. For a package installed as an archive it is a temporary copy
        that lasts until the interpreter exits.

    Raises
    ------
    DataError
        If no shipped file has that name; the message lists the names there are.
    """
    shipped = names()
    if name not in shipped:
        raise DataError(f"No shipped dataset or config named '{name}'; shipped: {shipped}.")
    resource = resources.files(__name__) / name
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))


def read_csv(name: str, **kwargs) -> pd.DataFrame:
    """Read a shipped CSV.

    Parameters
    ----------
    name : str
        A ``.csv`` name from :func:`names`, e.g. ``"seed003_national.csv"``.
    **kwargs
        Passed on to ``pandas.read_csv`` (``index_col``, ``parse_dates``, ...).

    Returns
    -------
    pandas.DataFrame
        The table as written by its ``scripts/make_*_data.py`` generator.

    Raises
    ------
    DataError
        If the name is not a shipped CSV.
    """
    import pandas as pd

    if not name.endswith(".csv"):
        raise DataError(f"'{name}' is not a CSV; shipped CSVs: {_csvs()}.")
    return pd.read_csv(path(name), **kwargs)


def demo_panel() -> pd.DataFrame:
    """The demo panel: 10 geos × 156 weeks of revenue, five channels and a price index.

    Returns
    -------
    pandas.DataFrame
        Columns ``date``, ``geo``, the channels ``tv``, ``search``, ``social``,
        ``display``, ``radio``, the control ``price_index`` and the target ``revenue``;
        one row per geo and week.
    """
    return read_csv(DEMO_PANEL)


def demo_truth() -> pd.Series:
    """The true ROI of each channel in the demo panel (revenue per unit spend).

    Returns
    -------
    pandas.Series
        ``true_roi`` indexed by ``channel``.
    """
    return read_csv(DEMO_TRUTH, index_col="channel")["true_roi"]


def _csvs() -> list[str]:
    return [n for n in names() if n.endswith(".csv")]
