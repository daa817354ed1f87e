"""Numerical edge cases are handled by design, not by NaNs downstream.

Each panel below is a legal but awkward input: Hill saturation with slope < 1 at zero
media (the derivative in media is unbounded there), log saturation at 0, a channel that
never spends in one geo, a geo whose target is constant, and a national panel. For each,
``build_model``'s log density and its gradient are finite at the initial point and at
points pushed to the edges of the parameter space, and ``analysis`` on draws at extreme
parameter values (slope 0.5, decay near 0 and 1, tiny and huge half-saturation) gives
finite contributions, baselines and ROI.

The log density is compiled with ``FAST_COMPILE``, i.e. without pytensor's stabilising
rewrites, so a pass means the guards are in the graph as written (``transforms.hill``'s
zero guard, ``log1p``/``expm1``), not an accident of graph rewriting.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm import analysis
from bayes_mmm.model import parameter_names

LOW_SLOPE = bm.ModelSpec(
    priors={"slope": Prior("TruncatedNormal", mu=0.6, sigma=0.1, lower=0.5, upper=3.0)}
)


def awkward(df):
    """tv never spends in geo_01 and geo_02's target is constant."""
    df = df.assign(tv=np.where(df.geo == "geo_01", 0.0, df.tv))
    return df.assign(revenue=np.where(df.geo == "geo_02", 5000.0, df.revenue))


def first_geo(df):
    return df[df.geo == "geo_00"].drop(columns="geo")


# Every case has zero-media weeks (the simulated channels are spiky); the awkward panel adds
# a channel that never spends in one geo and a geo whose target is constant.
# Each case: (frame preparation, geo column, spec).
CASES = {
    "hill_slope_below_one_at_zero_media": (awkward, "geo", LOW_SLOPE),
    "log_saturation_at_zero": (
        awkward,
        "geo",
        bm.ModelSpec(saturation="log", likelihood="student_t"),
    ),
    "neg_exp_at_zero": (awkward, "geo", bm.ModelSpec(saturation="neg_exp", pooling="unpooled")),
    "national_panel": (first_geo, None, LOW_SLOPE),
}


@pytest.fixture(scope="module")
def panel(make_panel):
    """The 3-geo × 40-week panel (seed 5) read from the prepared frame."""

    def build(prepare, geo):
        return make_panel(n_weeks=40, seed=5, prepare=prepare, geo=geo)[0]

    return build


def edge_points(model):
    """The initial point, and copies pushed towards the edges of each constrained space."""
    start = model.initial_point()
    points = [start]
    for value in (-8.0, 8.0):  # logit/log space: alpha → 0/1, ec and lam → tiny/huge,
        p = dict(start)  #         slope → its bounds 0.5/3, sigma → tiny/huge
        for name in p:
            if name.endswith("__"):  # transformed (constrained) parameters only
                p[name] = np.full_like(p[name], value)
        points.append(p)
    return points


def extreme_draws(data, spec):
    """Hand-made parameter draws (sample, ...) at the edges of the priors' support."""
    n_g, n_c, n_k = len(data.geos), len(data.channels), len(data.controls)
    rows = [  # (alpha, ec, slope, lam, beta)
        (1e-6, 1e-3, 0.5, 1e-3, 1e-4),
        (0.999, 1e3, 3.0, 1e3, 2.0),
        (0.5, 1.0, 0.5, 1.0, 0.1),
        (0.3, 1e-2, 1.0, 1e-6, 0.5),
    ]
    out = {}
    for key, i in (("alpha", 0), ("ec", 1), ("slope", 2), ("lam", 3)):
        out[key] = np.array([[r[i]] * n_c for r in rows])
    out["beta"] = np.array([np.full((n_g, n_c), r[4]) for r in rows])
    out["intercept"] = np.ones((len(rows), n_g))
    out["level"] = np.ones((len(rows), n_g))
    out["trend"] = np.zeros((len(rows), n_g))
    out["season"] = np.zeros((len(rows), 2 * spec.yearly_seasonality))
    out["control_coef"] = np.full((len(rows), n_k), 0.1)
    out["sigma"] = np.full((len(rows), n_g), 0.05)
    return out


@pytest.mark.sampling
@pytest.mark.parametrize("name", list(CASES))
def test_logp_and_gradient_finite_at_initial_and_edge_points(panel, name):
    prepare, geo, spec = CASES[name]
    data = panel(prepare, geo)
    model = bm.build_model(data, spec)
    # FAST_COMPILE skips pytensor's stabilising rewrites: the guards must be in the graph as
    # written (and it compiles in seconds instead of tens of seconds).
    logp = model.compile_logp(mode="FAST_COMPILE")
    dlogp = model.compile_dlogp(mode="FAST_COMPILE")
    for point in edge_points(model):
        assert np.isfinite(logp(point)), (name, point)
        assert np.isfinite(dlogp(point)).all(), (name, point)


@pytest.mark.parametrize("name", list(CASES))
def test_analysis_on_extreme_draws_is_finite(panel, name):
    prepare, geo, spec = CASES[name]
    data = panel(prepare, geo)
    draws = extreme_draws(data, spec)
    names = set(parameter_names(data, spec)) & set(draws)
    draws = {k: draws[k] for k in names}
    contrib = analysis.channel_contribution_draws(data, spec, draws)
    assert contrib.shape == (4, data.n_dates, len(data.geos), len(data.channels))
    assert np.isfinite(contrib).all() and (contrib >= 0).all()
    assert np.isfinite(analysis.baseline_draws(data, spec, draws)).all()
    roi = analysis.roi_draws(data, spec, draws, (2, 2))
    assert np.isfinite(roi.values).all()
    by_geo = analysis.roi_draws(data, spec, draws, (2, 2), by="geo").values
    spend = data.spend.sum(axis=0)  # (geo, spend_group)
    # ROI of a geo that never spent on a channel is undefined (NaN), and only there
    assert np.array_equal(np.isfinite(by_geo), np.broadcast_to(spend > 0, by_geo.shape))


def test_channel_that_never_spends_in_a_geo_contributes_nothing_there(panel):
    data = panel(awkward, "geo")
    spec = bm.ModelSpec()
    draws = extreme_draws(data, spec)
    contrib = analysis.channel_contribution_draws(data, spec, draws)
    g, c = data.geos.index("geo_01"), data.channels.index("tv")
    assert np.all(contrib[:, :, g, c] == 0.0)
    assert np.all(data.scaling.media[g, c] > 0)  # the scale falls back to the panel mean
