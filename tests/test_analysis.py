"""The numpy analysis path on posterior draws: chunking and the ROI counterfactual."""

import numpy as np

from bayes_mmm import analysis


def test_chunked_contributions_do_not_depend_on_the_chunk_size(tiny_fit):
    d, spec = tiny_fit.data, tiny_fit.spec
    draws, _ = tiny_fit.draws
    whole = analysis.channel_contribution_draws(d, spec, draws, chunk=10_000)
    pieces = analysis.channel_contribution_draws(d, spec, draws, chunk=7)  # last is short
    np.testing.assert_allclose(pieces, whole, rtol=1e-12)


def test_roi_is_counterfactual_revenue_over_spend(tiny_fit):
    d, spec = tiny_fit.data, tiny_fit.spec
    draws, shape = tiny_fit.draws
    # revenue with the channel minus without it (media zeroed), carryover tail included
    tail = spec.l_max - 1
    full = analysis.channel_contribution_draws(d, spec, draws, tail=tail)
    for c, name in enumerate(d.channels):
        media = d.media.copy()
        media[..., c] = 0.0
        without = analysis.channel_contribution_draws(d, spec, draws, media=media, tail=tail)
        incr = (full - without).sum(axis=(1, 2, 3))
        roi = incr / d.spend[..., c].sum()
        np.testing.assert_allclose(
            roi.reshape(shape), tiny_fit.roi_draws().sel(channel=name).values, rtol=1e-10
        )
