"""The ``bayes-mmm`` command: check data, fit, report, optimize, demo.

::

    bayes-mmm check DATA.csv --config SPEC.toml
    bayes-mmm fit DATA.csv --config SPEC.toml --out RUN/ [--draws --tune --chains --seed]
    bayes-mmm report RUN/ [--out report.html]
    bayes-mmm optimize RUN/ --budget X --weeks N [--objective mean] --out plan.csv
    bayes-mmm optimize RUN/ --target Y [--target-prob 0.8] --weeks N --out plan.csv
    bayes-mmm demo [--out runs/demo] [--config SPEC.toml | demo_geo_panel_quick]

The TOML config maps columns in ``[data]`` (``date``, ``target``, ``geo``, ``media``,
``spend`` (a table media → spend column), ``controls``, ``organic``) and model options in
``[model]`` (``ModelSpec.from_dict``); an optional ``[fit]`` table sets defaults for
``draws``, ``tune``, ``chains`` and ``seed``, and may set ``target_accept`` and a
``[fit.sampler_kwargs]`` table passed on to nutpie (e.g. ``adaptation = "diag"`` to keep
nutpie's default on a large geo panel, where ``bm.fit`` picks ``"draw_diag"``).

Exit codes: 0 success; 2 bad input (data, config, bundle or arguments: one message on
stderr, no traceback); 3 the fit did not converge (outputs are still written, marked
red); 4 a feature is not available in this installation; 1 anything else.

``bayes-mmm demo`` fits the demo panel shipped inside the package (``bayes_mmm.datasets``)
with its shipped config, so it runs from an installed wheel in any directory.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_NOT_CONVERGED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4
DATA_KEYS = ("date", "target", "geo", "media", "spend", "controls", "organic")
FIT_KEYS = ("draws", "tune", "chains", "seed", "target_accept", "sampler_kwargs")


class CliError(Exception):
    """A user-facing failure with its exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


def _step(message: str) -> float:
    print(f"[bayes-mmm] {message}", file=sys.stderr, flush=True)
    return time.perf_counter()


# ---------------------------------------------------------------------- config
def load_config(path: str | Path) -> dict:
    """Read a TOML config: ``{"data": {...}, "model": {...}, "fit": {...}}``."""
    from bayes_mmm.errors import SpecError

    path = Path(path)
    if not path.is_file():
        raise CliError(f"Config file '{path}' not found.")
    try:
        cfg = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"Config '{path}' is not valid TOML: {err}") from err
    data = cfg.get("data")
    if not isinstance(data, dict):
        raise SpecError(f"Config '{path}' needs a [data] table naming the columns.")
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        raise SpecError(f"Config '{path}' [data]: unknown key(s) {unknown}; known: {DATA_KEYS}.")
    missing = [k for k in ("date", "target", "media") if k not in data]
    if missing:
        raise SpecError(f"Config '{path}' [data]: missing key(s) {missing}.")
    unknown = sorted(set(cfg.get("fit", {})) - set(FIT_KEYS))
    if unknown:
        raise SpecError(f"Config '{path}' [fit]: unknown key(s) {unknown}; known: {FIT_KEYS}.")
    if not isinstance(cfg.get("fit", {}).get("sampler_kwargs", {}), dict):
        raise SpecError(
            f"Config '{path}' [fit]: sampler_kwargs must be a table, e.g. "
            '[fit.sampler_kwargs] with adaptation = "draw_diag".'
        )
    return {"data": data, "model": cfg.get("model", {}), "fit": cfg.get("fit", {})}


def load_inputs(csv: str | Path, config: str | Path):
    """The validated panel and the spec of a CSV and its config."""
    import bayes_mmm as bm

    cfg = load_config(config)
    if not Path(csv).is_file():
        raise CliError(f"Data file '{csv}' not found.")
    data = bm.MMMData.from_csv(csv, **cfg["data"])
    spec = bm.ModelSpec.from_dict(cfg["model"])
    return data, spec, cfg


# ---------------------------------------------------------------------- commands
def cmd_check(args) -> int:
    import pandas as pd

    from bayes_mmm import datachecks
    from bayes_mmm.runtime import plan_runtime

    _step("validating data")
    data, spec, cfg = load_inputs(args.data, args.config)
    print(data)
    print("\nSpec:", spec)
    with pd.option_context("display.width", 120, "display.float_format", "{:,.3f}".format):
        checks = datachecks.data_checks(data)
        print("\nMedia and controls (zero weeks, max |correlation|, VIF):")
        print(checks)
        print("\nCorrelation:")
        print(datachecks.media_correlation(data))
    flagged = list(checks.index[checks["flag"]])
    if flagged:
        print(
            f"\nWARNING: weakly identified columns {flagged} (VIF > {datachecks.VIF_MAX:.0f} "
            f"or |r| > {datachecks.CORRELATION_MAX}): their split of credit rests on priors."
        )
    _step("compiling the model and timing gradient evaluations for a runtime plan")
    f = cfg["fit"]
    plan = plan_runtime(
        data, spec, draws=f.get("draws", 1000), chains=f.get("chains", 4), tune=f.get("tune", 1000)
    )
    print(f"\n{plan}")
    return EXIT_OK


def _fit_args(args, cfg) -> dict:
    f = cfg["fit"]

    def pick(name, default):
        return getattr(args, name) if getattr(args, name) is not None else f.get(name, default)

    return {
        "draws": pick("draws", 1000),
        "tune": pick("tune", 1000),
        "chains": pick("chains", 4),
        "random_seed": pick("seed", 1),
        **{k: f[k] for k in ("target_accept", "sampler_kwargs") if k in f},  # else bm.fit's
    }


def run_fit(csv, config, out, args) -> int:
    """Fit, then write the bundle, roi.csv, diagnostics.csv, convergence.csv, report.html."""
    import warnings

    import bayes_mmm as bm
    from bayes_mmm.report import report

    t = _step(f"loading {csv} with {config}")
    data, spec, cfg = load_inputs(csv, config)
    print(data, file=sys.stderr)
    kw = _fit_args(args, cfg)
    t = _step(f"sampling {kw['chains']} chains × {kw['draws']} draws ({kw['tune']} tune)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.fit(data, spec, progress=sys.stderr.isatty(), **kw)
    _step(f"sampled in {time.perf_counter() - t:.1f} s")
    out = Path(out)
    fit.save(out)
    fit.roi().to_csv(out / "roi.csv")
    fit.diagnostics().to_csv(out / "diagnostics.csv")
    conv = fit.convergence
    conv.to_frame().to_csv(out / "convergence.csv")
    _step("writing the report")
    report(fit, out / "report.html", prior=_prior_option(args))
    _step(f"wrote {out}/ (bundle, roi.csv, diagnostics.csv, convergence.csv, report.html)")
    print(fit.roi())
    print(conv.message())
    return EXIT_OK if conv.passed else EXIT_NOT_CONVERGED


def _load_run(run):
    import bayes_mmm as bm

    return bm.load(run)


def _prior_option(args):
    return "auto" if getattr(args, "prior_figure", True) else None


def cmd_fit(args) -> int:
    return run_fit(args.data, args.config, args.out, args)


def cmd_report(args) -> int:
    from bayes_mmm.report import report

    _step(f"loading bundle {args.run}")
    fit = _load_run(args.run)
    out = Path(args.out) if args.out else Path(args.run) / "report.html"
    _step("writing the report")
    report(fit, out, prior=_prior_option(args))
    print(out)
    return EXIT_OK


def cmd_optimize(args) -> int:
    try:
        from bayes_mmm import optimize as _  # noqa: F401
    except ImportError as err:
        raise CliError(
            "Budget optimisation is not available in this installation (bayes_mmm.optimize "
            f"could not be imported: {err}).",
            EXIT_UNAVAILABLE,
        ) from err
    if (args.budget is None) == (args.target is None):
        raise CliError("Give either --budget or --target.", EXIT_INPUT)
    fit = _load_run(args.run)
    if args.target is not None:
        _step(f"finding the least budget reaching {args.target:,.6g} ({args.target_metric})")
        reach = fit.optimize(
            target=args.target,
            weeks=args.weeks,
            target_prob=args.target_prob,
            target_metric=args.target_metric,
            allow_unconverged=args.allow_unconverged,
            by_geo=args.by_geo,
        )
        plan = reach.allocation
        _write_plan(plan, args.out)
        print(reach.sentence)
        print(f"P(plan reaches the target) = {reach.prob:.0%}")
        if args.report:
            from bayes_mmm.report import report

            report(fit, args.report, plan=plan)
        return EXIT_OK
    _step(f"optimising a budget of {args.budget:,.0f} over {args.weeks} weeks")
    plan = fit.optimize(
        budget=args.budget,
        weeks=args.weeks,
        objective=args.objective,
        allow_unconverged=args.allow_unconverged,
        near_optimal=args.near_optimal,
        by_geo=args.by_geo,
    )
    _write_plan(plan, args.out)
    print(f"P(plan beats current) = {plan.prob_better:.0%}")
    if plan.near_optimal is not None:
        near = plan.near_optimal
        print(
            f"Share of the best plan's uplift, by the posterior: median {near['median']:.0%} "
            f"(90% range {near['lower']:.0%} to {near['upper']:.0%}), "
            f"P(at least 95%) = {near['p_095']:.0%}"
        )
    if args.report:
        from bayes_mmm.report import report

        report(fit, args.report, plan=plan)
    return EXIT_OK


def _write_plan(plan, path) -> None:
    """Write a plan's table (per spend group) to the CSV ``path`` and print it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    plan.table.to_csv(out)
    print(plan.table)


def demo_config(config: str | None) -> Path:
    """The config ``bayes-mmm demo`` uses.

    Parameters
    ----------
    config : str or None
        None for the shipped ``demo_geo_panel.toml``; a path to a TOML file; or the name of
        a shipped config, with or without ``.toml`` (``demo_geo_panel_quick``), used when no
        file of that name exists in the working directory.

    Returns
    -------
    pathlib.Path
        The config to read; a path that does not exist is returned as given, so that
        ``load_config`` reports it.
    """
    from bayes_mmm import datasets

    if config is None:
        return datasets.path(datasets.DEMO_CONFIG)
    given = Path(config)
    name = config if config.endswith(".toml") else f"{config}.toml"
    if not given.is_file() and name in datasets.names():
        return datasets.path(name)
    return given


def cmd_demo(args) -> int:
    from bayes_mmm import datasets

    return run_fit(datasets.path(datasets.DEMO_PANEL), demo_config(args.config), args.out, args)


# ---------------------------------------------------------------------- entry point
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bayes-mmm", description="Bayesian marketing-mix models.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate data, correlations, VIF, runtime estimate")
    c.add_argument("data")
    c.add_argument("--config", required=True)
    c.set_defaults(func=cmd_check)

    def sampling(q):
        q.add_argument("--draws", type=int)
        q.add_argument("--tune", type=int)
        q.add_argument("--chains", type=int)
        q.add_argument("--seed", type=int)
        no_prior(q)

    def no_prior(q):
        q.add_argument(
            "--no-prior",
            dest="prior_figure",
            action="store_false",
            help="skip the prior-vs-posterior figure (saves a model compile)",
        )

    f = sub.add_parser("fit", help="fit and write bundle, roi.csv, diagnostics.csv, report")
    f.add_argument("data")
    f.add_argument("--config", required=True)
    f.add_argument("--out", required=True, help="run directory to write")
    sampling(f)
    f.set_defaults(func=cmd_fit)

    r = sub.add_parser("report", help="write RUN/report.html from a bundle")
    r.add_argument("run")
    r.add_argument("--out", help="HTML path (default RUN/report.html)")
    no_prior(r)
    r.set_defaults(func=cmd_report)

    o = sub.add_parser("optimize", help="allocate a budget with a fitted bundle")
    o.add_argument("run")
    o.add_argument("--budget", type=float, help="the window budget to allocate")
    o.add_argument(
        "--target",
        type=float,
        help="instead of --budget: the least budget whose plan reaches this incremental "
        "revenue (or ROI / marginal ROI floor, see --target-metric)",
    )
    o.add_argument("--target-prob", type=float, default=0.5, help="with --target")
    o.add_argument("--target-metric", default="revenue", help="revenue, roi or mroi")
    o.add_argument("--weeks", type=int, required=True)
    o.add_argument("--objective", default="mean", help="mean, cvar, mean_sd or profit")
    o.add_argument("--out", required=True, help="CSV of the plan")
    o.add_argument("--report", help="also write a report with the plan to this HTML path")
    o.add_argument("--allow-unconverged", action="store_true")
    o.add_argument(
        "--by-geo",
        action="store_true",
        help="plan each geo × spend group cell (the CSV stays per spend group)",
    )
    o.add_argument(
        "--near-optimal",
        type=int,
        default=40,
        help="posterior draws taken in turn as the truth to say how close to the best plan "
        "this one is (0: skip)",
    )
    o.set_defaults(func=cmd_optimize)

    d = sub.add_parser("demo", help="fit the shipped demo panel and write its report")
    d.add_argument("--out", default="runs/demo")
    d.add_argument(
        "--config",
        help="a TOML path or a shipped config name (demo_geo_panel_quick); "
        "default: the shipped demo_geo_panel.toml",
    )
    sampling(d)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bayes_mmm.errors import BundleError, ConvergenceError, DataError, SpecError

    try:
        return args.func(args)
    except CliError as err:
        print(f"bayes-mmm: error: {err}", file=sys.stderr)
        return err.code
    except (DataError, SpecError, BundleError, ConvergenceError) as err:
        print(f"bayes-mmm: error: {err}", file=sys.stderr)
        return EXIT_NOT_CONVERGED if isinstance(err, ConvergenceError) else EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
