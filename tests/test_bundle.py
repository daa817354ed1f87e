"""Bundles: save and load a fit, version checks on load, and refusals of damaged bundles."""

import json
import subprocess
import sys
import warnings

import pandas as pd
import pytest
import xarray as xr

import bayes_mmm as bm


def test_save_load_new_process_identical_roi(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "run")
    before = tiny_fit.roi()
    code = f"import bayes_mmm as bm, sys; bm.load(r'{path}').roi().to_csv(sys.stdout)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    after = pd.read_csv(pd.io.common.StringIO(out.stdout), index_col=0)
    pd.testing.assert_frame_equal(before, after, check_exact=True, check_names=False)


def test_bundle_carries_versions_seed_and_hash(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "run")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format_version"] == 1
    assert meta["data_hash"] == tiny_fit.data.data_hash
    assert {"pymc", "nutpie", "arviz", "bayes_mmm"} <= set(meta["versions"])
    assert meta["run"]["random_seed"] == tiny_fit.meta["random_seed"]
    loaded = bm.load(path)
    assert loaded.spec == tiny_fit.spec


def test_crash_mid_save_keeps_old_bundle(tiny_fit, tmp_path, monkeypatch):
    path = tiny_fit.save(tmp_path / "run")
    roi = bm.load(path).roi()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(tiny_fit.idata), "to_netcdf", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        tiny_fit.save(path)
    pd.testing.assert_frame_equal(bm.load(path).roi(), roi)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary left behind


def test_truncated_and_foreign_bundles_raise_bundle_error(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "run")
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = 99
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(bm.BundleError, match="format version 99"):
        bm.load(path)
    path = tiny_fit.save(tmp_path / "run2")
    (path / "posterior.nc").write_bytes((path / "posterior.nc").read_bytes()[:500])
    with pytest.raises(bm.BundleError, match="corrupted"):
        bm.load(path)
    (path / "posterior.nc").unlink()
    with pytest.raises(bm.BundleError, match="incomplete"):
        bm.load(path)
    with pytest.raises(bm.BundleError, match="No bundle"):
        bm.load(tmp_path / "nowhere")


def test_lenient_bundle_load_warns_on_major_version_change(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "old")
    meta = json.loads((path / "meta.json").read_text())
    meta["versions"]["arviz"] = "0.17.1"
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.warns(bm.BundleVersionWarning, match=r"arviz 0\.17\.1"):
        fit = bm.load(path)
    pd.testing.assert_frame_equal(fit.roi(), tiny_fit.roi())


def test_minor_version_change_is_silent(tiny_fit, tmp_path):
    path = tmp_path / "minor"
    tiny_fit.save(path)
    meta = json.loads((path / "meta.json").read_text())
    major, *_ = meta["versions"]["pymc"].split(".")
    meta["versions"]["pymc"] = f"{major}.0.0"
    (path / "meta.json").write_text(json.dumps(meta))
    with warnings.catch_warnings():
        warnings.simplefilter("error", bm.BundleVersionWarning)
        bm.load(path, strict=True)


def test_bundle_without_posterior_parameters_is_refused(tiny_fit, tmp_path):
    path = tiny_fit.save(tmp_path / "run")
    groups = {
        "posterior": tiny_fit.idata["posterior"].to_dataset().drop_vars("alpha"),
        "sample_stats": tiny_fit.idata["sample_stats"].to_dataset(),
    }
    (path / "posterior.nc").unlink()
    xr.DataTree.from_dict(groups).to_netcdf(path / "posterior.nc", engine="h5netcdf")
    with pytest.raises(bm.BundleError, match=r"lacks \['alpha'\]"):
        bm.load(path)
