"""Fixtures of the optimizer tests, and ``benchmarks/`` on ``sys.path`` for its oracle.

The oracle (``bayes_mmm.oracle``: the simulator's truth as a one-draw planner) serves the
tests, the benchmarks and notebook 03; ``benchmarks/oracle.py`` re-exports it as ``oracle``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bayes_mmm import optimize as opt

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))


@pytest.fixture(scope="module")
def draws(tiny_fit):
    """The tiny posterior's draws: (values, (chain, draw))."""
    return tiny_fit.draws


@pytest.fixture(scope="module")
def plan13(tiny_fit, draws):
    """The tiny posterior's 13-week window problem."""
    return opt.planner(tiny_fit.data, tiny_fit.spec, draws[0], weeks=13)
