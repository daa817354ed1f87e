"""Simulation-based calibration: ranks, the uniformity test and the prior panels."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm

S = importlib.import_module("bayes_mmm.sbc")  # bm.sbc is the function


def test_uniformity_passes_uniform_ranks_and_flags_biased_ones():
    rng = np.random.default_rng(0)
    n, L = 400, S.N_RANK_DRAWS
    ranks = pd.DataFrame(
        {
            "uniform": rng.integers(0, L + 1, n),
            # true values above most draws: the posterior sits too low (a bias)
            "biased": np.minimum(rng.integers(0, L + 1, n) + 30, L),
            # ranks piled at both ends: intervals too narrow (over-confidence)
            "narrow": np.where(rng.uniform(size=n) < 0.5, rng.integers(0, 10, n), L - 5),
        }
    )
    table = S.uniformity(ranks, L)
    assert table.loc["uniform", "uniform"]
    assert not table.loc["biased", "uniform"] and not table.loc["narrow", "uniform"]
    assert (table["p_adjusted"] == np.minimum(table["p_value"] * 3, 1)).all()
    result = S.SBCResult(ranks, L, table, pd.Series([True, False, True, True]))
    assert not result.passed and result.gate_pass_rate == 0.75
    assert "2 fail uniformity" in result.summary() and "biased" in result.summary()
    # The plots mark the failing quantities in red; the ECDF of the biased ranks leaves
    # its simultaneous band (high ranks: the ECDF sits far below the uniform CDF).
    from bayes_mmm import plot

    hist = plot.sbc_ranks(result)
    ecdf = plot.sbc_ecdf(result)
    for fig in (hist, ecdf):
        colors = {ax.get_title(): ax.title.get_color() for ax in fig.axes if ax.get_title()}
        assert colors["biased"] == "red" and colors["uniform"] != "red"
    biased = next(ax for ax in ecdf.axes if ax.get_title() == "biased")
    band = biased.collections[0].get_paths()[0].vertices[:, 1].min()
    curve = biased.lines[0].get_ydata().min()
    assert curve < band


def test_ranks_count_thinned_draws_below_the_truth(tiny_fit):
    post = tiny_fit.posterior
    values, shape = post.draws
    quantities = S.quantity_draws(post.data, post.spec, values, shape)
    assert {"roi[tv]", "alpha[tv]", "beta[geo_00,tv]", "intercept[geo_00]"} <= set(quantities)
    lowest = {q: float(v.min()) - 1 for q, v in quantities.items()}
    highest = {q: float(v.max()) + 1 for q, v in quantities.items()}
    assert set(S.ranks_of(post, lowest).values()) == {0}
    assert set(S.ranks_of(post, highest).values()) == {S.N_RANK_DRAWS}
    median = {q: float(np.median(v)) for q, v in quantities.items()}
    mid = np.array(list(S.ranks_of(post, median).values()))
    assert (np.abs(mid - S.N_RANK_DRAWS / 2) <= 15).all(), mid


@pytest.mark.sampling
def test_prior_panels_keep_the_templates_scales(tiny_fit):
    truths, panels = S.prior_panels(tiny_fit.data, tiny_fit.spec, n=3, random_seed=1)
    assert len(truths) == len(panels) == 3
    for truth, panel in zip(truths, panels):
        assert panel.scaling is tiny_fit.data.scaling
        assert not np.allclose(panel.target, tiny_fit.data.target)
        assert np.isfinite(panel.target).all() and truth["roi[tv]"] > 0
    assert truths[0]["alpha[tv]"] != truths[1]["alpha[tv]"]


def test_sbc_is_public():
    assert bm.sbc is S.sbc and bm.SBCResult is S.SBCResult
