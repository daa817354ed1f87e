import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm


def test_defaults():
    s = bm.ModelSpec()
    assert (s.adstock, s.l_max, s.saturation, s.trend, s.yearly_seasonality) == (
        "geometric",
        8,
        "hill",
        True,
        2,
    )
    assert s.resolved_pooling(10) == "hierarchical"
    assert s.resolved_pooling(1) == "pooled"


def test_dict_and_toml_roundtrip(tmp_path):
    s = bm.ModelSpec(
        l_max=6,
        saturation="log",
        pooling="unpooled",
        likelihood="student_t",
        priors={"alpha": Prior("Beta", alpha=2, beta=2), "sigma": Prior("HalfNormal", sigma=0.3)},
    )
    assert bm.ModelSpec.from_dict(s.to_dict()) == s
    path = tmp_path / "spec.toml"
    s.to_toml(path)
    assert bm.ModelSpec.from_toml(path) == s


def test_prior_override_gets_default_dims():
    s = bm.ModelSpec(priors={"alpha": Prior("Beta", alpha=2, beta=5)})
    assert s.prior("alpha").dims == ("channel",)
    assert s.prior("alpha").parameters == {"alpha": 2, "beta": 5}
    assert s.prior("ec") == bm.DEFAULT_PRIORS["ec"]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"saturation": "tanh"}, "saturation"),
        ({"l_max": 0}, "l_max"),
        ({"pooling": "partial"}, "pooling"),
        ({"priors": {"alfa": Prior("Beta", alpha=1, beta=1)}}, "alfa"),
        ({"likelihood": "poisson"}, "likelihood"),
    ],
)
def test_bad_spec_raises_spec_error(kwargs, words):
    with pytest.raises(bm.SpecError, match=words):
        bm.ModelSpec(**kwargs)


def test_unknown_option_in_dict():
    with pytest.raises(bm.SpecError, match="lmax"):
        bm.ModelSpec.from_dict({"lmax": 3})
