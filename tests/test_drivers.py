"""Drivers table and the ridge sign check, on the tiny saved posterior."""

import numpy as np
import pytest

from bayes_mmm.drivers import driver_draws, ridge_sign_check
from bayes_mmm.drivers import drivers as drivers_table


def test_drivers_table_effects_in_target_units(tiny_fit):
    table = drivers_table(tiny_fit, hdi_prob=0.9)
    d = tiny_fit.data
    assert set(table.index) == {*d.channels, *d.controls}
    assert list(table.columns[:5]) == ["kind", "mean", "median", "lower", "upper"]
    assert table.attrs["hdi_prob"] == 0.9
    # media effect = total contribution over the window, from the one counterfactual path
    total = tiny_fit.contributions().sum(("date", "geo")).mean(("chain", "draw"))
    for ch in d.channels:
        assert table.loc[ch, "mean"] == pytest.approx(float(total.sel(channel=ch)), rel=1e-9)
        assert table.loc[ch, "lower"] >= 0 and table.loc[ch, "p_positive"] == 1.0
    # control effect = +1 sd in every period: coefficient × Σ target scale × periods
    draws, _ = tiny_fit.draws
    coef = draws["control_coef"][:, 0].mean()
    expect = coef * d.scaling.target.sum() * d.n_dates
    assert table.loc["control_1", "mean"] == pytest.approx(expect, rel=1e-9)
    assert table["mean"].is_monotonic_decreasing


def test_rank_distribution_is_a_distribution(tiny_fit):
    table = drivers_table(tiny_fit)
    n = len(table)
    assert table["p_rank1"].sum() == pytest.approx(1.0)
    assert table["mean_rank"].sum() == pytest.approx(n * (n + 1) / 2)
    # Ranks per draw (1 = largest effect), recomputed from the driver draws.
    effects = driver_draws(tiny_fit)
    flat = effects.values.reshape(-1, n)
    ranks = n - flat.argsort(axis=1).argsort(axis=1)
    names = list(effects["driver"].values)
    np.testing.assert_allclose(table.loc[names, "mean_rank"], ranks.mean(axis=0))
    np.testing.assert_allclose(table.loc[names, "p_rank1"], (ranks == 1).mean(axis=0))
    # the driver most often ranked first has the smallest mean rank among the top
    top = table["p_rank1"].idxmax()
    assert table.loc[top, "mean_rank"] <= table["mean_rank"].median()


def test_ridge_sign_check_verdicts_follow_intervals(tiny_fit):
    check = ridge_sign_check(tiny_fit)
    assert set(check.index) == {*tiny_fit.data.channels, *tiny_fit.data.controls}
    for _, r in check.iterrows():
        lo, hi = sorted([r["lower"] * r["ridge_sign"], r["upper"] * r["ridge_sign"]])
        if r["verdict"] == "supported":
            assert lo > 0 and r["p_same_sign"] > 0.9
        elif r["verdict"] == "contradicted":
            assert hi < 0 and r["p_same_sign"] < 0.1
        else:
            assert r["verdict"] == "uncertain"
    # a negative media coefficient can never be "supported": media effects are ≥ 0
    neg = check[(check["ridge_sign"] < 0) & check.index.isin(tiny_fit.data.channels)]
    assert (neg["verdict"] != "supported").all()
