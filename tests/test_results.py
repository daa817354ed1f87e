"""Results in target units on the tiny saved posterior: contributions, baseline, expected
target, the ROI draws and table, and the posterior predictive."""

import numpy as np
import pytest

from bayes_mmm import transforms as tf


def test_contributions_dims_and_units(tiny_fit):
    c = tiny_fit.contributions()
    assert c.dims == ("chain", "draw", "date", "geo", "channel")
    assert c.sizes["chain"] == 2 and c.sizes["draw"] == 100
    assert (c >= 0).all()
    # In target units: one draw, recomputed from the transforms and the stored posterior,
    # β × Hill(adstock(media / media scale)) / Hill(1) × the geo's target scale.
    d, spec = tiny_fit.data, tiny_fit.spec
    p = tiny_fit.idata["posterior"].isel(chain=1, draw=7)
    alpha, ec, slope = (p[n].values for n in ("alpha", "ec", "slope"))
    beta = p["beta"].transpose("geo", "channel").values
    adstocked = tf.geometric_adstock(d.media / d.scaling.media[None], alpha, spec.l_max)
    unit = tf.hill(adstocked, ec, slope) / tf.hill(np.ones_like(ec), ec, slope)
    expected = beta[None] * unit * d.scaling.target[None, :, None]
    np.testing.assert_allclose(c.isel(chain=1, draw=7).values, expected, rtol=1e-10)


def test_contributions_plus_baseline_equal_expected_target(tiny_fit):
    expected = tiny_fit.expected_target()
    total = tiny_fit.baseline() + tiny_fit.contributions().sum("channel")
    np.testing.assert_allclose(expected.values, total.values, rtol=1e-12)
    # and the expected target tracks the observed one
    err = np.abs(expected.mean(("chain", "draw")).values / tiny_fit.data.target - 1)
    assert err.mean() < 0.1


def test_mean_contributions_match_the_full_tensor(tiny_fit):
    full = tiny_fit.contributions().mean(("chain", "draw"))
    lean = tiny_fit.mean_contributions()
    assert lean.dims == ("date", "geo", "channel")
    np.testing.assert_allclose(lean.values, full.values, rtol=1e-12)


def test_roi_table_columns_and_interval(tiny_fit):
    t = tiny_fit.roi(hdi_prob=0.9)
    assert list(t.columns) == ["mean", "median", "lower", "upper", "spend"]
    assert list(t.index) == list(tiny_fit.data.channels)
    assert (t["lower"] <= t["median"]).all() and (t["median"] <= t["upper"]).all()
    assert t.attrs["hdi_prob"] == 0.9
    wide = tiny_fit.roi(hdi_prob=0.99)
    assert (wide["upper"] - wide["lower"] >= t["upper"] - t["lower"]).all()


def test_roi_by_geo_aggregates_to_national(tiny_fit):
    by_geo = tiny_fit.roi_draws(by="geo")
    assert by_geo.dims == ("chain", "draw", "geo", "channel")
    spend = tiny_fit.data.spend.sum(axis=0)  # (geo, channel)
    weights = spend / spend.sum(axis=0)
    national = (by_geo * weights).sum("geo")
    np.testing.assert_allclose(national.values, tiny_fit.roi_draws().values, rtol=1e-10)
    table = tiny_fit.roi(by="geo")
    assert table.index.names == ["geo", "channel"]
    assert len(table) == 9


def test_posterior_predictive_covers_observed(tiny_fit):
    pp = tiny_fit.posterior_predictive(random_seed=0)
    # The expected target plus Normal noise of sd sigma × the geo's target scale, drawn in
    # (chain, draw) order from the seed.
    mu = tiny_fit.expected_target().values
    sigma = tiny_fit.idata["posterior"]["sigma"].transpose("chain", "draw", "geo").values
    noise = np.random.default_rng(0).standard_normal((2 * 100, *mu.shape[2:]))
    scale = sigma[:, :, None, :] * tiny_fit.data.scaling.target
    np.testing.assert_allclose(pp.values, mu + scale * noise.reshape(mu.shape), rtol=1e-12)
    lo, hi = pp.quantile([0.05, 0.95], dim=("chain", "draw")).values
    inside = ((tiny_fit.data.target >= lo) & (tiny_fit.data.target <= hi)).mean()
    assert 0.75 < inside <= 1.0


@pytest.mark.parametrize("by", ["channel", "region"])
def test_roi_rejects_unknown_grouping(tiny_fit, by):
    with pytest.raises(ValueError, match="by="):
        tiny_fit.roi(by=by)
