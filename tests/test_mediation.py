"""Mediation: the direct, indirect and total effects, at the true parameters and from a fit."""

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import datasets
from bayes_mmm.mediation import effect_draws, mediation_draws, path_labels
from bayes_mmm.response import make_design, mediator_response
from bayes_mmm.simulate import SEED003_UPSTREAM, seed003_setup


def test_true_parameters_reproduce_the_truth(drivers_panel):
    data, spec, truth, params = drivers_panel
    true = {k: np.asarray(v)[None] for k, v in params.items()}
    eff = effect_draws(data, spec, true)
    for p, label in enumerate(path_labels(spec)):
        assert eff["indirect"][0, p] == pytest.approx(truth.loc[f"{label} indirect", "value"])
    # the mediator equation at the true parameters explains the observed google spend
    stack = make_design(data, spec).stack
    paths = mediator_response(stack, true, spec, data.channels)[0].sum(-1)[:, 0]
    k = data.channels.index("google_spend")
    google = data.media[:, 0, k] / data.scaling.media[0, k]
    residual = google - paths - np.mean(google - paths)
    assert np.std(residual) == pytest.approx(params["mediator_sigma"][0], rel=0.2)
    assert np.corrcoef(paths, google)[0, 1] > 0.2


@pytest.fixture(scope="module")
def national_fit(drivers_panel):
    data, spec, *_ = drivers_panel
    return bm.fit(data, spec, draws=100, tune=150, chains=2, random_seed=5, progress=False)


@pytest.mark.sampling
def test_mediation_table_and_total_roi(national_fit, drivers_panel):
    _, spec, _, _ = drivers_panel
    table = national_fit.mediation(hdi_prob=0.9)
    assert list(table.columns) == ["mean", "median", "lower", "upper", "p_positive"]
    assert len(table) == 3 * len(spec.mediator_paths())
    for label in path_labels(spec):
        d, i, t = (table.loc[(label, e), "mean"] for e in ("direct", "indirect", "total"))
        assert t == pytest.approx(d + i, rel=1e-9)
        assert table.loc[(label, "indirect"), "lower"] >= 0
    # upstream channels earn more through the mediator: total ROI ≥ direct ROI per draw
    roi = national_fit.roi()
    total = bm.total_roi(national_fit)
    for u in SEED003_UPSTREAM:
        assert total.loc[u, "mean"] > roi.loc[u, "mean"]
    assert total.loc["google_spend", "mean"] == pytest.approx(roi.loc["google_spend", "mean"])


@pytest.mark.sampling
def test_equal_tailed_intervals_are_the_quantiles_of_the_effect_draws(national_fit):
    hdi = bm.mediation(national_fit, hdi_prob=0.8)
    eti = bm.mediation(national_fit, hdi_prob=0.8, interval="eti")
    assert eti.attrs == {"hdi_prob": 0.8, "interval": "eti"}
    draws = mediation_draws(national_fit)
    for (path, effect), row in eti.iterrows():
        x = draws[effect].sel(path=path).values.ravel()
        np.testing.assert_allclose([row["lower"], row["upper"]], np.quantile(x, [0.1, 0.9]))
        assert (x < row["lower"]).mean() == pytest.approx(0.1, abs=0.01)
    # only the interval changes; the HDI is a different interval of the same draws
    cols = ["mean", "median", "p_positive"]
    pd.testing.assert_frame_equal(eti[cols], hdi[cols])
    assert not np.allclose(eti["lower"], hdi["lower"])
    with pytest.raises(ValueError, match="interval="):
        bm.mediation(national_fit, interval="central")
    pd.testing.assert_frame_equal(national_fit.mediation(0.8, interval="eti"), eti)


@pytest.mark.sampling
def test_drivers_table_with_mediation_and_negative_price(national_fit):
    table = national_fit.drivers(hdi_prob=0.9)
    assert "facebook_spend->google_spend (indirect)" in table.index
    assert set(table["kind"]) == {"media", "organic", "control", "indirect"}
    price = table.loc["average_price"]
    assert price["upper"] < 0 and price["p_positive"] < 0.05
    assert table["p_rank1"].sum() == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.sampling
def test_acceptance_on_the_shipped_national_dataset():
    """The seed-003 acceptance fit (4 × 1000 draws): converged, a price effect below 0, and
    the true direct, indirect and total effect of every upstream channel inside its 90%
    interval: all twelve.

    The shipped series is generator seed 2 (``simulate.SEED003_GENERATOR_SEED``), chosen
    because this holds on it for every one of 6 NUTS seeds. Eight 90% intervals at once are
    not a property a calibrated model has on every dataset: on 40 generator seeds all eight
    were covered on 15 (``benchmarks/MEDIATION.md``, ``benchmarks/bench_mediation.py``), and
    the coverage over those 40 seeds (88% of 320 direct and indirect effects) is the
    calibration measure.
    This test guards that a change to the model or the sampler does not break recovery on a
    series where it held; it does not show that recovery holds everywhere.
    """
    frame = datasets.read_csv("seed003_national.csv")
    truth = datasets.read_csv("seed003_truth.csv", index_col=0)["value"]
    kwargs, spec = seed003_setup()
    data = bm.MMMData.from_frame(frame, **kwargs)
    fit = bm.fit(data, spec, draws=1000, tune=1000, chains=4, random_seed=3, progress=False)
    gates = fit.convergence.to_frame()
    assert fit.converged, fit.convergence.message()
    assert gates.loc["divergences", "value"] == 0 and gates.loc["r_hat", "value"] <= 1.01
    price = fit.drivers(hdi_prob=0.9, mediation=False).loc["average_price"]
    assert price["upper"] < 0 and price["lower"] <= truth["average_price"] <= price["upper"]
    med = fit.mediation(hdi_prob=0.9)
    true = np.array([truth[f"{p} {e}"] for p, e in med.index])
    covered = pd.Series((med["lower"] <= true) & (true <= med["upper"]), index=med.index)
    assert covered.all(), covered
