"""Drivers table, ridge sign check and control adstock (no sampling: the tiny posterior)."""

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm.drivers import drivers as drivers_table
from bayes_mmm.drivers import ridge_sign_check
from bayes_mmm.response import control_response, make_design
from bayes_mmm.transforms import geometric_adstock


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
    assert ((table["mean_rank"] >= 1) & (table["mean_rank"] <= n)).all()
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


def test_control_adstock_matches_geometric_adstock(tiny_fit):
    d = tiny_fit.data
    spec = bm.ModelSpec(control_adstock=["control_1"], l_max=4)
    design = make_design(d, spec)
    params = {"control_coef": np.array([[0.5]]), "control_alpha": np.array([[0.6]])}
    got = control_response(design, params)[0, ..., 0]  # (date, geo)
    x = design.controls[..., 0]
    expect = 0.5 * geometric_adstock(x[..., None], np.array([0.6]), 4)[..., 0]
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    plain = control_response(make_design(d, bm.ModelSpec(l_max=4)), params)[0, ..., 0]
    np.testing.assert_allclose(plain, 0.5 * x)
    assert not np.allclose(got, plain)


def test_control_adstock_in_the_graph(tiny_fit):
    spec = bm.ModelSpec(control_adstock=["control_1"])
    model = bm.build_model(tiny_fit.data, spec)
    assert "control_alpha" in model.named_vars
    assert model.named_vars_to_dims["control_alpha"] == ("adstock_control",)
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"control_adstock": ["price"]}, "not controls of the data"),
        ({"mediators": {"search": ["nope"]}}, "not channels of the"),
    ],
)
def test_driver_options_name_data_columns(tiny_fit, kwargs, match):
    with pytest.raises(bm.SpecError, match=match):
        bm.build_model(tiny_fit.data, bm.ModelSpec(**kwargs))


def test_driver_options_are_validated_on_the_spec():
    with pytest.raises(bm.SpecError, match="list of control names"):
        bm.ModelSpec(control_adstock="promotions")
    with pytest.raises(bm.SpecError, match="one level of mediation"):
        bm.ModelSpec(mediators={"search": ["social"], "social": ["tv"]})
    assert bm.ModelSpec().to_dict() == bm.ModelSpec.from_dict(bm.ModelSpec().to_dict()).to_dict()
