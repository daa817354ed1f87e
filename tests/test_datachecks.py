"""Data checks: collinearity flags and VIF."""

from __future__ import annotations

import numpy as np

from bayes_mmm import datachecks


def test_data_checks_flag_collinear_media(make_panel):
    def near_copy(df):
        noise = np.random.default_rng(0).normal(0, 0.05, len(df))
        return df.assign(tv_copy=df["tv"] * (1.0 + noise))

    data, _, _ = make_panel(prepare=near_copy, media=["tv", "search", "tv_copy"])
    checks = datachecks.data_checks(data)
    assert checks.loc["tv", "flag"] and checks.loc["tv_copy", "flag"]
    assert checks.loc["tv", "most_correlated_with"] == "tv_copy"
    assert checks.loc["tv", "vif"] > 10 * checks.loc["search", "vif"]
    assert not checks.loc["search", "flag"]
