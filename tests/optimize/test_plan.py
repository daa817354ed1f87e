"""Plans as future frames: the history's own plan reproduces the history's weeks, and the
forecast of an optimizer's plan agrees with the optimizer's own uplift."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm.forecast import compare_scenarios, future_panel
from bayes_mmm.optimize import plan_frame, plan_weeks


def test_the_current_plan_repeats_the_last_weeks(tiny_fit):
    data = tiny_fit.data
    current = data.spend[-13:].sum(axis=(0, 1))
    dates, media, spend = plan_weeks(data, dict(zip(data.group_labels, current)), weeks=13)
    assert dates[0] == data.dates[-1] + (data.dates[-1] - data.dates[-2])
    np.testing.assert_allclose(media, data.media[-13:], rtol=1e-10)
    np.testing.assert_allclose(spend, data.spend[-13:], rtol=1e-10)
    frame = plan_frame(data, dict(zip(data.group_labels, current)), weeks=13)
    panel = future_panel(data, frame, controls="last")  # a valid future frame
    assert panel.media.shape == (13, 3, 3)


def test_forecast_of_an_optimized_plan_matches_the_optimizer(tiny_fit):
    """The optimizer's planner and the forecast are separate code paths over the same
    draws; the uplift of the optimal plan over the current one agrees draw by draw."""
    budget = float(tiny_fit.data.spend[-13:].sum())
    alloc = tiny_fit.optimize(budget=budget, weeks=13, allow_unconverged=True)
    frames = {
        "current": plan_frame(tiny_fit.data, alloc.current, 13),
        "optimal": plan_frame(tiny_fit.data, alloc, 13),
    }
    cmp = compare_scenarios(tiny_fit, frames, controls="last")
    uplift = cmp.uplift.sel(scenario="optimal").values
    np.testing.assert_allclose(uplift, alloc.uplift.values, rtol=1e-8)
    assert cmp.table.loc["optimal", "spend"] == pytest.approx(budget)


def test_a_plan_must_name_every_spend_group(tiny_fit):
    with pytest.raises(bm.DataError, match="lacks spend groups"):
        plan_frame(tiny_fit.data, {"tv": 1.0}, weeks=13)
