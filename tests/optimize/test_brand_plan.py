"""The optimizer across brands: on a brand × geo panel (``MMMData.from_panel_frame``) each
(brand, geo) unit is a geo of the window problem, so ``by_geo`` plans allocate across
brands as well as geos; without it each channel's spend keeps history's split over units
(and so over brands)."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import optimize as opt
from bayes_mmm.data import MMMData
from bayes_mmm.spec import ModelSpec

SPEC = ModelSpec(l_max=4)
N = 8  # draws


@pytest.fixture(scope="module")
def panel() -> MMMData:
    """Six simulated geos relabelled as brands A, B × geos g0 … g2."""
    frame, _ = bm.simulate(n_geos=6, n_weeks=60, n_channels=2, seed=5)
    index = frame["geo"].str[-2:].astype(int)
    frame = frame.assign(brand=np.where(index < 3, "A", "B"), geo=[f"g{i % 3}" for i in index])
    columns = dict(date="date", target="revenue", media=["tv", "search"], controls=["control_1"])
    return MMMData.from_panel_frame(frame, brand="brand", geo="geo", **columns)


def brand_draws(boost_a: float, seed: int = 0) -> dict:
    """Draws whose brand-A coefficients are ``boost_a`` times brand B's, unit for unit."""
    rng = np.random.default_rng(seed)
    beta = rng.uniform(0.05, 0.1, (N, 3, 2))
    return {
        "alpha": rng.uniform(0.3, 0.5, (N, 2)),
        "ec": rng.uniform(0.8, 1.2, (N, 2)),
        "slope": rng.uniform(1.0, 1.5, (N, 2)),
        "beta": np.concatenate([boost_a * beta, beta], axis=1),  # units A/g0…A/g2, B/g0…
    }


def brand_totals(panel: MMMData, frame) -> np.ndarray:
    """Spend per brand (A, B) of a unit × spend-group frame."""
    return frame.groupby(list(panel.geo_group)).sum().sum(axis=1).loc[["A", "B"]].to_numpy()


def test_by_geo_plans_move_budget_to_the_better_brand(panel):
    budget = float(panel.spend[-13:].sum())
    shares = []
    for boost in (1.0, 3.0):
        plan = opt.planner(panel, SPEC, brand_draws(boost), weeks=13)
        alloc = opt.allocate(plan, budget, (1, N), opt.Constraints({}, by_geo=True))
        assert list(alloc.spend.index) == list(panel.geos)
        totals = brand_totals(panel, alloc.spend)
        assert totals.sum() == pytest.approx(budget, rel=1e-9)
        shares.append(totals[0] / budget)
        # optimality: every funded (unit, group) cell earns the same expected marginal
        # revenue, and an unfunded one no more
        _, grad = plan.revenue(alloc.spend.to_numpy(), grad=True)
        mroi = grad.mean(axis=0)
        funded = alloc.spend.to_numpy() > 1e-6 * budget
        lam = mroi[funded].mean()
        np.testing.assert_allclose(mroi[funded], lam, rtol=1e-4)
        assert np.all(mroi[~funded] <= lam * (1 + 1e-4))
    assert shares[1] > shares[0] + 0.2  # tripling brand A's effect moves budget to A


def test_without_by_geo_each_brand_keeps_its_history_share(panel):
    """A spend group's plan is split over (brand, geo) units like the last weeks: the
    allocation's uplift is that of those cells."""
    budget = float(panel.spend[-13:].sum())
    plan = opt.planner(panel, SPEC, brand_draws(3.0), weeks=13)
    alloc = opt.allocate(plan, budget, (1, N))
    current = plan.history_spend  # (unit, group)
    cells = current / current.sum(axis=0, keepdims=True) * alloc.spend.to_numpy()[None]
    uplift = plan.revenue(cells) - plan.revenue(plan.current(budget))
    np.testing.assert_allclose(alloc.uplift.values.ravel(), uplift, rtol=1e-9)
