"""Optional extras: check that an extra's packages are installed, and say how to install it.

The core install fits, analyses and plans; the extras add what a few workflows need:

- ``baselines``: scikit-learn and statsmodels, for the seeds' OLS/ridge baselines;
- ``notebooks``: everything the shipped notebooks use (the baselines, ipywidgets for
  progress bars in Jupyter, ipykernel, nbclient and nbformat to run them).

Each notebook's first cell calls ``require("notebooks")``, so a plain install stops there
with a one-line install hint instead of failing half way through. ``require`` only looks
the packages up (``importlib.util.find_spec``); it imports nothing.
"""

from __future__ import annotations

import importlib.util

#: Import name → distribution name of each extra's packages.
EXTRAS: dict[str, dict[str, str]] = {
    "baselines": {"sklearn": "scikit-learn", "statsmodels": "statsmodels"},
    "notebooks": {
        "sklearn": "scikit-learn",
        "statsmodels": "statsmodels",
        "ipywidgets": "ipywidgets",
        "ipykernel": "ipykernel",
        "nbclient": "nbclient",
        "nbformat": "nbformat",
    },
}


class MissingExtra(ImportError):
    """An optional extra's packages are not installed; the message is the install line."""


def missing(extra: str) -> list[str]:
    """Distribution names of ``extra``'s packages that are not installed.

    Raises
    ------
    KeyError
        ``extra`` is not one of :data:`EXTRAS`.
    """
    if extra not in EXTRAS:
        raise KeyError(f"Unknown extra {extra!r}; known: {', '.join(sorted(EXTRAS))}.")
    return [dist for mod, dist in EXTRAS[extra].items() if importlib.util.find_spec(mod) is None]


def require(extra: str) -> None:
    """Raise :class:`MissingExtra` with a one-line install hint unless every package of
    ``extra`` is installed.

    Examples
    --------
    >>> require("notebooks")  # doctest: +SKIP
    MissingExtra: The notebooks need ipywidgets, not installed: pip install 'bayes_mmm[notebooks]'
    """
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"The {extra} need {', '.join(absent)}, not installed: pip install 'bayes_mmm[{extra}]'"
        )
