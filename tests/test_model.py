"""``build_model``: dims and a finite log density for every option, the graph's
deterministics against the numpy path, and each option's place in the graph (mixed
saturation, events, geo groups, centred channels, float32 media, control adstock, ROI
priors, the mediator equation)."""

import numpy as np
import pymc as pm
import pytest
from pymc_extras.prior import Prior
from pytensor.graph.traversal import ancestors

import bayes_mmm as bm
from bayes_mmm import analysis
from bayes_mmm.mediation import path_labels
from bayes_mmm.model import parameter_names
from bayes_mmm.posterior import posterior_draws
from bayes_mmm.response import baseline_response, make_design, media_response

CHANNELS = ["tv", "search", "social"]
MIXED = {"search": "log", "social": "neg_exp"}


@pytest.fixture(scope="module")
def data(make_panel):
    return make_panel()[0]


def _graph_values(model, names, seed=0):
    """Values of ``names`` at a jittered initial point (so no parameter sits at a default).

    Both the initial point and the jitter are seeded, so each test sees the same values
    whatever ran before it.
    """
    rng = np.random.default_rng(seed)
    start = model.initial_point(random_seed=seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in start.items()}
    fn = model.compile_fn(
        [model[n] for n in names],
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    return dict(zip(names, fn(point)))


@pytest.mark.sampling
@pytest.mark.parametrize("pooling", ["hierarchical", "pooled", "unpooled"])
@pytest.mark.parametrize("saturation", ["hill", "log", "neg_exp"])
def test_model_dims_and_finite_logp(data, pooling, saturation):
    spec = bm.ModelSpec(pooling=pooling, saturation=saturation, likelihood="student_t")
    model = bm.build_model(data, spec)
    for dim in ("date", "geo", "channel", "control", "fourier"):
        assert dim in model.coords
    assert model.named_vars_to_dims["channel_contribution"] == ("date", "geo", "channel")
    assert model.named_vars_to_dims["beta"] == ("geo", "channel")
    logp = model.compile_logp()(model.initial_point())
    assert np.isfinite(logp)


@pytest.mark.sampling
def test_graph_and_numpy_contributions_agree(data):
    """The deterministic in the PyMC graph equals the numpy path on the same parameters
    (exactly in the default float64 graph; the float32 media path:
    ``test_mixed_saturation_graph_and_numpy_contributions_agree``)."""
    spec = bm.ModelSpec()
    model = bm.build_model(data, spec)
    point = model.initial_point()
    names = ["alpha", "ec", "slope", "beta", "intercept", "trend", "season", "control_coef"]
    fn = model.compile_fn(
        [model[n] for n in [*names, "channel_contribution"]],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    values = fn(point)
    params = {n: v[None] for n, v in zip(names, values[:-1])}
    numpy_contrib = analysis.channel_contribution_draws(data, spec, params)[0]
    np.testing.assert_allclose(numpy_contrib, values[-1], rtol=1e-10)


def test_national_model_has_no_hierarchy(data):
    frame = data.to_frame()
    nat = frame[frame.geo == "geo_00"].drop(columns="geo")
    d = bm.MMMData.from_frame(nat, date="date", target="revenue", media=["tv", "search", "social"])
    model = bm.build_model(d, bm.ModelSpec())
    assert "beta_z" not in model.named_vars and "beta_mu" in model.named_vars


@pytest.mark.sampling
def test_centred_channels_give_the_same_model_in_another_parameterisation(make_panel):
    """``centred`` changes only how ``beta`` is sampled: the same (beta_mu, beta_sigma,
    log beta) point has the same joint density up to the log-Jacobian of z = (log β − μ)/σ
    (−log σ per centred geo coefficient), and the spec round-trips and checks names."""
    data, _, _ = make_panel(n_weeks=30, n_channels=2, seed=4)
    plain = bm.build_model(data, bm.ModelSpec(centred=()))
    spec = bm.ModelSpec(centred=("search",))
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    centred = bm.build_model(data, spec)
    point = plain.initial_point()
    rng = np.random.default_rng(0)
    point = {k: v + 0.1 * rng.normal(size=np.shape(v)) for k, v in point.items()}
    sigma = np.exp(point["beta_sigma_log__"])
    z = point["beta_z"]
    log_beta = point["beta_mu"][None, :] + sigma[None, :] * z
    other = dict(point)
    # search holds log beta itself, less the prior mean of beta_mu (-2.5)
    other["beta_z"] = np.where([False, True], log_beta + 2.5, z)
    lp_plain = plain.compile_logp()(point)
    lp_centred = centred.compile_logp()(other)
    jac = -3 * np.log(sigma[1])  # 3 geos of the centred channel
    assert lp_centred == pytest.approx(lp_plain + jac, rel=1e-10)
    beta = []
    for m, p in ((plain, point), (centred, other)):
        out = m.replace_rvs_by_values([m["beta"]])[0]
        beta.append(m.compile_fn(out, inputs=m.value_vars, on_unused_input="ignore")(p))
    np.testing.assert_allclose(beta[0], beta[1], rtol=1e-12)
    with pytest.raises(bm.SpecError, match="centred"):
        bm.build_model(data, bm.ModelSpec(centred=("radio",)))


@pytest.mark.sampling
def test_partial_centring_is_the_same_model(make_panel, monkeypatch):
    """Weights strictly between 0 and 1 (``centred="auto"``, here forced) give the same
    density as the non-centred graph up to the Jacobian ``-w·log σ`` per cell, the same
    ``beta``, and ``"auto"`` round-trips through TOML."""
    import bayes_mmm.model as model_module

    data, _, _ = make_panel(n_weeks=30, n_channels=2, seed=4)
    w = np.array([[0.25, 0.9], [0.5, 0.0], [1.0, 0.6]])
    monkeypatch.setattr(model_module, "centring_weights", lambda d, s: w)
    assert bm.ModelSpec().centred == () and "centred" not in bm.ModelSpec().to_dict()
    assert bm.ModelSpec.from_toml(bm.ModelSpec(centred="auto").to_toml()).centred == "auto"
    plain = bm.build_model(data, bm.ModelSpec())
    partial = bm.build_model(data, bm.ModelSpec(centred="auto"))
    rng = np.random.default_rng(1)
    point = {k: v + 0.1 * rng.normal(size=np.shape(v)) for k, v in plain.initial_point().items()}
    sigma = np.exp(point["beta_sigma_log__"])[None, :]
    mu = point["beta_mu"][None, :]
    log_beta = mu + sigma * point["beta_z"]
    m0 = -2.5  # the prior mean of beta_mu
    other = dict(point, beta_z=w * (mu - m0) + sigma ** (w - 1.0) * (log_beta - mu))
    lp_plain = plain.compile_logp()(point)
    lp_partial = partial.compile_logp()(other)
    assert lp_partial == pytest.approx(lp_plain - np.sum(w * np.log(sigma)), rel=1e-10)
    beta = []
    for m, p in ((plain, point), (partial, other)):
        out = m.replace_rvs_by_values([m["beta"]])[0]
        beta.append(m.compile_fn(out, inputs=m.value_vars, on_unused_input="ignore")(p))
    np.testing.assert_allclose(beta[0], beta[1], rtol=1e-10)


@pytest.mark.sampling
def test_float32_media_path_matches_the_float64_graph(data):
    """``float32=True`` computes the media cube in float32 (the speed-up measured in
    ``benchmarks/RESULTS.md``); its log density and gradient match the float64 graph's to
    single precision, and the option round-trips through TOML."""
    fast, exact = (bm.build_model(data, bm.ModelSpec(float32=f)) for f in (True, False))
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in exact.initial_point().items()}
    lp = [m.compile_logp(mode="FAST_COMPILE")(point) for m in (fast, exact)]
    assert lp[0] != lp[1]  # really another graph
    assert lp[0] == pytest.approx(lp[1], rel=1e-6)
    grads = [m.compile_dlogp(mode="FAST_COMPILE")(point) for m in (fast, exact)]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-3 * np.abs(grads[1]).max())
    # Adstock and Hill run in float32 on the (channel, date·geo) cube, through the fused
    # kernel (tests/test_fused_hill.py).
    cube = (len(data.channels), len(data.dates) * len(data.geos))
    hill = [
        v
        for v in ancestors([fast.logp()])
        if v.type.shape == cube and v.owner and type(v.owner.op).__name__ == "AdstockHill"
    ]
    assert hill and {v.type.dtype for v in hill} == {"float32"}
    spec = bm.ModelSpec(float32=True)
    assert "float32" in spec.to_toml() and "float32" not in bm.ModelSpec().to_toml()
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    with pytest.raises(bm.SpecError, match="float32"):
        bm.ModelSpec(float32="yes")


# ---------------------------------------------------------------------- mixed saturation
def test_mixed_saturation_samples_only_the_parameters_each_kind_uses(event_panel):
    spec = bm.ModelSpec(saturation=MIXED)
    model = bm.build_model(event_panel, spec)
    dims = model.named_vars_to_dims
    assert dims["ec"] == ("hill_channel",) and dims["slope"] == ("hill_channel",)
    assert dims["lam"] == ("lam_channel",)
    assert model.coords["hill_channel"] == ("tv",)
    assert model.coords["lam_channel"] == ("search", "social")
    names = parameter_names(event_panel, spec)
    assert {"ec", "slope", "lam"} <= set(names)
    assert "lam" not in parameter_names(event_panel, bm.ModelSpec())


@pytest.mark.sampling
@pytest.mark.parametrize("float32, rtol", [(False, 1e-10), (True, 1e-5)])
def test_mixed_saturation_graph_and_numpy_contributions_agree(event_panel, float32, rtol):
    spec = bm.ModelSpec(saturation={"tv": "log", "social": "neg_exp"}, float32=float32)
    model = bm.build_model(event_panel, spec)  # search: Hill
    names = ["alpha", "ec", "slope", "lam", "beta", "channel_contribution"]
    values = _graph_values(model, names)
    params = {n: values[n][None] for n in names[:-1]}
    resolved = spec.for_channels(event_panel.channels)
    numpy_contrib = analysis.channel_contribution_draws(event_panel, resolved, params)[0]
    np.testing.assert_allclose(numpy_contrib, values["channel_contribution"], rtol=rtol)
    # Each channel really uses its own kind: log is unbounded, neg_exp and Hill are not.

    def peak(scale):
        """Each channel's largest response per unit coefficient at ``scale`` × the media."""
        design = make_design(event_panel, resolved, media=event_panel.media * scale)
        return (media_response(design.stack, params, resolved)[0] / params["beta"][0][None]).max(
            axis=(0, 1)
        )

    ratio = peak(50)
    # tv, log: unbounded, so at 50× typical exposure it passes the ceiling of 1 that
    # bounds Hill and neg_exp, and it keeps growing between 10× and 50×. Once
    # log1p(50 a) > 1, the step log((1 + 50 a) / (1 + 10 a)) is above 0.70.
    assert ratio[0] > 1.0
    assert ratio[0] - peak(10)[0] > 0.7
    assert ratio[2] < 1.0 / (1.0 - np.exp(-params["lam"][0, 1])) + 1e-9  # neg_exp ceiling


# ---------------------------------------------------------------------- events
@pytest.mark.sampling
def test_events_become_per_geo_hierarchical_baseline_terms(event_panel):
    assert event_panel.events == ("xmas",)
    assert event_panel.event_values.shape == (60, 3, 1)
    spec = bm.ModelSpec()  # float64: exact
    model = bm.build_model(event_panel, spec)
    assert model.named_vars_to_dims["event_coef"] == ("geo", "event")
    assert model["event_coef"] in model.free_RVs  # centred: data pin each geo's surge
    assert {"event_coef", "event_mu", "event_sigma"} <= set(parameter_names(event_panel, spec))
    names = ["alpha", "ec", "slope", "beta", "intercept", "level", "trend", "season"]
    names += ["control_coef", "event_coef"]
    values = _graph_values(model, names, seed=1)
    params = {n: v[None] for n, v in values.items()}
    assert np.ptp(values["event_coef"]) > 0  # one size per geo
    # The graph derives the intercept so that the mean of the full numpy mean is the level:
    # this holds only if the numpy baseline includes the events exactly as the graph does.
    design = make_design(event_panel, spec)
    mean = baseline_response(design, params, spec) + media_response(design.stack, params, spec).sum(
        -1
    )
    np.testing.assert_allclose(mean[0].mean(axis=0), values["level"], rtol=1e-10)
    without = baseline_response(design, {**params, "event_coef": 0 * params["event_coef"]}, spec)
    xmas = event_panel.event_values[..., 0] > 0
    diff = (mean[0] - media_response(design.stack, params, spec).sum(-1)[0]) - without[0]
    np.testing.assert_allclose(
        diff[xmas], np.broadcast_to(values["event_coef"][:, 0], diff.shape)[xmas]
    )
    np.testing.assert_allclose(diff[~xmas], 0.0, atol=1e-12)


# ---------------------------------------------------------------------- geo groups
@pytest.mark.sampling
def test_geo_groups_add_a_non_centred_group_level(region_frame):
    data = bm.MMMData.from_frame(
        region_frame, date="date", target="revenue", media=CHANNELS, geo="geo", geo_group="region"
    )
    assert data.geo_group == ("north", "north", "south", "south")
    back = bm.MMMData.from_dataset(data.to_dataset())
    assert back.geo_group == data.geo_group and back.data_hash == data.data_hash
    model = bm.build_model(data, bm.ModelSpec(centred=()))  # the non-centred layout below
    assert model.named_vars_to_dims["group_z"] == ("geo_group", "channel")
    assert model.coords["geo_group"] == ("north", "south")
    assert {"group_sigma", "group_z"} <= set(parameter_names(data, bm.ModelSpec()))
    values = _graph_values(
        model, ["beta_mu", "beta_sigma", "beta_z", "group_sigma", "group_z", "beta"]
    )
    log_beta = (
        values["beta_mu"][None]
        + values["group_sigma"][None] * values["group_z"][[0, 0, 1, 1]]
        + values["beta_sigma"][None] * values["beta_z"]
    )
    np.testing.assert_allclose(values["beta"], np.exp(log_beta), rtol=1e-10)
    # Pooled models and panels without groups keep the two-level layout.
    assert "group_z" not in bm.build_model(data, bm.ModelSpec(pooling="pooled")).named_vars
    plain = bm.MMMData.from_frame(
        region_frame, date="date", target="revenue", media=CHANNELS, geo="geo"
    )
    assert "group_z" not in bm.build_model(plain, bm.ModelSpec()).named_vars


# ---------------------------------------------------------------------- drivers
def test_control_adstock_in_the_graph(tiny_fit):
    spec = bm.ModelSpec(control_adstock=["control_1"])
    model = bm.build_model(tiny_fit.data, spec)
    assert "control_alpha" in model.named_vars
    assert model.named_vars_to_dims["control_alpha"] == ("adstock_control",)
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.sampling
@pytest.mark.parametrize("panel", ["national", "geo"])
def test_roi_prior_is_the_roi_of_analysis(make_panel, tiny_fit, panel):
    """Prior draws: the ROI that ``analysis.roi_draws`` computes from the derived ``beta`` is
    the sampled ``roi_tv`` draw by draw (carryover tail included), centred where asked; on a
    geo panel the channel-level ROI is exact while geo coefficients keep their spread."""
    if panel == "national":
        data = make_panel(n_geos=1, n_weeks=104, n_channels=2, seed=7, geo=None)[0]
    else:
        data = tiny_fit.data
    tight = Prior("LogNormal", mu=np.log(3.0), sigma=0.1)
    spec = bm.ModelSpec(yearly_seasonality=1, roi_priors={"tv": tight})
    spec = spec.for_channels(data.channels)
    prior = pm.sample_prior_predictive(draws=300, model=bm.build_model(data, spec), random_seed=1)
    prior = prior["prior"].to_dataset()
    draws, shape = posterior_draws(prior, [n for n in parameter_names(data, spec) if n in prior])
    roi = analysis.roi_draws(data, spec, draws, shape).sel(channel="tv")
    np.testing.assert_allclose(roi.values, prior["roi_tv"].values, rtol=1e-9)
    assert float(roi.median()) == pytest.approx(3.0, rel=0.03)
    if panel == "geo":
        tv = draws["beta"][..., data.channels.index("tv")]  # (sample, geo)
        assert np.std(tv / tv.mean(axis=1, keepdims=True)) > 0.01
    # search has no ROI prior: its ROI still follows from its coefficient prior
    assert float(analysis.roi_draws(data, spec, draws, shape).sel(channel="search").std()) > 0.1


# ---------------------------------------------------------------------- mediation
def test_model_has_the_mediator_equation(drivers_panel):
    data, spec, *_ = drivers_panel
    model = bm.build_model(data, spec)
    observed = model.rvs_to_values[model["mediator_obs"]].eval()  # (date, geo, mediator)
    assert model.named_vars_to_dims["mediator_obs"] == ("date", "geo", "mediator")
    google = data.channels.index("google_spend")
    expect = data.media[..., [google]] / data.scaling.media[None, :, [google]]
    np.testing.assert_allclose(observed, expect)
    assert model.named_vars_to_dims["mediator_coef"] == ("path",)
    assert list(model.coords["path"]) == path_labels(spec)
