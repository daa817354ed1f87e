"""The sampler: ``sampler_kwargs`` reach nutpie and are recorded with the run."""

from __future__ import annotations

import warnings

import pytest

import bayes_mmm as bm

pytestmark = pytest.mark.sampling

SPEC = bm.ModelSpec(l_max=4, yearly_seasonality=0)


@pytest.fixture(scope="module")
def small_data(make_panel):
    return make_panel(n_geos=2, n_weeks=40, n_channels=2, seed=11, controls=())[0]


def test_sampler_kwargs_reach_nutpie_and_the_depth_gate_sees_them(small_data):
    """``sampler_kwargs`` go to ``nutpie.sample`` (here a tree-depth cap of 2, which every
    draw of this posterior hits) and are recorded; the tree-depth gate reports the cap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(
            small_data,
            SPEC,
            draws=50,
            tune=50,
            chains=2,
            random_seed=3,
            progress=False,
            sampler_kwargs={"maxdepth": 2},
        )
    assert fit.meta["sampler_kwargs"] == {"maxdepth": 2}
    assert int(fit.idata["sample_stats"]["n_steps"].max()) <= 3
    gate = {g.name: g for g in fit.convergence.gates}["tree_depth"]
    assert not gate.passed and gate.value > 0.5 and not fit.converged


def test_panel_size_picks_precision_and_adaptation(make_panel):
    """From 20 geos a fit runs the media graph in float32 with nutpie's draw-variance mass
    matrix; smaller panels keep float64 and nutpie's default; an explicit choice wins and
    every choice is stated with its source (what ``fit.meta`` and the report show)."""
    from bayes_mmm.sample import DRAW_DIAG_GEOS, Run, _adaptation, panel_settings

    big, _, _ = make_panel(n_geos=DRAW_DIAG_GEOS, n_weeks=30, n_channels=2)
    small, _, _ = make_panel(n_geos=3, n_weeks=30, n_channels=2)
    auto = panel_settings(big, bm.ModelSpec())
    assert auto["float32"] is True and auto["float32_source"] == "panel size"
    assert auto["centring"] == "non-centred"
    estimated = panel_settings(big, bm.ModelSpec(centred="auto"))["centring"]
    assert estimated.startswith(("estimated", "non-centred (estimated)"))
    assert panel_settings(small, bm.ModelSpec())["float32"] is False
    forced = panel_settings(big, bm.ModelSpec(float32=False, centred=()))
    assert forced == {"float32": False, "float32_source": "spec", "centring": "non-centred"}
    run, name, source = _adaptation(Run(), DRAW_DIAG_GEOS)
    assert (name, source, run.sampler_kwargs) == (
        "draw_diag",
        "panel size",
        {"adaptation": "draw_diag"},
    )
    assert _adaptation(Run(), DRAW_DIAG_GEOS - 1)[1:] == ("diag", "panel size")
    mine = Run(sampler_kwargs={"adaptation": "low_rank"})
    assert _adaptation(mine, 40) == (mine, "low_rank", "sampler_kwargs")
    assert _adaptation(Run(sampler="pymc"), 40)[1] is None


def test_panel_size_picks_target_accept():
    """0.95 from 20 geos, 0.9 below, the user's value whenever given (with its source, as
    ``fit.meta`` records it); an impossible value is a SpecError before any compile."""
    from bayes_mmm.sample import DRAW_DIAG_GEOS, Run, _target_accept

    run, source = _target_accept(Run(), DRAW_DIAG_GEOS)
    assert (run.target_accept, source) == (0.95, "panel size")
    run, source = _target_accept(Run(), DRAW_DIAG_GEOS - 1)
    assert (run.target_accept, source) == (0.9, "panel size")
    run, source = _target_accept(Run(target_accept=0.8), 40)
    assert (run.target_accept, source) == (0.8, "user")
    with pytest.raises(bm.SpecError, match=r"target_accept=1\.2"):
        _target_accept(Run(target_accept=1.2), 3)
