"""fit_many: independent fits on Dask distributed, and the job constructors."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_mmm as bm
from bayes_mmm import fit_many
from bayes_mmm.many import Job, simulation_jobs, spec_grid_jobs, time_slice_jobs

distributed = pytest.importorskip("distributed")

FIT = dict(draws=50, tune=50, chains=1)


@pytest.fixture(scope="module")
def small_data(make_panel):
    return make_panel(n_geos=2, n_weeks=52, n_channels=2, seed=5, controls=())[0]


def test_time_slice_jobs_expand_and_hold_out(small_data):
    jobs = time_slice_jobs(small_data, None, n_folds=3, horizon=8, draws=10)
    assert [j.data.n_dates for j in jobs] == [28, 36, 44]
    assert [j.info["holdout_data"].n_dates for j in jobs] == [36, 44, 52]
    assert all(j.fit_kwargs == {"draws": 10} for j in jobs)
    np.testing.assert_array_equal(jobs[1].data.media, small_data.media[:36])
    assert jobs[2].info["train_end"] == small_data.dates[43]
    with pytest.raises(ValueError, match="at least 5"):
        time_slice_jobs(small_data, None, n_folds=6, horizon=8)


def test_simulation_jobs_carry_truth():
    jobs = simulation_jobs([3, 4], simulate_kwargs=dict(n_geos=2, n_weeks=30, n_channels=2))
    assert [j.name for j in jobs] == ["sim3", "sim4"]
    assert list(jobs[0].info["truth"].roi.index) == list(jobs[0].data.channels)
    assert not np.array_equal(jobs[0].data.target, jobs[1].data.target)


def test_bad_jobs_are_refused_before_any_cluster_starts(small_data):
    with pytest.raises(ValueError, match="unique"):
        fit_many([Job("a", small_data), Job("a", small_data)])
    with pytest.raises(ValueError, match="letters"):
        fit_many([Job("a/b", small_data)])


@pytest.mark.sampling
def test_four_fits_on_a_cluster_come_back_as_fits(small_data, dask_client, tmp_path):
    specs = {"hill": bm.ModelSpec(), "log": bm.ModelSpec(saturation="log")}
    jobs = spec_grid_jobs(small_data, specs, **FIT)
    jobs += time_slice_jobs(small_data, None, n_folds=2, horizon=8, **FIT)
    fits = fit_many(jobs, dask_client, bundle_dir=tmp_path, random_seed=7)

    assert list(fits) == ["hill", "log", "fold0", "fold1"]
    assert all(isinstance(f, bm.Fit) for f in fits.values())
    assert fits["log"].spec.saturation == "log" and "lam" in fits["log"].idata["posterior"]
    assert fits["fold0"].data.n_dates == 36 and fits["fold1"].data.n_dates == 44
    for name, f in fits.items():
        assert (tmp_path / name / "posterior.nc").exists()  # the bundle the worker saved
        assert f.idata["posterior"].sizes["draw"] == 50
        assert np.isfinite(f.roi()["mean"]).all()
    seeds = [f.meta["random_seed"] for f in fits.values()]
    assert len(set(seeds)) == 4
    # Seeds are spawned from the batch seed, one per job in order (the documented rule).
    spawned = np.random.SeedSequence(7).spawn(len(jobs))
    assert seeds == [int(s.generate_state(1)[0] >> 1) for s in spawned]


@pytest.mark.sampling
def test_failed_job_is_named_and_keeps_its_error_type(small_data):
    jobs = [Job("broken", small_data, fit_kwargs={"sampler": "no-such-sampler", **FIT})]
    with pytest.raises(bm.SpecError, match=r"broken.*no-such-sampler"):
        fit_many(jobs)  # starts (and closes) its own LocalCluster


def test_batch_error_keeps_the_packages_error_type():
    err = bm.many.batch_error({"a": RuntimeError("boom"), "b": bm.DataError("column 'tv'")}, 3)
    assert type(err) is bm.DataError
    assert "2 of 3 fits failed" in str(err) and "a: RuntimeError: boom" in str(err)
    assert "b: DataError: column 'tv'" in str(err)
    other = bm.many.batch_error({"a": KeyError("x")}, 1)
    assert type(other) is RuntimeError
