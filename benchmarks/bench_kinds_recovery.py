"""Recovery per adstock and saturation kind: does a default fit converge and cover the truth?

For each kind in ``--kinds`` (default: the six kinds beyond geometric adstock and Hill /
log / neg-exp saturation), simulate a panel whose truth uses that kind on every channel
(``bm.simulate(spec=ModelSpec(adstock=kind))`` or ``saturation=kind``; true parameters
drawn from the kind's declared truth ranges, ``kinds.Parameter.truth``), fit it with the
same spec at the defaults (4 chains × 1,000 draws after 1,000 tuning steps) and report the
gates (R-hat ≤ 1.01, ESS_bulk ≥ 400, 0 divergences), the wall time and how many true ROIs
fall inside the 90% credible interval.

Panels: ``national`` (1 geo × 156 weeks × 5 channels) or ``10-geo`` (10 geos × 156 weeks ×
5 channels), one control, seed ``--seed``.

Usage
-----
    .venv/bin/python benchmarks/bench_kinds_recovery.py --panels national
        [--kinds delayed tanh] [--seed 1] [--draws 1000] [--tune 1000] [--chains 4]
        [--target-accept 0.95] [--out runs/kinds_recovery]

Writes ``--out/<panels>.json`` (one record per fit, appended as each finishes) and prints
a markdown table. Results: ``benchmarks/KINDS.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_geo_panels import fit_panel, recorder, sampler_arguments

import bayes_mmm as bm
from bayes_mmm.kinds import ADSTOCKS

NEW_KINDS = ("delayed", "weibull_pdf", "weibull_cdf", "logistic", "michaelis_menten", "tanh")
PANELS = {"national": 1, "10-geo": 10}


def kind_spec(kind: str) -> bm.ModelSpec:
    """The spec with ``kind`` on every channel (the other family at its default)."""
    return bm.ModelSpec(**{"adstock" if kind in ADSTOCKS else "saturation": kind})


def fit_kind(kind: str, n_geos: int, seed: int, draws: int, tune: int, chains: int, **kw) -> dict:
    """Simulate a 156-week panel with ``kind``'s truth, fit it (``kw`` passed to
    ``bm.fit``) and report gates and coverage."""
    row = fit_panel(n_geos, 156, seed, draws, tune, chains, spec=kind_spec(kind), **kw)
    return {"kind": kind, **row}


def table(rows: list[dict]) -> str:
    head = (
        "| kind | geos | seed | wall s | gates | max R-hat | min ESS | div. | slowest | "
        "true ROI in 90% CI |\n" + "|---" * 10 + "|\n"
    )
    body = "".join(
        f"| {r['kind']} | {r['geos']} | {r['seed']} | {r['wall_s']} | "
        f"{'pass' if r['converged'] else '**fail**'} | {r['max_r_hat']} | {r['min_ess_bulk']} | "
        f"{r['divergences']} | `{r['slowest']}` | {r['roi_inside_90']} |\n"
        for r in rows
    )
    return head + body


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--panels", choices=list(PANELS), default="national")
    p.add_argument("--kinds", nargs="+", default=list(NEW_KINDS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target-accept", type=float, default=None, help="default: bm.fit's")
    args = sampler_arguments(p, "runs/kinds_recovery")
    kw = {} if args.target_accept is None else {"target_accept": args.target_accept}
    record = recorder(Path(args.out) / f"{args.panels}.json", args)
    rows = []
    for kind in args.kinds:
        rows = record(
            fit_kind(kind, PANELS[args.panels], args.seed, args.draws, args.tune, args.chains, **kw)
        )
    print(table(rows))


if __name__ == "__main__":
    main()
