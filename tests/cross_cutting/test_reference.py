"""The package's definitions against an independent reference (``tests/reference_mmm.py``:
plain loops, no ``bayes_mmm`` import).

The simulator's truth and the analyses' ROI and contributions both come from
``bayes_mmm.response``, so a wrong definition there would agree with itself; the reference
is written from the documented equations instead. ``test_a_wrong_roi_definition_is_caught``
shows the check failing on a deliberately wrong ROI (the carryover tail dropped), which the
package's own simulator-versus-analysis comparison does not notice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import reference_mmm as ref

import bayes_mmm as bm
from bayes_mmm import analysis, response
from bayes_mmm.simulate_drivers import seed003_setup, simulate_drivers
from bayes_mmm.transforms import lag_stack

TOL = 1e-9
SPEC = bm.ModelSpec()


def random_panel(seed: int, n_dates=40, n_geos=3, n_channels=3) -> tuple[bm.MMMData, dict]:
    """A panel of random media (with off weeks) and one random draw set of 4 samples."""
    rng = np.random.default_rng(seed)
    media = rng.gamma(2.0, 50.0, (n_dates, n_geos, n_channels))
    media *= rng.uniform(size=media.shape) > 0.3
    dates = pd.date_range("2024-01-01", periods=n_dates, freq="W-MON")
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, n_geos),
            "geo": np.tile([f"g{g}" for g in range(n_geos)], n_dates),
            "revenue": rng.uniform(500, 2000, n_dates * n_geos),
            "price": rng.normal(10, 1, n_dates * n_geos),
        }
    )
    channels = [f"ch{c}" for c in range(n_channels)]
    for c, name in enumerate(channels):
        frame[name] = media[..., c].reshape(-1)
    data = bm.MMMData.from_frame(
        frame, date="date", target="revenue", media=channels, geo="geo", controls=["price"]
    )
    n = 4
    draws = {
        "alpha": rng.uniform(0.05, 0.9, (n, n_channels)),
        "ec": rng.uniform(0.3, 2.5, (n, n_channels)),
        "slope": rng.uniform(0.5, 3.0, (n, n_channels)),
        "beta": rng.uniform(0.01, 0.3, (n, n_geos, n_channels)),
    }
    return data, draws


def one_draw(draws: dict, i: int) -> dict:
    return {k: v[i] for k, v in draws.items()}


def roi_mismatch(data: bm.MMMData, draws: dict) -> float:
    """Largest relative difference between the package's ROI draws (overall and by geo)
    and the reference's."""
    n = next(iter(draws.values())).shape[0]
    overall = analysis.roi_draws(data, SPEC, draws, (1, n)).values[0]  # (draw, channel)
    by_geo = analysis.roi_draws(data, SPEC, draws, (1, n), by="geo").values[0]
    worst = 0.0
    for i in range(n):
        want, want_geo = ref.roi(
            data.media, data.spend, data.target.mean(axis=0), one_draw(draws, i), SPEC.l_max
        )
        worst = max(worst, np.max(np.abs(overall[i] / want - 1)))
        worst = max(worst, np.max(np.abs(by_geo[i] / want_geo - 1)))
    return float(worst)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scalings_match_the_reference(seed):
    data, _ = random_panel(seed)
    np.testing.assert_allclose(data.scaling.media, ref.media_scale(data.media), rtol=TOL)
    np.testing.assert_allclose(data.scaling.target, ref.target_scale(data.target), rtol=TOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_contributions_match_the_reference(seed):
    data, draws = random_panel(seed)
    got = analysis.channel_contribution_draws(data, SPEC, draws)  # (sample, date, geo, ch)
    for i in range(got.shape[0]):
        want = ref.contributions(
            data.media, data.target.mean(axis=0), one_draw(draws, i), SPEC.l_max
        )
        np.testing.assert_allclose(got[i], want, rtol=TOL, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roi_matches_the_reference(seed):
    data, draws = random_panel(seed)
    assert roi_mismatch(data, draws) < TOL


def simulated(seed: int):
    frame, truth = bm.simulate(n_geos=2, n_weeks=60, n_channels=3, seed=seed)
    channels = list(truth.contributions["channel"].values)
    cube = np.stack(
        [frame.pivot(index="date", columns="geo", values=c).to_numpy() for c in channels], -1
    )
    controls = frame.pivot(index="date", columns="geo", values="control_1").to_numpy()[..., None]
    revenue = frame.pivot(index="date", columns="geo", values="revenue").to_numpy()
    return frame, truth, cube, controls, revenue


@pytest.mark.parametrize("seed", [2, 5])
def test_the_simulators_truth_matches_the_reference(seed):
    frame, truth, media, controls, revenue = simulated(seed)
    p = truth.params
    size = p["geo_size"]
    contrib = ref.contributions(media, size, p, SPEC.l_max)
    np.testing.assert_allclose(truth.contributions.values, contrib, rtol=TOL)
    roi, roi_geo = ref.roi(media, media, size, p, SPEC.l_max)
    np.testing.assert_allclose(truth.roi.to_numpy(), roi, rtol=TOL)
    np.testing.assert_allclose(truth.roi_by_geo.to_numpy(), roi_geo, rtol=TOL)
    dates = pd.DatetimeIndex(sorted(frame["date"].unique()))
    days = (dates - dates[0]).days.to_numpy(dtype=float)
    base = ref.baseline(days, controls, size, p)
    np.testing.assert_allclose(truth.baseline.values, base, rtol=TOL)
    # The data: revenue is the reference's mean plus noise of sd `noise` × geo size (0.05).
    noise = (revenue - base - contrib.sum(axis=-1)) / size
    assert abs(noise.std() / 0.05 - 1) < 0.25, noise.std()
    assert abs(noise.mean()) < 4 * 0.05 / np.sqrt(noise.size)


def test_the_mediation_truth_matches_the_reference():
    """The seed-003 generator's true direct, indirect and total effects (computed by
    ``bayes_mmm.mediation``) against the reference's mediation equations."""
    frame, truth, params = simulate_drivers(n_weeks=60, seed=1)
    kwargs, spec = seed003_setup()
    data = bm.MMMData.from_frame(frame, **kwargs)
    paths = spec.mediator_paths()
    want = ref.mediation(
        data.media, ref.target_scale(data.target), params, spec.l_max, list(data.channels), paths
    )
    for p, (up, med) in enumerate(paths):
        for effect in ("direct", "indirect", "total"):
            got = truth.loc[f"{up}->{med} {effect}", "value"]
            np.testing.assert_allclose(got, want[effect][p], rtol=TOL)
    assert (want["indirect"] > 0).all()


def test_a_wrong_roi_definition_is_caught(monkeypatch):
    """ROI without the carryover after the last date: the simulator and the analyses share
    the mistake and agree with each other, the reference does not."""
    data, draws = random_panel(0)
    assert roi_mismatch(data, draws) < TOL

    def no_tail(x, l_max, tail=0):
        return lag_stack(x, l_max)

    monkeypatch.setattr(response, "lag_stack", no_tail)
    assert roi_mismatch(data, draws) > 1e-3  # caught
    frame, truth, media, _, _ = simulated(2)
    size = truth.params["geo_size"]
    sim = bm.MMMData.from_frame(
        frame.assign(revenue=frame["geo"].map(dict(zip(truth.roi_by_geo.index, size)))),
        date="date",
        target="revenue",
        media=list(truth.contributions["channel"].values),
        geo="geo",
        controls=["control_1"],
    )
    params = {k: truth.params[k][None] for k in ("alpha", "ec", "slope", "beta")}
    package = analysis.roi_draws(sim, SPEC, params, (1, 1)).values[0, 0]
    np.testing.assert_allclose(package, truth.roi.to_numpy(), rtol=TOL)  # self-consistent
    true_roi, _ = ref.roi(media, media, size, truth.params, SPEC.l_max)
    assert np.max(np.abs(truth.roi.to_numpy() / true_roi - 1)) > 1e-3  # caught


TANH_FAMILY = {"logistic": "lam", "tanh": "tanh_scale"}


@pytest.mark.parametrize("kind", list(TANH_FAMILY))
def test_the_tanh_family_truth_matches_the_reference(kind):
    """The simulator's truth for the logistic and tanh saturations (the model's own
    ``unit_saturation``) against the reference's curves, written from PyMC-Marketing's
    definitions and normalised at typical exposure: the recovery benchmarks fit the same
    curve that generated the data."""
    spec = bm.ModelSpec(saturation=kind)
    frame, truth = bm.simulate(n_geos=2, n_weeks=60, n_channels=3, seed=4, spec=spec)
    channels = list(truth.contributions["channel"].values)
    media = np.stack(
        [frame.pivot(index="date", columns="geo", values=c).to_numpy() for c in channels], -1
    )
    p, size = truth.params, truth.params["geo_size"]
    contrib = ref.contributions(media, size, p, spec.l_max, saturation=kind)
    np.testing.assert_allclose(truth.contributions.values, contrib, rtol=TOL)
    roi, roi_geo = ref.roi(media, media, size, p, spec.l_max, saturation=kind)
    np.testing.assert_allclose(truth.roi.to_numpy(), roi, rtol=TOL)
    np.testing.assert_allclose(truth.roi_by_geo.to_numpy(), roi_geo, rtol=TOL)


@pytest.mark.parametrize("kind", list(TANH_FAMILY))
def test_the_tanh_family_roi_matches_the_reference(kind):
    """The analyses' ROI draws under a logistic or tanh spec against the reference."""
    spec = bm.ModelSpec(saturation=kind)
    data, draws = random_panel(3)
    rng = np.random.default_rng(3)
    curve = {TANH_FAMILY[kind]: rng.uniform(0.2, 4.0, draws["alpha"].shape)}
    draws = {"alpha": draws["alpha"], "beta": draws["beta"], **curve}
    n = draws["alpha"].shape[0]
    got = analysis.roi_draws(data, spec, draws, (1, n)).values[0]
    for i in range(n):
        want, _ = ref.roi(
            data.media,
            data.spend,
            data.target.mean(axis=0),
            one_draw(draws, i),
            spec.l_max,
            saturation=kind,
        )
        np.testing.assert_allclose(got[i], want, rtol=TOL)
