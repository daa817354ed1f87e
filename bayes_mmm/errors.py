"""The package's error types: every bad input raises one of these, never a PyMC error.

All are ``ValueError`` subclasses so that ``except ValueError`` catches them, and each
message names the column, the rows or geos, and the fix.
"""


class DataError(ValueError):
    """The input panel is malformed: a message names the column, the rows and the fix."""


class SpecError(ValueError):
    """A model specification (priors, options, config file) is invalid."""


class BundleError(ValueError):
    """A saved fit bundle is missing, truncated, corrupted or from an incompatible version."""


class DataWarning(UserWarning):
    """The panel is usable but suspicious (e.g. a little spend where its media are zero):
    the message names the column, the rows and what to check."""


class BundleVersionWarning(UserWarning):
    """A bundle was saved with another major version of pymc or arviz (see
    ``bayes_mmm.bundle`` for the policy; ``load(..., strict=True)`` makes it an error)."""


class ConvergenceError(RuntimeError):
    """A result was asked of a fit whose convergence gates failed (and was not allowed)."""


def format_rows(labels, limit: int = 5) -> str:
    """Render the first few offending row labels, e.g. ``'2021-01-04/geo_a, … (12 rows)'``."""
    labels = [str(x) for x in labels]
    shown = ", ".join(labels[:limit])
    more = f", … ({len(labels)} in all)" if len(labels) > limit else ""
    return shown + more
