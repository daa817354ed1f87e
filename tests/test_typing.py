"""Type information for users' editors and checkers, and a ``Fit`` that refuses missing parts."""

from pathlib import Path

import pytest

import bayes_mmm as bm


def test_the_package_ships_its_type_marker():
    assert (Path(bm.__file__).parent / "py.typed").is_file()


def test_fit_without_its_parts_is_a_type_error(tiny_fit):
    with pytest.raises(TypeError, match=r"missing: \['idata'\]"):
        bm.Fit(data=tiny_fit.data, spec=tiny_fit.spec)
    with pytest.raises(TypeError, match=r"missing: \['data', 'spec', 'idata'\]"):
        bm.Fit()
    same = bm.Fit(data=tiny_fit.data, spec=tiny_fit.spec, idata=tiny_fit.idata, meta=tiny_fit.meta)
    assert same.roi().equals(tiny_fit.roi())
