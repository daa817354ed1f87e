"""Generate the shipped demo panel and its ground truth from ``bm.simulate``.

Writes bayes_mmm/datasets/demo_geo_panel.csv (10 geos × 156 weeks × 5 channels + 1
control) and bayes_mmm/datasets/demo_geo_panel_truth.csv (true ROI per channel), the
package data that ``bayes_mmm.datasets`` loads.
Run: .venv/bin/python scripts/make_demo_data.py
"""

from pathlib import Path

import bayes_mmm as bm

DATA = Path(__file__).resolve().parents[1] / "bayes_mmm" / "datasets"

if __name__ == "__main__":
    df, truth = bm.simulate(n_geos=10, n_weeks=156, n_channels=5, n_controls=1, seed=1)
    df = df.rename(columns={"control_1": "price_index"})
    df.to_csv(DATA / "demo_geo_panel.csv", index=False, float_format="%.4f")
    out = truth.roi.rename("true_roi").to_frame()
    out.index.name = "channel"
    out.to_csv(DATA / "demo_geo_panel_truth.csv", float_format="%.6f")
    print(out)
