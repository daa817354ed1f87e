"""Bundles: one directory holding everything needed to reproduce a result.

Layout (``FORMAT_VERSION`` 1)::

    run/
      meta.json        format version, package and library versions, seed, data hash, run info
      spec.toml        the ModelSpec
      data.nc          the validated panel (MMMData.to_dataset)
      posterior.nc     the ArviZ DataTree (posterior, sample_stats, observed_data)

Writes are atomic: the bundle is written to a temporary sibling directory and renamed
into place, so a crash mid-save leaves the previous bundle intact and no partial bundle
that loads. Loading checks the format version, the files, and the data hash.

Version policy (on load)
------------------------
- A different ``FORMAT_VERSION`` is a :class:`~bayes_mmm.errors.BundleError`: the layout
  itself changed.
- A different *major* version of a library in ``MAJOR_CHECKED`` (pymc, arviz) than the one
  that saved the bundle is a :class:`~bayes_mmm.errors.BundleVersionWarning` by default:
  the bundle stores plain netCDF arrays and results are recomputed from the parameter
  draws with this package's numpy code, so they normally still hold, but a new major
  version may have changed parameterisations or the posterior layout. ``load(...,
  strict=True)`` turns the warning into a ``BundleError`` (for pipelines that must refit
  rather than risk it). Minor and patch differences are silent.
- Any unreadable, truncated or inconsistent file (meta.json, spec.toml, data.nc,
  posterior.nc, missing posterior groups or parameters) is a ``BundleError``.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import xarray as xr

from bayes_mmm.data import MMMData
from bayes_mmm.errors import BundleError, BundleVersionWarning
from bayes_mmm.model import parameter_names
from bayes_mmm.posterior import Posterior, as_posterior
from bayes_mmm.spec import ModelSpec

FORMAT_VERSION = 1
FILES = ("meta.json", "spec.toml", "data.nc", "posterior.nc")
LIBRARIES = ("bayes_mmm", "pymc", "pytensor", "nutpie", "arviz", "numpy", "xarray", "pandas")
MAJOR_CHECKED = ("pymc", "arviz")


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = "unknown"
    return out


def save(posterior: Posterior, path: str | Path) -> Path:
    """Write a posterior (or the ``Fit`` around one) to the bundle directory ``path``
    (atomically replacing an old one)."""
    fit = as_posterior(posterior)
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


def _major(version) -> str | None:
    head = str(version).split(".")[0]
    return head if head.isdigit() else None


def check_versions(saved: dict, path: Path, strict: bool = False) -> None:
    """Apply the version policy (module docstring) to the versions recorded in a bundle.

    Raises
    ------
    BundleError
        With ``strict=True``, when a library in ``MAJOR_CHECKED`` changed major version.

    Warns
    -----
    BundleVersionWarning
        Otherwise, for the same condition.
    """
    now = library_versions()
    changed = [
        f"{lib} {saved[lib]} → {now[lib]}"
        for lib in MAJOR_CHECKED
        if _major(saved.get(lib))
        and _major(now.get(lib))
        and _major(saved[lib]) != _major(now[lib])
    ]
    if not changed:
        return
    text = f"Bundle '{path}' was saved with a different major version of {', '.join(changed)}"
    if strict:
        raise BundleError(
            f"{text}: re-fit with the installed versions, or install the saved ones "
            "(strict=True refuses to load across major versions)."
        )
    warnings.warn(
        f"{text}: results are recomputed from the stored draws and should hold, but re-fit "
        "to be sure (load(..., strict=True) makes this an error).",
        BundleVersionWarning,
        stacklevel=3,
    )


def load(path: str | Path, strict: bool = False) -> Posterior:
    """Load a bundle written by :func:`save` (or ``Fit.save``) and return its posterior
    (``bm.load`` wraps it in a ``Fit``).

    Parameters
    ----------
    path : str or Path
        The bundle directory.
    strict : bool
        Refuse (``BundleError``) rather than warn when pymc or arviz changed major version
        since the bundle was saved (see the module docstring's version policy).
    """
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
    if not isinstance(meta, dict) or not isinstance(meta.get("versions", {}), dict):
        raise BundleError(
            f"Bundle '{path}': meta.json is corrupted (expected a JSON object with "
            "'format_version', 'versions', 'data_hash' and 'run'); re-save the fit."
        )
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"Bundle '{path}' has format version {version!r}, but this bayes_mmm reads version "
            f"{FORMAT_VERSION} (saved with bayes_mmm {meta.get('versions', {}).get('bayes_mmm')}"
            "): load it with that version or re-fit."
        )
    check_versions(meta.get("versions", {}), path, strict=strict)
    parts = (
        ("spec.toml", lambda: ModelSpec.from_toml(path / "spec.toml")),
        ("data.nc", lambda: _read_data(path / "data.nc")),
        ("posterior.nc", lambda: xr.open_datatree(path / "posterior.nc", engine="h5netcdf").load()),
    )
    read: dict[str, Any] = {}
    for name, reader in parts:
        try:
            read[name] = reader()
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError) as err:
            raise BundleError(
                f"Bundle '{path}': {name} could not be read ({type(err).__name__}: {err}); the "
                "bundle is corrupted or truncated: re-save the fit or restore the bundle."
            ) from err
    spec: ModelSpec = read["spec.toml"]
    data: MMMData = read["data.nc"]
    idata: xr.DataTree = read["posterior.nc"]
    lacking = [g for g in ("posterior", "sample_stats") if g not in idata.children]
    if not lacking:
        post = idata["posterior"]
        lacking = [v for v in parameter_names(data, spec) if v not in post.data_vars]
    if lacking:
        raise BundleError(
            f"Bundle '{path}': posterior.nc lacks {lacking}: it is corrupted or does not belong "
            "to this spec; re-save the fit."
        )
    if data.data_hash != meta.get("data_hash"):
        raise BundleError(
            f"Bundle '{path}': the stored data does not match its recorded hash: the bundle "
            "was modified or corrupted."
        )
    return Posterior(data=data, spec=spec, idata=idata, meta=meta.get("run", {}))


def _read_data(file: Path) -> MMMData:
    with xr.open_dataset(file, engine="h5netcdf") as ds:
        return MMMData.from_dataset(ds.load())
