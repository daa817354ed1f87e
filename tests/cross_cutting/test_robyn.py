"""Robyn's public demo data (``bayes_mmm/datasets/robyn_dt_simulated_weekly.csv``, a copy
of ``../shared/external/robyn/``, MIT licence, Meta Platforms, shipped with its licence): a
dataset the package did not generate, fitted with the ordinary API.

The fast test checks how the columns map onto ``MMMData`` (impressions and clicks paid by
spend columns, string events to 0/1 columns, an organic newsletter); the ``slow`` one fits it
at real settings (4 × 1000 draws, ~65 s here) and checks the convergence gates and that the
results are sane. ``notebooks/05_robyn_public_data.ipynb`` walks through the same fit.
"""

import numpy as np
import pytest

import bayes_mmm as bm

CSV = "robyn_dt_simulated_weekly.csv"
SPEND = {"tv_S": "tv_S", "ooh_S": "ooh_S", "print_S": "print_S",
         "facebook_I": "facebook_S", "search_clicks_P": "search_S"}  # fmt: skip


def robyn_data() -> bm.MMMData:
    """The demo as a national panel: the notebook's column roles."""
    raw = bm.datasets.read_csv(CSV)
    names = sorted(e for e in raw["events"].unique() if e != "na")
    df = raw.assign(**{e: (raw["events"] == e).astype(float) for e in names})
    return bm.MMMData.from_frame(df, date="DATE", target="revenue", media=list(SPEND),
                                 spend=SPEND, controls=["competitor_sales_B"],
                                 organic=["newsletter"], events=names)  # fmt: skip


def test_robyn_columns_map_onto_the_panel():
    data = robyn_data()
    raw = bm.datasets.read_csv(CSV)
    assert data.national and data.n_dates == len(raw) == 208
    assert list(data.events) == ["event1", "event2"]
    assert data.event_values[..., 0].sum() == (raw["events"] == "event1").sum() == 1
    # facebook and search are exposures paid by their spend columns; newsletter has no spend
    k = list(data.spend_groups).index("facebook_S")
    np.testing.assert_allclose(data.spend[:, 0, k], raw["facebook_S"])
    assert data.channel_group[data.channels.index("newsletter")] is None
    assert "MIT License" in bm.datasets.path("robyn_dt_simulated_weekly.LICENSE").read_text()


@pytest.mark.slow
@pytest.mark.sampling
def test_robyn_fit_converges_and_is_sane():
    """4 × 1000 draws: R-hat 1.005, min ESS 899, 0 divergences, R² 0.91 when last run."""
    fit = bm.fit(robyn_data(), draws=1000, tune=1000, chains=4, random_seed=1, progress=False)
    gates = fit.convergence.to_frame()
    assert fit.converged, fit.convergence.message()
    assert gates.loc["divergences", "value"] == 0
    ppc = fit.ppc(hdi_prob=0.9)
    assert ppc.loc["r2", "mean"] > 0.85
    assert 0.8 <= ppc.loc["coverage_90", "mean"] <= 1.0  # predictive intervals are honest
    roi = fit.roi(hdi_prob=0.9)
    assert set(roi.index) == {"tv_S", "ooh_S", "print_S", "facebook_I", "search_clicks_P"}
    assert (roi["upper"] < 50).all()  # revenue per unit of spend: no runaway channel
    assert roi.loc["tv_S", "lower"] > 1.0  # the data say tv pays for itself
    drivers = fit.drivers(hdi_prob=0.9)
    # competitor sales is this demo's largest driver (as in Robyn's own decomposition)
    assert drivers.index[0] == "competitor_sales_B"
    assert drivers.loc["competitor_sales_B", "p_rank1"] > 0.9
    assert drivers.loc["competitor_sales_B", "lower"] > 0
