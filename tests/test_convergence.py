"""Convergence gates: every gate, the tree-depth gate and its remedy."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_mmm import convergence as C


def test_convergence_includes_tree_depth_gate(tiny_fit):
    conv = tiny_fit.convergence
    names = [g.name for g in conv.gates]
    assert names == ["r_hat", "ess_bulk", "divergences", "bfmi", "tree_depth"]
    depth = conv.to_frame().loc["tree_depth"]
    assert depth["value"] == pytest.approx(
        float(tiny_fit.idata["sample_stats"]["maxdepth_reached"].mean())
    )
    assert not conv.passed  # the fixture is unconverged on purpose
    assert {g.name for g in conv.failed} >= {"r_hat"}


def test_tree_depth_saturation_fails_with_remedy(tiny_fit):
    stats_ = tiny_fit.idata["sample_stats"].to_dataset()
    hit = np.zeros(stats_["maxdepth_reached"].shape, bool)
    hit[:, :10] = True  # 10% of draws at max depth
    stats_ = stats_.assign(maxdepth_reached=(("chain", "draw"), hit))
    share = C.tree_depth_share(stats_)
    assert share == pytest.approx(0.1)
    conv = C.convergence(tiny_fit.diagnostics(), 0, 1.0, share)
    gate = conv.to_frame().loc["tree_depth"]
    assert not gate["passed"]
    assert "reparameterise" in gate["remedy"]
    assert "tree_depth" in conv.message()
    # Without the argument the four original gates are unchanged.
    assert len(C.convergence(tiny_fit.diagnostics(), 0, 1.0).gates) == 4
