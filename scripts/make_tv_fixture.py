"""Write the tiny time-varying posterior that unit tests read (tests/fixtures/tiny_tv).

A real fit, small on purpose: 3 geos × 60 weeks × 3 channels whose truth has a drifting
baseline and a seasonal media multiplier, fitted with a time-varying baseline and a
multiplier of its own for ``tv``; 2 chains × 100 draws.
Run: .venv/bin/python scripts/make_tv_fixture.py
"""

from pathlib import Path

import bayes_mmm as bm

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tiny_tv"

if __name__ == "__main__":
    df, truth = bm.simulate(
        n_geos=3, n_weeks=60, n_channels=3, seed=3, baseline_drift=0.05, media_seasonality=0.3
    )
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=["tv", "search", "social"],
        geo="geo",
        controls=["control_1"],
    )
    spec = bm.ModelSpec(
        l_max=4, yearly_seasonality=1, time_varying_intercept=True, time_varying_media=["tv"]
    )
    fit = bm.fit(data, spec, draws=100, tune=200, chains=2, random_seed=7, progress=False)
    fit.save(OUT)
    print(fit)
    print(fit.meta["compile_s"], fit.meta["sample_s"])
    print(fit.roi())
