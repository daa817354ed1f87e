"""Coverage of the simulator's truth: counts against intervals computed another way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

import bayes_mmm as bm
from bayes_mmm.analysis import summarize
from bayes_mmm.coverage import against_truth


def test_counts_match_the_fits_own_intervals(tiny_fit, sim_frame):
    """ROI and contribution coverage equal what ``fit.roi()`` and the summed
    ``fit.contributions()`` intervals say about the simulator's truth."""
    _, truth = sim_frame
    cov = against_truth(tiny_fit, truth, hdi_prob=0.8)
    roi = tiny_fit.roi(hdi_prob=0.8)
    expect_roi = (roi["lower"] <= truth.roi) & (truth.roi <= roi["upper"])
    got = cov.table.loc["roi", "inside"]
    pd.testing.assert_series_equal(got, expect_roi.loc[got.index], check_names=False)
    totals = summarize(tiny_fit.contributions().sum(("date", "geo")), 0.8)
    true_total = truth.contributions.sum(("date", "geo")).to_series()
    np.testing.assert_allclose(cov.table.loc["contribution", "lower"], totals["lower"])
    np.testing.assert_allclose(cov.table.loc["contribution", "true"], true_total)
    n = int(expect_roi.sum()) + int(
        ((totals["lower"] <= true_total) & (true_total <= totals["upper"])).sum()
    )
    assert cov.total == len(roi) + 3 and cov.inside == n
    assert cov.line.startswith(f"{n}/{cov.total} true values inside the 80% interval (roi ")
    assert str(cov) == cov.line


def test_event_effects_from_a_long_truth_table(seed_panel):
    """``holiday_effect`` rows of a long table are compared with ``event_coef`` per geo:
    draws placed around known values make geo 0's truth fall inside, geo 1's outside."""
    _, truth, data, spec = seed_panel
    rng = np.random.default_rng(0)
    centre = np.array([0.2, 0.3, 0.4])
    draws = centre + 0.01 * rng.standard_normal((2, 200, 3))
    idata = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "event_coef": xr.DataArray(
                        draws[..., None],
                        dims=("chain", "draw", "geo", "event"),
                        coords={"geo": list(data.geos), "event": list(data.events)},
                    )
                }
            )
        }
    )
    post = bm.Posterior(data=data, spec=spec, idata=idata)
    table = pd.DataFrame(
        {
            "quantity": ["holiday_effect"] * 3 + ["alpha"],
            "name": [*data.geos[:2], "geo_not_in_fit", "fb"],
            "value": [0.2, 0.5, 1.0, 0.3],
        }
    )
    cov = against_truth(post, table)
    assert list(cov.table.index) == [("holiday_effect", g) for g in data.geos[:2]]
    assert cov.table["inside"].tolist() == [True, False]
    assert cov.line == "1/2 true values inside the 90% interval (holiday_effect 1/2)"
    # the simulator's own Truth states the effect on the same scale, under the event's name
    from_truth = against_truth(post, truth, quantities=["holiday_effect"])
    np.testing.assert_allclose(
        from_truth.table["true"], truth.event_effect["holiday"].loc[list(data.geos)]
    )
