"""Response functions on numpy draws: the media response of a mixed spec, controls with
adstock, and lift-test windows against the data's dates."""

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm.calibration import LiftTest
from bayes_mmm.response import control_response, make_design, media_response
from bayes_mmm.transforms import geometric_adstock


def test_mixed_spec_must_match_the_media():
    spec = bm.ModelSpec(saturation={"tv": "log", "search": "hill"})  # not resolved: 2 of 3
    params = {"alpha": np.full((1, 3), 0.3), "beta": np.ones((1, 1, 3))}
    with pytest.raises(bm.SpecError, match="for_channels"):
        media_response(np.ones((8, 5, 1, 3)), params, spec)


def test_control_adstock_matches_geometric_adstock(tiny_fit):
    d = tiny_fit.data
    spec = bm.ModelSpec(control_adstock=["control_1"], l_max=4)
    design = make_design(d, spec)
    params = {"control_coef": np.array([[0.5]]), "control_alpha": np.array([[0.6]])}
    got = control_response(design, params)[0, ..., 0]  # (date, geo)
    x = design.controls[..., 0]
    expect = 0.5 * geometric_adstock(x[..., None], np.array([0.6]), 4)[..., 0]
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    plain = control_response(make_design(d, bm.ModelSpec(l_max=4)), params)[0, ..., 0]
    np.testing.assert_allclose(plain, 0.5 * x)
    assert not np.allclose(got, plain)


def test_lift_tests_must_fall_in_the_data(tiny_fit):
    spec = bm.ModelSpec(lift_tests=[LiftTest("tv", "1990-01-01", "1990-02-01", 1.0, 1.0)])
    with pytest.raises(bm.SpecError, match="covers no period"):
        bm.build_model(tiny_fit.data, spec)
    spec = bm.ModelSpec(lift_tests=[LiftTest("radio", "2022-01-01", "2022-02-01", 1.0, 1.0)])
    with pytest.raises(bm.SpecError, match="radio"):
        bm.build_model(tiny_fit.data, spec)
