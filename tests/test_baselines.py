"""The seeds' OLS/ridge baselines and their side-by-side table with the posterior."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayes_mmm as bm
from bayes_mmm import baselines, datachecks

MEDIA = ["tv", "search", "social"]


@pytest.fixture(scope="module")
def ridge(tiny_fit):
    return baselines.ridge_baseline(tiny_fit.data)


@pytest.fixture(scope="module")
def ols(tiny_fit):
    return baselines.ols_baseline(tiny_fit.data)


def _r2_by_hand(data, result):
    """In-sample R² of the coefficient table's prediction on the (date × geo) rows:
    intercept, adstocked-and-transformed media, raw controls and geo dummies."""
    features = baselines.media_features(data, result.decay, result.transform, result.l_max)
    coef = result.coefficients["coef"]
    pred = np.full(data.target.shape, coef["intercept"])
    for i, channel in enumerate(data.channels):
        pred += coef[channel] * features[..., i]
    for k, control in enumerate(data.controls):
        pred += coef[control] * data.control_values[..., k]
    for g, geo in enumerate(data.geos[1:], start=1):
        pred[:, g] += coef[f"geo[{geo}]"]
    y = data.target
    return 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def test_ridge_baseline_fits_with_finite_roi_per_spend_group(tiny_fit, ridge):
    assert ridge.method == "ridge"
    assert 0.0 < ridge.r2 <= 1.0
    assert ridge.r2 == pytest.approx(_r2_by_hand(tiny_fit.data, ridge), rel=1e-9)
    assert ridge.penalty in baselines.DEFAULT_ALPHAS
    assert list(ridge.roi.index) == list(tiny_fit.roi().index)
    assert np.isfinite(ridge.roi["roi"]).all()
    np.testing.assert_allclose(ridge.roi["spend"], tiny_fit.data.spend.sum(axis=(0, 1)))
    kinds = ridge.coefficients["kind"]
    assert list(ridge.coefficients.index[kinds == "media"]) == MEDIA
    assert (kinds == "geo").sum() == len(tiny_fit.data.geos) - 1  # one geo is the reference
    assert ridge.coefficients.loc[kinds != "intercept", "std_coef"].notna().all()


def test_ols_baseline_has_p_values_and_fits_at_least_as_well_as_ridge(tiny_fit, ridge, ols):
    media = ols.coefficients[ols.coefficients["kind"] == "media"]
    assert (media["std_err"] > 0).all()
    # Two-sided t-test of each coefficient, residual degrees of freedom = rows − terms.
    n_rows, n_terms = tiny_fit.data.target.size, len(ols.coefficients)
    t = (media["coef"] / media["std_err"]).abs()
    expected = 2 * stats.t.sf(t, n_rows - n_terms)
    np.testing.assert_allclose(media["p_value"], expected, rtol=1e-8)
    assert 0.0 < ols.r2 <= 1.0
    assert ols.r2 == pytest.approx(_r2_by_hand(tiny_fit.data, ols), rel=1e-9)
    # Same design, OLS minimises the in-sample squared error: ridge cannot beat it.
    assert ols.r2 >= ridge.r2 - 1e-12
    assert np.isfinite(ols.roi["roi"]).all()


def test_implied_roi_is_the_counterfactual_of_the_fitted_term(tiny_fit):
    """Linear terms make the counterfactual checkable by hand: removing the channel
    removes coef × all its adstocked media, i.e. coef × spend × sum(decay**l)."""
    data = tiny_fit.data  # media are spend in the simulated panel
    for decay in (0.0, 0.3):
        res = baselines.ols_baseline(data, decay=decay, transform="linear", l_max=12)
        coef = res.coefficients.loc[MEDIA, "coef"].to_numpy()
        gain = np.sum(decay ** np.arange(12))
        np.testing.assert_allclose(res.roi["roi"].to_numpy(), coef * gain, rtol=1e-9)


def test_media_features_reproduce_the_seeds_recursion(tiny_fit):
    data = tiny_fit.data
    feat = baselines.media_features(data, decay=0.3, transform="linear")
    expected = np.zeros_like(data.media)
    for t in range(data.n_dates):
        expected[t] = data.media[t] + (0.3 * expected[t - 1] if t else 0.0)
    np.testing.assert_allclose(feat, expected, rtol=1e-10)
    logged = baselines.media_features(data, decay=0.3, transform="log")
    np.testing.assert_allclose(logged, np.log1p(expected), rtol=1e-10)


def test_vif_flags_a_collinear_column(make_panel, tiny_fit):
    assert np.isfinite(baselines.vif(tiny_fit.data)).all()
    assert (baselines.vif(tiny_fit.data) >= 1.0).all()

    def near_copy(df):  # correlation about 0.995: exact duplicates are refused by MMMData
        noise = np.exp(np.random.default_rng(0).normal(0, 0.05, len(df)))
        return df.assign(tv_copy=df["tv"] * 2.0 * noise)

    data, _, _ = make_panel(prepare=near_copy, media=[*MEDIA, "tv_copy"])
    table = baselines.vif(data)
    assert list(table.index) == [*MEDIA, "tv_copy", "control_1"]
    assert table["tv_copy"] > 100 and table["tv"] > 100
    assert table["search"] < 10
    corr = baselines.correlation(data)
    assert corr.loc["tv", "tv_copy"] > 0.99
    np.testing.assert_allclose(corr.to_numpy(), corr.to_numpy().T)
    np.testing.assert_allclose(np.diag(corr), 1.0)
    # The collinear pair also shows in the baseline's own VIF table.
    assert baselines.ols_baseline(data).vif["tv_copy"] > 100


def test_vif_is_the_statsmodels_vif_with_an_intercept(tiny_fit):
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    frame = datachecks.design_frame(tiny_fit.data)
    exog = sm.add_constant(frame.to_numpy(), has_constant="add")
    expected = [variance_inflation_factor(exog, j + 1) for j in range(frame.shape[1])]
    np.testing.assert_allclose(baselines.vif(tiny_fit.data), expected, rtol=1e-10)
    # Without an intercept the columns count as centred: on centred columns both agree.
    centred = frame.to_numpy() - frame.to_numpy().mean(axis=0)
    plain = datachecks.variance_inflation(centred, list(frame.columns))
    np.testing.assert_allclose(plain, expected, rtol=1e-8)


def test_side_by_side_has_one_row_per_spend_group_with_both_sides(tiny_fit, ridge):
    table = baselines.side_by_side(tiny_fit, ridge)
    post = tiny_fit.roi()
    assert list(table.index) == list(post.index)
    baseline_cols = ["baseline_sign", "baseline_roi", "baseline_verdict"]
    posterior_cols = ["posterior_mean", "posterior_lower", "posterior_upper", "posterior_support"]
    assert table[baseline_cols + posterior_cols].notna().all().all()
    np.testing.assert_allclose(table["posterior_mean"], post["mean"])
    np.testing.assert_allclose(table["baseline_roi"], ridge.roi["roi"])
    above = (tiny_fit.roi_draws() > 1.0).mean(("chain", "draw")).to_series()
    np.testing.assert_allclose(table["p_roi_above_breakeven"], above[table.index])
    assert table["baseline_p_value"].isna().all()  # ridge has no p-values
    assert table.attrs["method"] == "ridge" and table.attrs["hdi_prob"] == 0.9
    assert "warning" in table.attrs  # the fixture is deliberately unconverged
    for _, row in table.iterrows():
        inside = row["posterior_lower"] <= row["baseline_roi"] <= row["posterior_upper"]
        assert row["baseline_in_interval"] == inside
        assert row["posterior_support"].split(":")[0] in (
            "supported",
            "not supported",
            "inconclusive",
        )


def test_side_by_side_reads_only_the_panel_and_the_roi_from_the_fit(tiny_fit, ridge):
    class Posterior:  # not a Fit: the panel, the ROI summary and the ROI draws only
        data = tiny_fit.data

        def roi(self, hdi_prob=0.9):
            return tiny_fit.roi(hdi_prob=hdi_prob)

        def roi_draws(self):
            return tiny_fit.roi_draws()

    table = baselines.side_by_side(Posterior(), ridge, hdi_prob=0.8, breakeven=1.5)
    expected = baselines.side_by_side(tiny_fit, ridge, hdi_prob=0.8, breakeven=1.5)
    pd.testing.assert_frame_equal(table, expected)
    direct = baselines.compare_roi(
        ridge,
        tiny_fit.data,
        tiny_fit.roi(hdi_prob=0.8),
        tiny_fit.roi_draws(),
        hdi_prob=0.8,
        breakeven=1.5,
    )
    pd.testing.assert_frame_equal(direct, expected)
    assert direct.attrs == expected.attrs and direct.attrs["breakeven"] == 1.5
    np.testing.assert_allclose(direct["posterior_lower"], tiny_fit.roi(hdi_prob=0.8)["lower"])


def test_negative_coefficient_is_never_supported_by_the_positive_effect_model(tiny_fit, ols):
    flipped_coef = ols.coefficients.copy()
    flipped_coef.loc["search", "coef"] *= -1
    flipped_roi = ols.roi.copy()
    flipped_roi.loc["search", "roi"] *= -1
    hurts = dataclasses.replace(ols, coefficients=flipped_coef, roi=flipped_roi)
    row = baselines.side_by_side(tiny_fit, hurts).loc["search"]
    assert row["baseline_sign"] == "-"
    assert row["baseline_verdict"].startswith("hurts revenue")
    assert row["posterior_support"].startswith("not supported")
    assert not row["baseline_in_interval"]
    assert np.isnan(row["p_roi_above_baseline"])


def test_side_by_side_refuses_a_baseline_from_other_data(tiny_fit, make_panel):
    other_data, _, _ = make_panel(prepare=lambda df: df.assign(revenue=df["revenue"] * 1.01))
    other = baselines.ridge_baseline(other_data)
    with pytest.raises(bm.DataError, match="same MMMData"):
        baselines.side_by_side(tiny_fit, other)


def test_bad_options_raise_spec_errors(tiny_fit):
    with pytest.raises(bm.SpecError, match="decay"):
        baselines.ridge_baseline(tiny_fit.data, decay=1.2)
    with pytest.raises(bm.SpecError, match="transform"):
        baselines.ols_baseline(tiny_fit.data, transform="sqrt")
    with pytest.raises(bm.SpecError, match="cv"):
        baselines.ridge_baseline(tiny_fit.data, cv=1)


def test_ridge_and_posterior_on_the_same_simulated_data_side_by_side(tiny_fit, make_panel):
    """Acceptance: the seeds' ridge and the posterior, computed on the same
    simulated panel (known truth), in one table."""
    data, truth, _ = make_panel()  # the panel of tiny_fit (scripts/make_fixtures.py)
    assert data.data_hash == tiny_fit.data.data_hash
    ridge = baselines.ridge_baseline(data)
    table = baselines.side_by_side(tiny_fit, ridge).join(truth.roi.rename("true_roi"))
    assert list(table.index) == MEDIA and table["true_roi"].notna().all()
    np.testing.assert_allclose(table["baseline_roi"], ridge.roi["roi"])
    covered = (table["posterior_lower"] <= table["true_roi"]) & (
        table["true_roi"] <= table["posterior_upper"]
    )
    assert covered.sum() >= 2  # an unconverged 200-draw posterior still covers most truths
    # The seeds' log-of-spend model credits each channel with its whole log level, so its
    # implied ROI is far from the truth here, while the posterior mean is close to it.
    post_err = (table["posterior_mean"] - table["true_roi"]).abs().mean()
    base_err = (table["baseline_roi"] - table["true_roi"]).abs().mean()
    assert post_err < base_err


@pytest.mark.slow
@pytest.mark.sampling
def test_posterior_beats_the_seeds_ridge_on_a_real_simulated_fit(make_panel):
    """5 geos × 104 weeks: the posterior covers every true ROI and is closer to truth
    than the seeds' ridge ROI on the same data (about 60 s)."""
    data, truth, _ = make_panel(n_geos=5, n_weeks=104, seed=11)
    fit = bm.fit(data, bm.ModelSpec(), draws=500, tune=500, chains=2, random_seed=1, progress=False)
    table = baselines.side_by_side(fit, baselines.ridge_baseline(data)).join(truth.roi.rename("t"))
    assert (
        (table["posterior_lower"] <= table["t"]) & (table["t"] <= table["posterior_upper"])
    ).all()
    post_err = (table["posterior_mean"] - table["t"]).abs()
    base_err = (table["baseline_roi"] - table["t"]).abs()
    assert post_err.mean() < base_err.mean()
