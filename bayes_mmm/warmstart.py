"""Warm starts: begin a new fit where a previous posterior left off.

A refit on a panel that extends an old one (new weeks appended, old weeks perhaps
restated) starts every chain at the old posterior's mean, jittered (``sample``'s
``init=``), and tunes for :data:`WARM_TUNE` steps instead of a cold fit's 1000. nutpie
takes no mass matrix from outside, so the warm start is the initial point only: the
chains skip the walk from the prior's support point to the typical set, which is most of
what early tuning is spent on, and the step size and mass matrix adapt within the shorter
window.
"""

from __future__ import annotations

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior
from bayes_mmm.sample import sample

#: Tuning steps of a warm-started refit.
WARM_TUNE = 300


def initial_point(fit) -> dict[str, np.ndarray]:
    """The posterior mean of every sampled variable, constrained values.

    Returns
    -------
    dict of str to ndarray
        ``{variable: mean}`` with each variable's own dims (no chain or draw); ``sample``
        uses the free variables among them.
    """
    post = as_posterior(fit).idata["posterior"].to_dataset()
    return {str(k): post[k].mean(SAMPLE_DIMS).values for k in post.data_vars}


def warm_sample(fit, data: MMMData, tune: int = WARM_TUNE, **settings) -> Posterior:
    """Sample ``data`` under the fit's spec, starting at the fit's posterior mean.

    Parameters
    ----------
    fit : Posterior or Fit
        The previous fit; its spec is kept.
    data : MMMData
        The new panel (same channels, geos and controls).
    tune : int
        Tuning steps (default :data:`WARM_TUNE`).
    settings
        Other sampler settings (draws, chains, random_seed, ...; see ``bm.fit``).
    """
    post = as_posterior(fit)
    return sample(data, post.spec, tune=tune, init=initial_point(post), **settings)
