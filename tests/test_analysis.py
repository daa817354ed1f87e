"""Analysis on a tiny saved posterior: no sampling here."""

import numpy as np
import pytest

from bayes_mmm import analysis
from bayes_mmm.posterior import posterior_draws


def test_contributions_dims_and_units(tiny_fit):
    c = tiny_fit.contributions()
    assert c.dims == ("chain", "draw", "date", "geo", "channel")
    assert c.sizes["chain"] == 2 and c.sizes["draw"] == 100
    assert (c >= 0).all()
    # in target units: a channel's weekly contribution is a fraction of weekly revenue
    share = c.mean(("chain", "draw")).sum("channel") / tiny_fit.data.target
    assert 0.0 < float(share.mean()) < 1.0


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


def test_chunked_contributions_do_not_depend_on_the_chunk_size(tiny_fit):
    d, spec = tiny_fit.data, tiny_fit.spec
    draws, _ = tiny_fit.draws
    whole = analysis.channel_contribution_draws(d, spec, draws, chunk=10_000)
    pieces = analysis.channel_contribution_draws(d, spec, draws, chunk=7)  # last is short
    np.testing.assert_allclose(pieces, whole, rtol=1e-12)


def test_roi_is_counterfactual_revenue_over_spend(tiny_fit):
    d, spec = tiny_fit.data, tiny_fit.spec
    draws, shape = tiny_fit.draws
    # revenue with the channel minus without it (media zeroed), carryover tail included
    tail = spec.l_max - 1
    full = analysis.channel_contribution_draws(d, spec, draws, tail=tail)
    for c, name in enumerate(d.channels):
        media = d.media.copy()
        media[..., c] = 0.0
        without = analysis.channel_contribution_draws(d, spec, draws, media=media, tail=tail)
        incr = (full - without).sum(axis=(1, 2, 3))
        roi = incr / d.spend[..., c].sum()
        np.testing.assert_allclose(
            roi.reshape(shape), tiny_fit.roi_draws().sel(channel=name).values, rtol=1e-10
        )


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
    lo, hi = pp.quantile([0.05, 0.95], dim=("chain", "draw")).values
    inside = ((tiny_fit.data.target >= lo) & (tiny_fit.data.target <= hi)).mean()
    assert 0.75 < inside <= 1.0


def test_diagnostics_table(tiny_fit):
    d = tiny_fit.diagnostics()
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(d.columns)
    assert "beta[geo_00, tv]" in d.index
    assert {"divergences", "bfmi", "converged", "verdict"} <= set(d.attrs)
    # 2 × 100 draws cannot reach ESS 400: the fit must not call itself converged
    assert not tiny_fit.converged
    assert "ess_bulk" in [g.name for g in tiny_fit.convergence.failed]
    assert "NOT CONVERGED" in tiny_fit.roi().attrs["warning"]


@pytest.mark.parametrize("by", ["channel", "region"])
def test_roi_rejects_unknown_grouping(tiny_fit, by):
    with pytest.raises(ValueError, match="by="):
        tiny_fit.roi(by=by)


def test_posterior_draws_keep_the_model_dim_order():
    """(geo, event) and (geo, channel) variables keep their declared order, even when the
    stored array lists chain/draw last."""
    import xarray as xr

    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {
            "event_coef": (("chain", "draw", "geo", "event"), rng.normal(size=(2, 3, 4, 5))),
            "beta": (("geo", "channel", "chain", "draw"), rng.normal(size=(4, 6, 2, 3))),
        }
    )
    draws, shape = posterior_draws(ds, ["event_coef", "beta"])
    assert shape == (2, 3)
    assert draws["event_coef"].shape == (6, 4, 5)
    assert draws["beta"].shape == (6, 4, 6)
    np.testing.assert_array_equal(draws["beta"][4], ds["beta"].values[..., 1, 1])
