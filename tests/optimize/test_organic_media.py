"""Organic media (impressions without a spend column) from the simulator through the panel
to the budget optimizer: budget goes to spend groups only."""

import numpy as np

from bayes_mmm import optimize as opt


def test_optimizer_never_gives_organic_media_a_budget(seed_panel):
    """With organic media present, budget goes to spend groups only, and the
    organic channel keeps its history whatever the budget."""
    _, truth, data, spec = seed_panel
    spec = spec.for_channels(data.channels)
    draws = {k: np.asarray(v)[None] for k, v in truth.params.items()}
    plan = opt.planner(data, spec, draws, weeks=13)
    assert plan.labels == ["fb", "google_spend"]
    organic = data.channels.index("yt_organic")
    for factor in (0.5, 2.0):
        alloc = opt.allocate(plan, factor * plan.current().sum(), (1, 1))
        assert list(alloc.spend.index) == ["fb", "google_spend"]
        np.testing.assert_allclose(alloc.spend.sum(), factor * plan.current().sum(), rtol=1e-9)
        media = plan.media(plan.current() * factor)
        np.testing.assert_array_equal(media[..., organic], data.media[-13:, :, organic])
