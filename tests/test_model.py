import numpy as np
import pytest
from pytensor.graph.traversal import ancestors

import bayes_mmm as bm
from bayes_mmm import analysis


@pytest.fixture(scope="module")
def data():
    df, _ = bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3)
    return bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=["tv", "search", "social"],
        geo="geo",
        controls=["control_1"],
    )


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


def test_graph_and_numpy_contributions_agree(data):
    """The deterministic in the PyMC graph equals the numpy path on the same parameters
    (exactly in the default float64 graph; the float32 media path: ``test_features``)."""
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


def test_centred_channels_give_the_same_model_in_another_parameterisation():
    """``centred`` changes only how ``beta`` is sampled: the same (beta_mu, beta_sigma,
    log beta) point has the same joint density up to the log-Jacobian of z = (log β − μ)/σ
    (−log σ per centred geo coefficient), and the spec round-trips and checks names."""
    df, _ = bm.simulate(n_geos=3, n_weeks=30, n_channels=2, seed=4)
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=["tv", "search"],
        geo="geo",
        controls=["control_1"],
    )
    plain = bm.build_model(data, bm.ModelSpec())
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
    other["beta_z"] = np.where([False, True], log_beta, z)  # search holds log beta itself
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
    # Hill runs in float32 on the (channel, date·geo) cube, through the fused kernel
    # (tests/test_fused_hill.py).
    cube = (len(data.channels), len(data.dates) * len(data.geos))
    hill = [
        v
        for v in ancestors([fast.logp()])
        if v.type.shape == cube and v.owner and type(v.owner.op).__name__ == "HillChannelFirst"
    ]
    assert hill and {v.type.dtype for v in hill} == {"float32"}
    spec = bm.ModelSpec(float32=True)
    assert "float32" in spec.to_toml() and "float32" not in bm.ModelSpec().to_toml()
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    with pytest.raises(bm.SpecError, match="float32"):
        bm.ModelSpec(float32="yes")
