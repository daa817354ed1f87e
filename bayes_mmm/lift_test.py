"""``LiftTest``: one experiment's measured lift, the calibration input a ``ModelSpec``
carries (``ModelSpec.lift_tests``; ``bayes_mmm.calibration`` fits against it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_mmm.errors import SpecError


@dataclass(frozen=True)
class LiftTest:
    """One experiment's result: the incremental target a channel produced over a period.

    Parameters
    ----------
    channel : str
        A channel of the data (media or organic).
    start, end : str
        First and last period of the test (ISO dates, inclusive; periods whose start date
        falls in [start, end]).
    lift : float
        Measured incremental target over the test (target units, summed over its geos).
    se : float
        Standard error of ``lift`` (> 0).
    geos : tuple of str
        Geos in the test; empty: all geos.
    """

    channel: str
    start: str
    end: str
    lift: float
    se: float
    geos: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        import pandas as pd

        try:
            start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        except (ValueError, TypeError) as err:
            raise SpecError(
                f"Lift test for {self.channel!r}: start/end must be ISO dates ({err})."
            ) from err
        if end < start:
            raise SpecError(f"Lift test for {self.channel!r}: end {self.end} is before start.")
        if not (float(self.se) > 0) or not np.isfinite(float(self.lift)):
            raise SpecError(
                f"Lift test for {self.channel!r}: lift must be finite and se > 0 "
                f"(got lift={self.lift!r}, se={self.se!r})."
            )
        object.__setattr__(self, "start", str(start.date()))
        object.__setattr__(self, "end", str(end.date()))
        object.__setattr__(self, "lift", float(self.lift))
        object.__setattr__(self, "se", float(self.se))
        object.__setattr__(self, "geos", tuple(str(g) for g in self.geos))
