"""What-if scenarios and response curves (``optimize.scenarios``) on ``tiny_fit``."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import optimize as opt


def test_what_if_budget_and_shift(tiny_fit):
    none = tiny_fit.what_if(budget_change=0.0, allow_unconverged=True)
    assert float(abs(none.change).max()) == 0.0
    more = tiny_fit.what_if(budget_change=0.10, weeks=13, allow_unconverged=True)
    assert more.change.dims == ("chain", "draw")
    assert bool((more.change > 0).all())  # positive effects: more spend, more revenue
    assert "+10% budget" in more.sentence and "CI" in more.sentence
    row = more.table.loc["change_pct"]
    assert row["lower"] < row["mean"] < row["upper"]
    np.testing.assert_allclose(more.spend["scenario"], 1.1 * more.spend["current"])
    shift = tiny_fit.what_if(spend_change={"tv": 0.2, "search": -0.1}, allow_unconverged=True)
    ratio = shift.spend["scenario"] / shift.spend["current"]
    np.testing.assert_allclose(ratio.to_numpy(), [1.2, 0.9, 1.0])
    with pytest.raises(bm.SpecError):
        tiny_fit.what_if(spend_change={"radio": 0.1}, allow_unconverged=True)
    same = opt.what_if(tiny_fit.posterior, budget_change=0.10, allow_unconverged=True)
    np.testing.assert_array_equal(same.change, more.change)


def test_response_curves(tiny_fit):
    curves = opt.response_curves(tiny_fit, weeks=13, points=5)
    assert curves["mean"].dims == ("channel", "point")
    assert np.all(curves["mean"].isel(point=0) == 0)
    assert np.all(curves["mean"].diff("point") > 0)
    np.testing.assert_allclose(curves["spend"].isel(point=2), curves["current"])
    assert bool((curves["lower"] <= curves["mean"]).all())
    assert curves.equals(opt.response_curves(tiny_fit.posterior, weeks=13, points=5))
