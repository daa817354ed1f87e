"""Fit bundles: one directory holding everything needed to reproduce a result.

Layout (``FORMAT_VERSION`` 1)::

    run/
      meta.json        format version, package and library versions, seed, data hash, run info
      spec.toml        the ModelSpec
      data.nc          the validated panel (MMMData.to_dataset)
      posterior.nc     the ArviZ DataTree (posterior, sample_stats, observed_data)

Writes are atomic: the bundle is written to a temporary sibling directory and renamed
into place, so a crash mid-save leaves the previous bundle intact and no partial bundle
that loads. Loading checks the format version, the files, and the data hash.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import tempfile
from pathlib import Path

import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import BundleError
from bayes_mmm.spec import ModelSpec

FORMAT_VERSION = 1
FILES = ("meta.json", "spec.toml", "data.nc", "posterior.nc")
LIBRARIES = ("bayes_mmm", "pymc", "pytensor", "nutpie", "arviz", "numpy", "xarray", "pandas")


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = "unknown"
    return out


def save(fit, path: str | Path) -> Path:
    """Write ``fit`` to the bundle directory ``path`` (atomically replacing an old one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    tmp.chmod(0o755)
    try:
        meta = {
            "format_version": FORMAT_VERSION,
            "versions": library_versions(),
            "data_hash": fit.data.data_hash,
            "run": dict(fit.meta),
        }
        fit.spec.to_toml(tmp / "spec.toml")
        fit.data.to_dataset().to_netcdf(tmp / "data.nc", engine="h5netcdf")
        fit.idata.to_netcdf(tmp / "posterior.nc", engine="h5netcdf")
        # meta.json last: a bundle without it is incomplete by construction.
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load(path: str | Path):
    """Load a bundle written by :func:`save` (or ``Fit.save``) and return the ``Fit``."""
    from bayes_mmm.fit import Fit

    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"No bundle at '{path}': expected a directory written by fit.save().")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise BundleError(
            f"Bundle '{path}' is incomplete (missing {missing}): it was not fully written; "
            "re-run the fit or restore the bundle."
        )
    try:
        meta = json.loads((path / "meta.json").read_text())
    except json.JSONDecodeError as err:
        raise BundleError(f"Bundle '{path}': meta.json is corrupted ({err}).") from err
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"Bundle '{path}' has format version {version!r}, but this bayes_mmm reads version "
            f"{FORMAT_VERSION} (saved with bayes_mmm {meta.get('versions', {}).get('bayes_mmm')}"
            "): load it with that version or re-fit."
        )
    try:
        spec = ModelSpec.from_toml(path / "spec.toml")
        with xr.open_dataset(path / "data.nc", engine="h5netcdf") as ds:
            data = MMMData.from_dataset(ds.load())
        idata = xr.open_datatree(path / "posterior.nc", engine="h5netcdf").load()
    except (OSError, ValueError, KeyError) as err:
        raise BundleError(f"Bundle '{path}' could not be read ({err}): it is corrupted.") from err
    if data.data_hash != meta.get("data_hash"):
        raise BundleError(
            f"Bundle '{path}': the stored data does not match its recorded hash: the bundle "
            "was modified or corrupted."
        )
    return Fit(data=data, spec=spec, idata=idata, meta=meta.get("run", {}))
