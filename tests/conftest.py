"""Shared fixtures, the panel factory and the ``sampling`` guard.

Layout
------
The tests mirror the package. A file directly under ``tests/`` is ``test_<module>.py`` and
tests ``bayes_mmm/<module>.py``; a sub-package's modules are tested in a sub-folder of the
same name (``tests/report/test_build.py`` tests ``bayes_mmm/report/build.py``, and
``tests/report/test_report.py`` the sub-package's ``__init__``). A test lives with the module
whose behaviour it checks, whatever fixture it reads.

Checks that span many modules live in ``tests/cross_cutting/``, each file named after what
it checks: end-to-end fits (recovery, reproducibility, the notebooks, Robyn's public data,
the numpyro backend), the bad-input corpus (``cross_cutting/bad_inputs/``), fuzzing of
inputs, numerical edge cases of model and analysis together, organic media through the
whole workflow, and the package's import layers.

There are no ``__init__.py`` files: every test file's basename is unique across folders.

Markers
-------
``slow``: full-size fits, deselected by default (``make test-slow``).

``sampling``: the test compiles or samples a PyMC model (``bm.fit``, ``bm.holdout``,
prior draws, a compiled log density, the CLI's fit, the notebooks). A test without the mark
that reaches a sampler or a model compile fails with a ``RuntimeError`` naming the entry
point; the guard covers the test and every fixture set up for it, so
``pytest -m "not sampling"`` compiles no model. Subprocesses (the CLI run as a command, the
notebooks' kernels, Dask workers) are outside the guard: tests that start them are marked by
reading what they run.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import nutpie
import pymc as pm
import pytest

import bayes_mmm as bm
from bayes_mmm.simulate import seed003_setup, simulate_drivers

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny_fit"

# Every module of the package is imported once here, so the guard finds each module's own
# reference to a sampler entry point (``from bayes_mmm.sample import sample``) before any
# test runs; a module first imported under the guard would keep the refusing stand-in.
for _module in pkgutil.walk_packages(bm.__path__, "bayes_mmm."):
    importlib.import_module(_module.name)

# Third-party entry points, replaced where they are defined.
THIRD_PARTY = (
    (pm, "sample"),
    (pm, "sample_prior_predictive"),
    (pm, "sample_posterior_predictive"),
    (nutpie, "compile_pymc_model"),
    (pm.Model, "compile_fn"),
    (pm.Model, "compile_logp"),
    (pm.Model, "compile_dlogp"),
)
# Entry points replaced under every name a module of the package holds them by
# (``from bayes_mmm.sample import sample`` gives the importing module its own reference).
_sampler = sys.modules["bayes_mmm.sample"]
ENTRY_POINTS = (
    _sampler.sample,
    _sampler.prior_predictive,
    sys.modules["bayes_mmm.compile"].compile_nutpie,
    *(getattr(owner, attr) for owner, attr in THIRD_PARTY if owner is not pm.Model),
)


def _refuse(where: str) -> Callable:
    def refused(*args, **kwargs):
        raise RuntimeError(
            f"{where} compiles or samples a PyMC model: mark the test sampling "
            "(@pytest.mark.sampling)."
        )

    return refused


@contextlib.contextmanager
def _sampler_guard(item):
    """Replace every sampler and model-compile entry point with a refusal, unless ``item``
    is marked ``sampling``."""
    if item.get_closest_marker("sampling") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] != "bayes_mmm":
                continue
            for attr, value in list(vars(module).items()):
                if any(value is f for f in ENTRY_POINTS):
                    mp.setattr(module, attr, _refuse(f"{name}.{attr}"))
        for owner, attr in THIRD_PARTY:
            mp.setattr(owner, attr, _refuse(f"{owner.__name__}.{attr}"))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with _sampler_guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with _sampler_guard(item):
        return (yield)


@pytest.fixture(scope="session")
def tiny_fit() -> bm.Fit:
    """A real 3-geo × 3-channel fit (2 chains × 100 draws), saved by scripts/make_fixtures.py."""
    return bm.load(TINY)


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of two one-thread worker processes, shared by the Dask tests (its
    workers keep their compiled models between tests)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="session")
def sim_frame():
    """The simulated frame and truth behind ``tiny_fit`` (3 geos × 60 weeks × 3 channels)."""
    return bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3)


@pytest.fixture(scope="session")
def make_panel():
    """Factory: ``bm.simulate`` and then ``bm.MMMData.from_frame`` on its frame.

    ``make_panel(n_geos=3, n_weeks=60, n_channels=3, seed=3, *, media=None,
    controls=("control_1",), geo="geo", prepare=None, from_frame=None, **simulate_kwargs)``
    returns ``(data, truth, frame)``. ``media`` defaults to the simulated paid channels,
    ``prepare`` maps the simulated frame to the one the panel is read from (extra columns,
    renamed geos, a subset of rows), ``from_frame`` holds further ``MMMData.from_frame``
    arguments (``spend``, ``organic``, ``events``, ...), and the other keyword arguments go
    to ``bm.simulate``. The defaults give ``tiny_fit``'s panel.
    """

    def make(
        n_geos: int = 3,
        n_weeks: int = 60,
        n_channels: int = 3,
        seed: int = 3,
        *,
        media: Sequence[str] | None = None,
        controls: Sequence[str] = ("control_1",),
        geo: str | None = "geo",
        prepare: Callable | None = None,
        from_frame: Mapping | None = None,
        **simulate_kwargs,
    ):
        frame, truth = bm.simulate(
            n_geos=n_geos, n_weeks=n_weeks, n_channels=n_channels, seed=seed, **simulate_kwargs
        )
        if prepare is not None:
            frame = prepare(frame)
        if media is None:
            organic = set(simulate_kwargs.get("organic", ()))
            media = [str(c) for c in truth.contributions.channel.values if c not in organic]
        data = bm.MMMData.from_frame(
            frame,
            date="date",
            target="revenue",
            media=list(media),
            geo=geo,
            controls=list(controls),
            **(from_frame or {}),
        )
        return data, truth, frame

    return make


@pytest.fixture(scope="session")
def event_panel(make_panel):
    """``tiny_fit``'s panel with a ``xmas`` event (the weeks from Dec 18)."""

    def add_xmas(df):
        return df.assign(xmas=((df.date.dt.month == 12) & (df.date.dt.day >= 18)).astype(float))

    return make_panel(prepare=add_xmas, from_frame={"events": ["xmas"]})[0]


SEED_GROUPS = {"fb_spend": ["fb"], "google_spend": ["google", "email", "yt_paid"]}


@pytest.fixture(scope="session")
def seed_panel(make_panel):
    """The seed-000 schema, small: impressions paid by two spend columns (one shared by
    three channels), an organic channel, a holiday event, email on log saturation.
    Returns ``(frame, truth, data, spec)``."""
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1, saturation={"email": "log"})
    data, truth, df = make_panel(
        n_weeks=60,
        seed=5,
        media=["fb", "google", "email", "yt_paid"],
        controls=(),
        from_frame={
            "spend": {m: g for g, ms in SEED_GROUPS.items() for m in ms},
            "organic": ["yt_organic"],
            "events": ["holiday"],
        },
        n_controls=0,
        spec=spec,
        channels=["fb", "google", "email", "yt_paid"],
        spend_groups=SEED_GROUPS,
        organic=["yt_organic"],
        holiday_effect=0.3,
    )
    return df, truth, data, spec


@pytest.fixture(scope="session")
def region_frame(make_panel):
    """A 4-geo simulated frame with a ``region`` column (two geos per region)."""
    regions = {"geo_00": "north", "geo_01": "north", "geo_02": "south", "geo_03": "south"}
    return make_panel(
        n_geos=4,
        seed=4,
        controls=(),
        prepare=lambda df: df.assign(region=df["geo"].map(regions)),
    )[2]


@pytest.fixture(scope="session")
def drivers_panel():
    """The seed-003 national drivers panel (104 weeks, one mediation path through
    google_spend). Returns ``(data, spec, truth, params)``."""
    frame, truth, params = simulate_drivers(n_weeks=104, seed=11)
    kwargs, spec = seed003_setup()
    return bm.MMMData.from_frame(frame, **kwargs), spec, truth, params
