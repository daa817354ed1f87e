"""How centred each geo × channel coefficient is sampled, chosen from the data.

The geo hierarchy ``log beta[g, c] ~ Normal(beta_mu[c], beta_sigma[c])`` can be sampled
non-centred (``log beta = mu + sigma * z``, ``z ~ N(0, 1)``) or centred (``log beta`` itself).
Neither suits every cell. Non-centring is right where a geo's own data say little about its
coefficient, and centring where they pin it down. Otherwise the sampler meets a funnel:
``z`` and ``sigma`` trade off along a curved ridge. Real panels mix both regimes, often in
the same channel: big geos identify their effects, small ones do not.

So every cell gets its own weight ``w`` in [0, 1], the variationally inferred
parameterisation of Gorinova, Moore & Hoffman (2020, "Automatic Reparameterisation of
Probabilistic Programs", ICML), with the weight set from the data, not learned:

    z[g, c] ~ Normal(w * mu, sigma**w),   log beta = mu + sigma**(1 - w) * (z - w * mu).

``w = 0`` is the non-centred model and ``w = 1`` the centred one, and every ``w`` gives the same
posterior of ``beta``. If a geo's data measure ``log beta`` with standard error ``s``, the
posterior variance of ``z`` is ``sigma**(2w) * s**2 / (sigma**2 + s**2)``. Its derivative
in ``log sigma`` vanishes at

    w = sigma**2 / (sigma**2 + s**2),

and that weight removes the funnel to first order. :func:`centring_weights` estimates
``s`` and ``sigma`` before sampling:

1. **Unit responses.** Each channel's media go through the spec's adstock and unit
   saturation at the priors' medians (``beta = 1``). Saturation is normalised at typical
   exposure (``kinds.unit_saturation``), so the result depends little on the exact shape.
2. **One regression per geo.** The scaled target is regressed on the unit responses and
   the baseline's terms: intercept, trend, Fourier terms, controls and events. This gives
   each cell's coefficient ``b[g, c]`` and its standard error ``se[g, c]``, with the
   collinearity between channels and with the baseline counted.
3. **Relative errors.** ``s[g, c] = se[g, c] / b_ref[c]``, where ``b_ref[c]`` is the
   channel's precision-weighted mean coefficient over geos, floored at
   ``exp(beta_mu prior mean - 2 prior sd)``. A channel whose effect is too small to see is
   thus treated as weakly identified, which keeps it non-centred.
4. **Spread.** ``sigma[c]`` is the method-of-moments spread of ``b / b_ref`` across geos (the
   variance in excess of the mean ``s**2``), clipped to [``SIGMA_FLOOR``, ``SIGMA_CAP``].

Weights below ``SNAP`` become 0 and weights above ``1 - SNAP`` become 1, so that panels
with nothing to gain keep the exact non-centred graph. The weights change the geometry
only, never the model. A poor estimate costs speed, not correctness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bayes_mmm.data import MMMData
from bayes_mmm.response import make_design, media_response
from bayes_mmm.spec import ModelSpec

#: Bounds on the estimated geo spread of log effects (prior scale of ``beta_sigma`` is 0.3).
SIGMA_FLOOR, SIGMA_CAP = 0.3, 2.0
#: Weights this close to 0 or 1 are snapped to the non-centred or centred form.
SNAP = 0.1


_MEMO: dict[tuple[str, str], np.ndarray] = {}


def centring_weights(data: MMMData, spec: ModelSpec) -> np.ndarray:
    """The centring weight of every coefficient, dims (geo, channel), in [0, 1].

    0 is non-centred and 1 centred; see the module docstring for the estimate. A national
    panel (one geo) gets zeros: it has no hierarchy to parameterise. The last few results
    are remembered by data hash and spec (a fit asks twice: for the graph and its record).
    """
    spec = spec.for_channels(data.channels)
    key = (data.data_hash, spec.to_toml())
    if key not in _MEMO:
        while len(_MEMO) >= 8:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = _weights(data, spec)
    return _MEMO[key].copy()


def _weights(data: MMMData, spec: ModelSpec) -> np.ndarray:
    n_geo, n_channel = len(data.geos), len(data.channels)
    if n_geo < 2:
        return np.zeros((n_geo, n_channel))
    b, se = geo_regressions(data, spec)
    s, sigma = relative_errors(b, se, spec)
    w = sigma[None, :] ** 2 / (sigma[None, :] ** 2 + s**2)
    return np.where(w < SNAP, 0.0, np.where(w > 1.0 - SNAP, 1.0, w))


def process_contributions(data: MMMData, spec: ModelSpec) -> np.ndarray:
    """Each media process's typical contribution to the scaled target, dims (date, geo,
    tv_process), for the time-varying media's centring (``bayes_mmm.hsgp``).

    A process multiplies the media contribution of its channels, so the data measure it
    at a date in proportion to that contribution. Estimated as ``sum over the process's
    channels of beta_hat[g, c] · unit[t, g, c]``: the unit responses at the priors' medians
    (:func:`unit_responses`) scaled by each cell's coefficient, the least-squares estimate
    (:func:`geo_regressions`) shrunk through the model's own geo hierarchy and priors
    (``_grid_posterior``'s posterior geometric mean, as :func:`relative_errors` does). The
    shrinkage keeps an always-on channel, whose per-geo estimates are noisy and may be
    negative, at a plausible positive size; a channel with fewer than two measurable geos
    takes the prior's median ``exp(beta_mu mean)``. Like the centring weights, the
    estimate changes the sampling geometry only, never the model.
    """
    spec = spec.for_channels(data.channels)
    names, index = spec.media_processes(data.channels)
    log_beta, _ = _shrunk_log_beta(*geo_regressions(data, spec), spec)
    beta = np.exp(np.where(np.isnan(log_beta), _hyperprior(spec)[0][0], log_beta))
    unit = unit_responses(data, spec) * beta[None, :, :]
    out = np.zeros((*unit.shape[:2], len(names)))
    for c, k in enumerate(index):
        if k >= 0:
            out[..., k] += unit[..., c]
    return out


def unit_responses(data: MMMData, spec: ModelSpec, design=None) -> np.ndarray:
    """Each channel's response at ``beta = 1`` and its priors' medians, dims (date, geo,
    channel), on the scaled problem (``design``: ``make_design(data, spec)``)."""
    design = design if design is not None else make_design(data, spec)
    spec = spec.for_channels(data.channels)
    params = {n: _prior_median(spec, n, data.channels) for n in spec.transform_param_names()}
    params["beta"] = np.ones((len(data.geos), len(data.channels)))
    return np.asarray(media_response(design.stack, params, spec, design.rf))


def geo_regressions(data: MMMData, spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of the scaled target on the unit responses and the baseline terms,
    laid out as the model shares them.

    Each geo has its own intercept, trend, event effects and channel coefficients; the
    Fourier terms and controls are shared across geos. Rows are weighted by each geo's
    noise (the residual of a first, unweighted pass), as the likelihood weighs them. The
    normal equations are solved by block elimination of the shared columns
    (:func:`_block_solve`), so the cost grows linearly with the number of geos.

    Returns
    -------
    b, se : ndarray, dims (geo, channel)
        Each cell's coefficient and its standard error (``inf`` where the data cannot
        separate it, e.g. a channel that never varies in the geo).
    """
    design = make_design(data, spec)
    u = unit_responses(data, spec, design)
    y = data.target / data.scaling.target[None, :]  # (date, geo)
    n_date, n_geo, n_channel = u.shape
    own = [_own_columns(design, u, g) for g in range(n_geo)]  # (date, k) each
    shared = _shared_columns(design, n_date, n_geo)  # (date, m) each
    ys = [y[:, g] for g in range(n_geo)]
    coef, gamma, _ = _block_solve(own, shared, ys)
    resid = [ys[g] - own[g] @ coef[g] - shared[g] @ gamma for g in range(n_geo)]
    w = 1.0 / (np.sqrt([np.mean(r**2) for r in resid]) + 1e-12)  # (geo,)
    own_w = [own[g] * w[g] for g in range(n_geo)]
    shared_w = [shared[g] * w[g] for g in range(n_geo)]
    ys_w = [ys[g] * w[g] for g in range(n_geo)]
    coef, gamma, var = _block_solve(own_w, shared_w, ys_w)
    rss = sum(
        np.sum((ys_w[g] - own_w[g] @ coef[g] - shared_w[g] @ gamma) ** 2) for g in range(n_geo)
    )
    n_coef = sum(o.shape[1] for o in own) + shared[0].shape[1]
    scale = rss / max(n_date * n_geo - n_coef, 1)
    b = np.array([c[:n_channel] for c in coef])
    var = np.array([v[:n_channel] for v in var]) * scale
    varies = np.ptp(u, axis=0) > 0  # (geo, channel)
    se = np.where(varies & (var > 0), np.sqrt(np.abs(var)), np.inf)
    return b, se


def _own_columns(design, u: np.ndarray, g: int) -> np.ndarray:
    """Geo ``g``'s own columns, dims (date, k): its unit responses (first), intercept,
    trend and events."""
    n_date = u.shape[0]
    cols = [u[:, g, :], np.ones((n_date, 1)), design.trend[:n_date, None]]
    if design.events is not None and design.events.size:
        cols.append(design.events[:n_date, g, :])
    return np.column_stack(cols)


def _shared_columns(design, n_date: int, n_geo: int) -> list[np.ndarray]:
    """Each geo's rows of the shared columns (Fourier terms, controls), dims (date, m)."""
    out = []
    for g in range(n_geo):
        cols = [design.fourier[:n_date]]
        if design.controls is not None and design.controls.size:
            cols.append(design.controls[:n_date, g, :])
        out.append(np.column_stack(cols) if cols else np.zeros((n_date, 0)))
    return out


def _block_solve(own: list, shared: list, ys: list):
    """Least squares with per-geo blocks ``own[g]`` and columns ``shared[g]`` common to
    all geos, by eliminating each geo's block from the normal equations.

    Returns
    -------
    coef : list of ndarray
        Each geo's own coefficients.
    gamma : ndarray
        The shared coefficients.
    var : list of ndarray
        The diagonal of ``(X'X)^-1`` for each geo's own coefficients (times the noise
        variance, the coefficients' variance).
    """
    a_inv = [np.linalg.pinv(o.T @ o) for o in own]
    bs = [o.T @ z for o, z in zip(own, shared)]
    cs = [o.T @ y for o, y in zip(own, ys)]
    schur = sum(z.T @ z for z in shared) - sum(b.T @ ai @ b for b, ai in zip(bs, a_inv))
    rhs = sum(z.T @ y for z, y in zip(shared, ys)) - sum(
        b.T @ ai @ c for b, ai, c in zip(bs, a_inv, cs)
    )
    s_inv = np.linalg.pinv(np.atleast_2d(schur))
    gamma = s_inv @ np.atleast_1d(rhs)
    coef = [ai @ (c - b @ gamma) for ai, b, c in zip(a_inv, bs, cs)]
    var = [
        np.diag(ai) + np.einsum("ij,jk,ik->i", ai @ b, s_inv, ai @ b) for ai, b in zip(a_inv, bs)
    ]
    return coef, gamma, var


def relative_errors(b: np.ndarray, se: np.ndarray, spec: ModelSpec):
    """Standard errors on the log scale and the spread of log effects across geos, from
    the model's own hierarchy fitted to the regressions.

    Per channel, ``b[g] ~ Normal(beta[g], se[g])`` with ``log beta[g] ~ Normal(mu, sigma)``
    and the spec's priors on ``beta_mu`` and ``beta_sigma``: the posterior of ``(mu,
    sigma)`` on a grid, each geo's ``beta`` integrated out by Gauss–Hermite quadrature.

    Parameters
    ----------
    b, se : ndarray, dims (geo, channel)
        :func:`geo_regressions`' coefficients and standard errors.

    Returns
    -------
    s : ndarray, dims (geo, channel)
        ``se / beta_hat``, the standard error of ``log beta`` from each geo's data alone,
        with ``beta_hat`` the posterior geometric mean of the geo's coefficient (shrunk,
        so that a chance excursion does not pass for a well-measured effect).
    sigma : ndarray, dims (channel,)
        The posterior root-mean-square of ``sigma``.
    """
    log_beta, sigma = _shrunk_log_beta(b, se, spec)
    s = np.full(b.shape, np.inf)
    ok = np.isfinite(log_beta)
    s[ok] = se[ok] / np.exp(log_beta[ok])
    return s, sigma


def _shrunk_log_beta(b: np.ndarray, se: np.ndarray, spec: ModelSpec):
    """Each cell's posterior mean ``log beta`` under the model's hierarchy (dims (geo,
    channel), NaN where the geo's data cannot measure it or the channel has fewer than two
    measurable geos) and each channel's posterior root-mean-square ``sigma`` (``SIGMA_FLOOR``
    for those channels), from :func:`_grid_posterior`."""
    log_beta = np.full(b.shape, np.nan)
    sigma = np.full(b.shape[1], SIGMA_FLOOR)
    mu_prior, sigma_prior = _hyperprior(spec)
    for c in range(b.shape[1]):
        ok = np.isfinite(se[:, c])
        if ok.sum() >= 2:
            log_beta[ok, c], sigma[c] = _grid_posterior(b[ok, c], se[ok, c], mu_prior, sigma_prior)
    return log_beta, sigma


MU_GRID, SIGMA_GRID, NODES = 41, 40, 24


def _grid_posterior(b, se, mu_prior, sigma_prior):
    """Posterior of the hierarchy of one channel on a (mu, sigma) grid.

    Returns
    -------
    log_beta : ndarray, dims (geo,)
        Posterior mean of each geo's ``log beta``.
    sigma : float
        Posterior root-mean-square of ``sigma``.
    """
    m0, s0 = mu_prior
    mu = np.linspace(m0 - 3 * s0, m0 + 3 * s0, MU_GRID)
    sig = np.linspace(0.01, SIGMA_CAP, SIGMA_GRID)
    x, wx = np.polynomial.hermite_e.hermegauss(NODES)
    log_wx = np.log(wx / wx.sum())
    # log beta at (mu, sigma, node), and the density of each geo's estimate there
    lb = mu[:, None, None] + sig[None, :, None] * x[None, None, :]
    z = (b[:, None, None, None] - np.exp(lb)[None]) / se[:, None, None, None]
    log_node = -0.5 * z**2 + log_wx  # (geo, mu, sigma, node), up to constants per geo
    log_lik = np.logaddexp.reduce(log_node, axis=-1)  # (geo, mu, sigma)
    log_post = log_lik.sum(axis=0) - 0.5 * ((mu - m0) / s0)[:, None] ** 2
    log_post = log_post - 0.5 * (sig / sigma_prior)[None, :] ** 2
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    sigma = float(np.sqrt(np.sum(post * sig[None, :] ** 2)))
    # each geo's log beta: node weights given (mu, sigma), averaged over the grid posterior
    node_post = np.exp(log_node - log_lik[..., None])  # (geo, mu, sigma, node)
    log_beta = np.einsum("gijk,ijk,ij->g", node_post, lb, post)
    return log_beta, sigma


def _hyperprior(spec: ModelSpec) -> tuple[tuple[float, float], float]:
    """``beta_mu``'s (mean, sd) and ``beta_sigma``'s scale, read from the spec's priors
    (Normal and HalfNormal by default; other families by their first two parameters)."""
    mu = spec.prior("beta_mu").parameters
    sigma = spec.prior("beta_sigma").parameters
    return (
        (float(np.mean(mu.get("mu", -2.5))), float(np.mean(mu.get("sigma", 1.0)))),
        float(np.mean(sigma.get("sigma", 0.3))),
    )


def _prior_median(spec: ModelSpec, name: str, channels: Sequence[str]) -> np.ndarray:
    """The median of the prior of transform parameter ``name``, dims (channel,), or on the
    parameter's own channels in a spec that mixes kinds (the sub-dim
    ``media_response`` reads it on).

    Closed form for the priors the registry declares (Beta, LogNormal, TruncatedNormal,
    Gamma, HalfNormal, Normal); any other prior is sampled once.
    """
    prior = spec.prior(name)
    users = spec.parameter_channels(name, channels)
    median = _closed_form_median(prior.distribution, prior.parameters)
    if median is None:
        draws = prior.sample_prior(coords={d: users for d in prior.dims}, draws=400, random_seed=0)
        values = draws["variable"].values
        median = np.median(values.reshape(-1, *values.shape[2:]), axis=0)
    return np.broadcast_to(np.asarray(median, dtype=float), (len(users),)).copy()


def _closed_form_median(distribution: str, params: dict):
    """The median of a prior with plain numeric parameters, or None."""
    from scipy import stats

    if any(not isinstance(v, int | float | np.ndarray | list) for v in params.values()):
        return None  # e.g. a hierarchical prior with Prior-valued parameters
    p = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    if distribution == "Beta" and {"alpha", "beta"} <= set(p):
        return stats.beta.median(p["alpha"], p["beta"])
    if distribution == "LogNormal" and {"mu", "sigma"} <= set(p):
        return np.exp(p["mu"])
    if distribution in ("Normal", "TruncatedNormal") and {"mu", "sigma"} <= set(p):
        lo = (p.get("lower", -np.inf) - p["mu"]) / p["sigma"]
        hi = (p.get("upper", np.inf) - p["mu"]) / p["sigma"]
        return stats.truncnorm.median(lo, hi, loc=p["mu"], scale=p["sigma"])
    if distribution == "Gamma" and {"alpha", "beta"} <= set(p):
        return stats.gamma.median(p["alpha"], scale=1.0 / p["beta"])
    if distribution == "HalfNormal" and "sigma" in p:
        return stats.halfnorm.median(scale=p["sigma"])
    return None
