"""Write the tiny saved posterior that unit tests read (tests/fixtures/tiny_fit).

A real fit, small on purpose: 3 geos × 60 weeks × 3 channels, 2 chains × 100 draws.
Run: .venv/bin/python scripts/make_fixtures.py
"""

from pathlib import Path

import bayes_mmm as bm

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tiny_fit"

if __name__ == "__main__":
    df, truth = bm.simulate(n_geos=3, n_weeks=60, n_channels=3, seed=3)
    data = bm.MMMData.from_frame(
        df,
        date="date",
        target="revenue",
        media=["tv", "search", "social"],
        geo="geo",
        controls=["control_1"],
    )
    spec = bm.ModelSpec(l_max=4, yearly_seasonality=1)
    fit = bm.fit(data, spec, draws=100, tune=200, chains=2, random_seed=7, progress=False)
    fit.save(OUT)
    print(fit)
    print(fit.roi())
