"""``ModelSpec``: defaults, round trips, and the checks of every option on its own and
against the data's names."""

import pytest
from pymc_extras.prior import Prior

import bayes_mmm as bm
from bayes_mmm.calibration import LiftTest

CHANNELS = ["tv", "search", "social"]
MIXED = {"search": "log", "social": "neg_exp"}


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
        ({"saturation": "sigmoid"}, "saturation"),
        ({"adstock": "binomial"}, "adstock"),
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


def test_mixed_saturation_spec_roundtrips_and_resolves(tmp_path):
    spec = bm.ModelSpec(saturation=MIXED)
    assert bm.ModelSpec.from_dict(spec.to_dict()) == spec
    spec.to_toml(tmp_path / "s.toml")
    assert bm.ModelSpec.from_toml(tmp_path / "s.toml") == spec
    resolved = spec.for_channels(CHANNELS)
    assert list(resolved.saturation.items()) == [
        ("tv", "hill"),
        ("search", "log"),
        ("social", "neg_exp"),
    ]
    assert resolved.saturation_param_names() == ("ec", "slope", "lam")
    # One kind for every channel collapses to the plain string (default layout).
    assert bm.ModelSpec(saturation={"tv": "log", "search": "log", "social": "log"}).for_channels(
        CHANNELS
    ) == bm.ModelSpec(saturation="log")


def test_bad_saturation_mapping_is_a_spec_error():
    with pytest.raises(bm.SpecError, match="'sigmoid'"):
        bm.ModelSpec(saturation={"tv": "sigmoid"})
    with pytest.raises(bm.SpecError, match=r"\['radio'\]"):
        bm.ModelSpec(saturation={"radio": "log"}).for_channels(CHANNELS)


def test_lift_tests_are_spec_values_that_round_trip():
    spec = bm.ModelSpec(
        lift_tests=[
            {
                "channel": "tv",
                "start": "2022-03-07",
                "end": "2022-04-25",
                "lift": 1e5,
                "se": 1e4,
                "geos": ["geo_00"],
            }
        ]
    )
    assert spec.lift_tests[0] == LiftTest("tv", "2022-03-07", "2022-04-25", 1e5, 1e4, ("geo_00",))
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    with pytest.raises(bm.SpecError, match="se > 0"):
        LiftTest("tv", "2022-03-07", "2022-04-25", 1e5, 0.0)
    with pytest.raises(bm.SpecError, match="before start"):
        LiftTest("tv", "2022-04-25", "2022-03-07", 1e5, 1.0)


def test_roi_priors_round_trip_and_name_paid_channels(make_panel):
    data, _, _ = make_panel(n_geos=1, n_weeks=104, n_channels=2, seed=7, geo=None)
    spec = bm.ModelSpec(roi_priors={"tv": Prior("LogNormal", mu=0.5, sigma=0.2)})
    assert bm.ModelSpec.from_toml(spec.to_toml()) == spec
    assert bm.ModelSpec.from_dict(spec.to_dict()).roi_priors == spec.roi_priors
    assert (
        "roi_priors" not in bm.ModelSpec().to_dict()
    )  # specs without ROI priors serialise without the key
    with pytest.raises(bm.SpecError, match="Prior"):
        bm.ModelSpec(roi_priors={"tv": 2.0})
    with pytest.raises(bm.SpecError, match="'radio', which is not a channel"):
        bm.build_model(data, bm.ModelSpec(roi_priors={"radio": Prior("LogNormal")}))
    national = dict(n_geos=1, n_weeks=60, n_channels=2, seed=7, geo=None, controls=())
    organic, _, _ = make_panel(**national, media=["tv"], from_frame={"organic": ["search"]})
    with pytest.raises(bm.SpecError, match="organic channel"):
        bm.build_model(organic, bm.ModelSpec(roi_priors={"search": Prior("LogNormal")}))
    shared, _, _ = make_panel(**national, from_frame={"spend": {"tv": "tv", "search": "tv"}})
    with pytest.raises(bm.SpecError, match="pays for several"):
        bm.build_model(shared, bm.ModelSpec(roi_priors={"tv": Prior("LogNormal")}))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"control_adstock": ["price"]}, "not controls of the data"),
        ({"mediators": {"search": ["nope"]}}, "not channels of the"),
    ],
)
def test_driver_options_name_data_columns(tiny_fit, kwargs, match):
    with pytest.raises(bm.SpecError, match=match):
        bm.build_model(tiny_fit.data, bm.ModelSpec(**kwargs))


def test_driver_options_are_validated_on_the_spec():
    with pytest.raises(bm.SpecError, match="list of control names"):
        bm.ModelSpec(control_adstock="promotions")
    with pytest.raises(bm.SpecError, match="one level of mediation"):
        bm.ModelSpec(mediators={"search": ["social"], "social": ["tv"]})
    assert bm.ModelSpec().to_dict() == bm.ModelSpec.from_dict(bm.ModelSpec().to_dict()).to_dict()
