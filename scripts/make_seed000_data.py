"""Write the seed-000 style panel and its ground truth.

``bayes_mmm/datasets/seed000_geo_panel.csv``: 20 geos × 156 weeks with the seed's schema —
impressions for FB, Google, Email, Affiliate, YouTube paid and YouTube organic; one
``GOOGLE_SPEND`` column paying for Google, Email and YouTube paid together; ``FB_SPEND``
and ``AFF_SPEND``; a ``HOLIDAY`` dummy (weeks containing Dec 25 or Jan 1) with a surge of
different size per geo; ``REVENUE``.

``bayes_mmm/datasets/seed000_truth.csv``: long table (``quantity``, ``name``, ``value``) with
the true ROI per spend group (as ``fit.roi()`` labels it), each channel's total contribution,
adstock decay and mean effect at typical exposure, and each geo's holiday surge twice: as
``holiday_effect`` on the model's scale (a share of the geo's mean weekly revenue, what
``event_coef`` estimates) and as ``holiday_revenue`` (revenue added in one holiday week).

Run: ``.venv/bin/python scripts/make_seed000_data.py``; add ``--fit DRAWS CHAINS`` to also
fit the written panel (saturation as simulated) and print convergence and whether each
spend group's true ROI lies in its 90% interval.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import bayes_mmm as bm

OUT = Path(__file__).resolve().parent.parent / "bayes_mmm" / "datasets"
PAID = ["FB_IMP", "GOOGLE_IMP", "EMAIL_IMP", "AFF_IMP", "YT_PAID_IMP"]
SPEND_GROUPS = {
    "FB_SPEND": ["FB_IMP"],
    "GOOGLE_SPEND": ["GOOGLE_IMP", "EMAIL_IMP", "YT_PAID_IMP"],
    "AFF_SPEND": ["AFF_IMP"],
}
ORGANIC = ["YT_ORGANIC_IMP"]
# Email saturates like log(1 + λx) (the seed's "logarithmic" transform); the rest are Hill.
SPEC = bm.ModelSpec(saturation={"EMAIL_IMP": "log"})
COLUMNS = {"date": "DATE", "geo": "GEO", "revenue": "REVENUE", "holiday": "HOLIDAY"}


def make(n_geos: int = 20, n_weeks: int = 156, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The panel (seed schema) and the truth table."""
    df, truth = bm.simulate(
        n_geos=n_geos,
        n_weeks=n_weeks,
        n_controls=0,
        seed=seed,
        start="2021-01-04",
        spec=SPEC,
        channels=PAID,
        spend_groups=SPEND_GROUPS,
        organic=ORGANIC,
        holiday_effect=0.25,
        holiday_spread=0.5,
    )
    df["geo"] = df["geo"].str.replace("geo_", "GEO_")
    order = ["date", "geo", *PAID, *ORGANIC, *SPEND_GROUPS, "holiday", "revenue"]
    panel = df[order].rename(columns=COLUMNS)
    channels = truth.contributions.channel.values
    rows = [("roi", g, v) for g, v in truth.roi.items()]
    total = truth.contributions.sum(("date", "geo")).values
    rows += [("contribution", c, v) for c, v in zip(channels, total)]
    rows += [("alpha", c, v) for c, v in zip(channels, truth.params["alpha"])]
    rows += [("beta_mean", c, v) for c, v in zip(channels, truth.params["beta"].mean(0))]
    geos = panel["GEO"].unique()
    effect = truth.event_effect["holiday"].to_numpy()  # the model's scale
    rows += [("holiday_effect", g, v) for g, v in zip(geos, effect)]
    surge = truth.params["event_coef"][:, 0] * truth.params["geo_size"]  # revenue per week
    rows += [("holiday_revenue", g, v) for g, v in zip(geos, surge)]
    return panel, pd.DataFrame(rows, columns=["quantity", "name", "value"])


def fit_and_check(draws: int, chains: int) -> pd.DataFrame:
    """Fit the written panel and compare ROI per spend group with the truth."""
    data = bm.MMMData.from_csv(
        OUT / "seed000_geo_panel.csv",
        date="DATE",
        target="REVENUE",
        geo="GEO",
        media=PAID,
        spend={m: g for g, members in SPEND_GROUPS.items() for m in members},
        organic=ORGANIC,
        events=["HOLIDAY"],
    )
    fit = bm.fit(data, SPEC, draws=draws, tune=draws, chains=chains, random_seed=1)
    truth = pd.read_csv(OUT / "seed000_truth.csv")
    roi = fit.roi(hdi_prob=0.9)
    roi["true"] = truth[truth.quantity == "roi"].set_index("name")["value"]
    roi["inside"] = (roi["true"] >= roi["lower"]) & (roi["true"] <= roi["upper"])
    print(f"converged: {fit.converged}; run: {fit.meta}")
    print(roi.to_string())
    return roi


def main() -> None:
    panel, truth = make()
    OUT.mkdir(exist_ok=True)
    panel.to_csv(OUT / "seed000_geo_panel.csv", index=False)
    truth.to_csv(OUT / "seed000_truth.csv", index=False)
    print(f"wrote {len(panel)} rows to {OUT / 'seed000_geo_panel.csv'}")
    print(truth[truth.quantity == "roi"].to_string(index=False))
    if "--fit" in sys.argv:
        i = sys.argv.index("--fit")
        fit_and_check(int(sys.argv[i + 1]), int(sys.argv[i + 2]))


if __name__ == "__main__":
    main()
