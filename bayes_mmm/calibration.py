"""Experiment calibration: lift tests as a likelihood term, and the before/after table.

A lift test (``spec.LiftTest``: channel, start, end, measured incremental target, its
standard error, optional geos) enters the model (``bayes_mmm.model``) as

    lift_obs[k] ~ Normal(implied[k], se[k]),
    implied[k] = Σ_{t in test, g in test geos} contribution[t, g, channel_k]   (target units),

computed in the graph with the shared response code (``response.implied_lift``), so the
calibrated quantity is exactly the contribution that ``fit.contributions()`` and
``fit.roi()`` report. Tests live on the ``ModelSpec`` (``ModelSpec(lift_tests=[...])``), like
priors: they are modelling evidence, and a saved bundle then records what the fit used.

Definition and its limits: the implied lift is the channel's contribution during the test
window, carryover from before the window included and carryover after it excluded. It
matches a go-dark / holdout experiment read over the same periods; for a test read over a
longer window, extend ``end`` by the carryover you expect.
"""

from __future__ import annotations

import pandas as pd

from bayes_mmm.analysis import channel_contribution_draws, summarize
from bayes_mmm.errors import SpecError
from bayes_mmm.posterior import Posterior, as_posterior, to_sample_array
from bayes_mmm.response import implied_lift, lift_masks
from bayes_mmm.spec import LiftTest, ModelSpec

__all__ = ["LiftTest", "implied_lift_draws", "lift_table", "lift_tests_from_frame"]


def lift_tests_from_frame(df: pd.DataFrame) -> tuple[LiftTest, ...]:
    """Lift tests from a table with columns ``channel``, ``start``, ``end``, ``lift``, ``se``
    (and optionally ``geo``: one geo per row; rows of one test over several geos are given
    as separate tests)."""
    need = ["channel", "start", "end", "lift", "se"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SpecError(f"The lift-test table lacks column(s) {missing}; it needs {need}.")
    out = []
    for _, r in df.iterrows():
        geos = (str(r["geo"]),) if "geo" in df.columns and pd.notna(r["geo"]) else ()
        out.append(LiftTest(r["channel"], str(r["start"]), str(r["end"]), r["lift"], r["se"], geos))
    return tuple(out)


def implied_lift_draws(posterior: Posterior, tests=None):
    """Model-implied lift of each test, per draw.

    Parameters
    ----------
    tests : sequence of LiftTest, optional
        Default: the tests the fit was calibrated with (``fit.spec.lift_tests``).

    Returns
    -------
    DataArray, dims (chain, draw, lift_test), target units.
    """
    post = as_posterior(posterior)
    tests = tuple(post.spec.lift_tests if tests is None else tests)
    if not tests:
        raise SpecError("No lift tests: pass tests= or post with ModelSpec(lift_tests=[...]).")
    probe = ModelSpec(lift_tests=tests)
    masks, index = lift_masks(post.data, probe)
    draws, shape = post.draws
    values = channel_contribution_draws(
        post.data, post.spec, draws, reduce=lambda x: implied_lift(x, masks, index)
    )
    labels = [f"{t.channel} {t.start}…{t.end}" for t in tests]
    return to_sample_array(values, shape, ("lift_test",), {"lift_test": labels}, "lift")


def lift_table(
    posterior: Posterior, before=None, hdi_prob: float = 0.9, tests=None
) -> pd.DataFrame:
    """Measured versus model-implied lift per experiment, after (``fit``) and optionally
    before calibration (``before``, an uncalibrated fit of the same data).

    Returns
    -------
    DataFrame indexed by test with ``measured``, ``se``, ``mean``, ``lower``, ``upper``,
    ``covers`` (the HDI contains the measured lift) and, with ``before``, the same columns
    suffixed ``_before``; ``attrs["hdi_prob"]``.
    """
    post = as_posterior(posterior)
    tests = tuple(post.spec.lift_tests if tests is None else tests)
    out = _one(post, tests, hdi_prob)
    if before is not None:
        earlier = _one(before, tests, hdi_prob).drop(columns=["measured", "se"])
        out = out.join(earlier.add_suffix("_before"))
    out.attrs["hdi_prob"] = hdi_prob
    return out


def _one(posterior: Posterior, tests, hdi_prob: float) -> pd.DataFrame:
    post = as_posterior(posterior)
    table = summarize(implied_lift_draws(post, tests), hdi_prob)
    table.insert(0, "measured", [t.lift for t in tests])
    table.insert(1, "se", [t.se for t in tests])
    table["covers"] = (table["lower"] <= table["measured"]) & (table["measured"] <= table["upper"])
    return table.drop(columns=["median"])
