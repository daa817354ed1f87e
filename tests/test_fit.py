"""The ``Fit`` facade: a fit of a mixed-saturation panel with events through to its bundle,
and a fit that pickles whole."""

import pickle

import numpy as np
import pandas as pd
import pytest

import bayes_mmm as bm


@pytest.mark.slow  # ~20 s alone, minutes on a busy 2-core machine (numba compile)
@pytest.mark.sampling
def test_fit_with_mixed_saturation_and_events_roundtrips(seed_panel, tmp_path):
    """A real (tiny, unconverged) fit: ROI per spend group and the bundle keep the events."""
    _, _, data, spec = seed_panel
    fit = bm.fit(data, spec, draws=60, tune=60, chains=1, random_seed=2, progress=False)
    assert fit.spec.saturation == {
        "fb": "hill",
        "google": "hill",
        "email": "log",
        "yt_paid": "hill",
        "yt_organic": "hill",
    }
    roi = fit.roi()
    assert list(roi.index) == ["fb", "google_spend"]
    assert (roi["upper"] > roi["lower"]).all()
    loaded = bm.load(fit.save(tmp_path / "b"))
    assert loaded.data.events == ("holiday",)
    pd.testing.assert_frame_equal(loaded.roi(), roi)
    assert loaded.idata["posterior"]["event_coef"].dims[-2:] == ("geo", "event")


def test_a_fit_pickles_whole(tiny_fit):
    """Without bundle_dir, Dask sends each Fit back pickled: nothing may be lost."""
    back = pickle.loads(pickle.dumps(tiny_fit))
    assert back.spec == tiny_fit.spec and back.meta == tiny_fit.meta
    assert back.idata["posterior"].to_dataset().equals(tiny_fit.idata["posterior"].to_dataset())
    np.testing.assert_array_equal(back.roi()["mean"], tiny_fit.roi()["mean"])
