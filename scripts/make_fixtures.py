"""Write the tiny saved posteriors that unit tests read (tests/fixtures/tiny_fit, tiny_tv,
tiny_rf).

Real fits, small on purpose: 3 geos × 60 weeks × 3 channels, 2 chains × 100 draws.
``tiny_tv`` is fitted to a panel whose truth has a drifting baseline and a seasonal media
multiplier, with a time-varying baseline and a multiplier of its own for ``tv``.
``tiny_rf`` is fitted to a ``simulate_rf`` panel (3 geos × 60 weeks, ``tv`` impressions and
``video`` reach and frequency), for the optimizer's R&F tests.
Run: .venv/bin/python scripts/make_fixtures.py [tiny_fit] [tiny_tv] [tiny_rf] (default: all)
"""

import sys
from pathlib import Path

import bayes_mmm as bm
from bayes_mmm.simulate_rf import RF_COLUMNS, simulate_rf

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
OUT = FIXTURES / "tiny_fit"
SPECS = {
    "tiny_fit": ({}, bm.ModelSpec(l_max=4, yearly_seasonality=1)),
    "tiny_tv": (
        {"baseline_drift": 0.05, "media_seasonality": 0.3},
        bm.ModelSpec(
            l_max=4, yearly_seasonality=1, time_varying_intercept=True, time_varying_media=["tv"]
        ),
    ),
}


def tiny_rf() -> None:
    frame, _ = simulate_rf(n_geos=3, n_weeks=60, seed=0)
    data = bm.MMMData.from_frame(frame, **RF_COLUMNS)
    spec = bm.ModelSpec(l_max=4, trend=False, yearly_seasonality=0)
    fit = bm.fit(data, spec, draws=100, tune=200, chains=2, random_seed=7, progress=False)
    fit.save(FIXTURES / "tiny_rf")
    print(fit)
    print(fit.roi())


if __name__ == "__main__":
    names = sys.argv[1:] or [*SPECS, "tiny_rf"]
    if "tiny_rf" in names:
        tiny_rf()
    for name in [n for n in names if n in SPECS]:
        drift, spec = SPECS[name]
        df, truth = bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3, **drift)
        data = bm.MMMData.from_frame(
            df,
            date="date",
            target="revenue",
            media=["tv", "search", "social"],
            geo="geo",
            controls=["control_1"],
        )
        fit = bm.fit(data, spec, draws=100, tune=200, chains=2, random_seed=7, progress=False)
        fit.save(FIXTURES / name)
        print(fit)
        print(fit.roi())
