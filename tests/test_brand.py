"""Brand × geo panels: (brand, geo) units pooled within brands, results by brand."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import DataError
from bayes_mmm.analysis import roi_draws
from bayes_mmm.data import MMMData
from bayes_mmm.model import coords, parameter_names
from bayes_mmm.spec import ModelSpec

SPEC = ModelSpec(l_max=4)
ARGS = dict(date="date", target="revenue", media=["tv", "search"], controls=["control_1"])


def brand_frame(n_weeks: int = 60, seed: int = 5):
    """Six simulated geos relabelled as brands A, B × geos g0 … g2."""
    frame, truth = bm.simulate(n_geos=6, n_weeks=n_weeks, n_channels=2, seed=seed)
    index = frame["geo"].str[-2:].astype(int)
    frame = frame.assign(brand=np.where(index < 3, "A", "B"), geo=[f"g{i % 3}" for i in index])
    return frame, truth


@pytest.fixture(scope="module")
def panel():
    frame, _ = brand_frame()
    return MMMData.from_panel_frame(frame, brand="brand", geo="geo", **ARGS)


def test_units_are_brand_geo_pairs_grouped_by_brand(panel):
    assert panel.geos == ("A/g0", "A/g1", "A/g2", "B/g0", "B/g1", "B/g2")
    assert panel.geo_group == ("A", "A", "A", "B", "B", "B")
    assert coords(panel, SPEC)["geo_group"] == ["A", "B"]
    assert {"group_sigma", "group_z", "beta_z"} <= set(parameter_names(panel, SPEC))
    back = MMMData.from_dataset(panel.to_dataset())
    assert back.source_columns["geo_group"] == "brand"


def test_roi_by_brand_is_the_spend_weighted_roi_of_its_units(panel):
    rng = np.random.default_rng(0)
    draws = {
        "alpha": rng.uniform(0.2, 0.7, (5, 2)),
        "ec": rng.uniform(0.5, 2.0, (5, 2)),
        "slope": rng.uniform(0.8, 2.5, (5, 2)),
        "beta": rng.uniform(0.02, 0.2, (5, 6, 2)),
    }
    by_unit = roi_draws(panel, SPEC, draws, (1, 5), by="geo").values[0]  # (draw, geo, ch)
    by_brand = roi_draws(panel, SPEC, draws, (1, 5), by="brand")
    spend = panel.spend.sum(axis=0)  # (geo, channel)
    for b, units in (("A", slice(0, 3)), ("B", slice(3, 6))):
        expected = (by_unit[:, units] * spend[units]).sum(1) / spend[units].sum(0)
        np.testing.assert_allclose(by_brand.sel(brand=b).values[0], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="brand"):
        roi_draws(panel, SPEC, draws, (1, 5), by="region")


def test_an_unbalanced_brand_panel_names_the_unit():
    frame, _ = brand_frame()
    drop = (frame.brand == "B") & (frame.geo == "g1") & (frame.date == frame.date.iloc[-1])
    with pytest.raises(DataError, match="B/g1"):
        MMMData.from_panel_frame(frame[~drop], brand="brand", geo="geo", **ARGS)


@pytest.mark.slow  # a real fit: minutes on a busy 2-core machine
@pytest.mark.sampling
def test_brand_recovery_covers_true_brand_roi():
    frame, truth = brand_frame(n_weeks=104, seed=7)
    data = MMMData.from_panel_frame(frame, brand="brand", geo="geo", **ARGS)
    fit = bm.fit(data, SPEC, random_seed=1, progress=False)  # the defaults: 4 × 1,000
    assert fit.posterior.converged
    roi = fit.roi(by="brand")
    spend = data.spend.sum(axis=0)  # (unit, channel), units in simulated geo order
    true_by_unit = truth.roi_by_geo.to_numpy()
    for b, units in (("A", slice(0, 3)), ("B", slice(3, 6))):
        true = (true_by_unit[units] * spend[units]).sum(0) / spend[units].sum(0)
        for c, channel in enumerate(data.group_labels):
            row = roi.loc[(b, channel)]
            assert row["lower"] <= true[c] <= row["upper"]
