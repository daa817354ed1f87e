"""Shared fixtures: a tiny saved posterior so analysis tests never sample."""

from __future__ import annotations

from pathlib import Path

import pytest

import bayes_mmm as bm

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_fit"


@pytest.fixture(scope="session")
def tiny_fit() -> bm.Fit:
    """A real 3-geo × 3-channel fit (2 chains × 100 draws), saved by scripts/make_fixtures.py."""
    return bm.load(TINY)


@pytest.fixture(scope="session")
def sim_frame():
    return bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3)
