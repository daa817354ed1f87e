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

Output: results (tables, printed whole) go to stdout; step messages and progress bars to
stderr, both silenced by ``-q/--quiet``. Library warnings and PyMC/nutpie log messages are
hidden unless ``--show-warnings`` is given. Every sentence comes from
``bayes_mmm.report.wording``, and messages name the command's flags, not keyword arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path

from bayes_mmm.report import wording as W

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_NOT_CONVERGED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4
DATA_KEYS = ("date", "target", "geo", "media", "spend", "controls", "organic")
FIT_KEYS = ("draws", "tune", "chains", "seed", "target_accept", "sampler_kwargs")
LIBRARY_LOGGERS = ("pymc", "pytensor", "nutpie", "numba", "arviz", "distributed", "matplotlib")


class CliError(Exception):
    """A user-facing failure with its exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


class _Console:
    """How chatty this invocation is (``main`` sets it from ``--quiet``)."""

    quiet = False


def _step(message: str) -> float:
    if not _Console.quiet:
        print(W.CLI_STEP.format(message=message), file=sys.stderr, flush=True)
    return time.perf_counter()


def _progress() -> bool:
    """Progress bars: never with ``--quiet``, else where a person watches (not in CI)."""
    from bayes_mmm.progress import enabled

    return not _Console.quiet and enabled(None)


def _show(table) -> None:
    """Print a DataFrame or Series whole: every row and column, never cut by pandas."""
    print(table.to_string())


def cli_message(err: BaseException | str) -> str:
    """A message with Python keyword arguments replaced by the command's flags and config."""
    text = str(err)
    for keyword, flag in W.CLI_FLAGS.items():
        text = text.replace(keyword, flag)
    return text


@contextlib.contextmanager
def library_output(show: bool) -> Iterator[None]:
    """Hide library warnings and PyMC/nutpie/numba log messages unless ``show``."""
    if show:
        yield
        return
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


# ---------------------------------------------------------------------- config
def load_config(path: str | Path) -> dict:
    """Read a TOML config: ``{"data": {...}, "model": {...}, "fit": {...}}``."""
    from bayes_mmm.errors import SpecError

    path = Path(path)
    if not path.is_file():
        raise CliError(W.CONFIG_NOT_FOUND.format(path=path))
    try:
        cfg = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpecError(W.CONFIG_NOT_TOML.format(path=path, err=err)) from err
    data = cfg.get("data")
    if not isinstance(data, dict):
        raise SpecError(W.CONFIG_NO_DATA.format(path=path))
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        raise SpecError(
            W.CONFIG_UNKNOWN.format(path=path, table="data", keys=unknown, known=DATA_KEYS)
        )
    missing = [k for k in ("date", "target", "media") if k not in data]
    if missing:
        raise SpecError(W.CONFIG_MISSING.format(path=path, keys=missing))
    unknown = sorted(set(cfg.get("fit", {})) - set(FIT_KEYS))
    if unknown:
        raise SpecError(
            W.CONFIG_UNKNOWN.format(path=path, table="fit", keys=unknown, known=FIT_KEYS)
        )
    if not isinstance(cfg.get("fit", {}).get("sampler_kwargs", {}), dict):
        raise SpecError(W.CONFIG_SAMPLER_KWARGS.format(path=path))
    return {"data": data, "model": cfg.get("model", {}), "fit": cfg.get("fit", {})}


def load_inputs(csv: str | Path, config: str | Path):
    """The validated panel and the spec of a CSV and its config."""
    import bayes_mmm as bm

    cfg = load_config(config)
    if not Path(csv).is_file():
        raise CliError(W.DATA_NOT_FOUND.format(path=csv))
    data = bm.MMMData.from_csv(csv, **cfg["data"])
    spec = bm.ModelSpec.from_dict(cfg["model"])
    return data, spec, cfg


# ---------------------------------------------------------------------- commands
def cmd_check(args) -> int:
    from bayes_mmm import datachecks
    from bayes_mmm.runtime import plan_runtime

    _step(W.STEP_VALIDATE)
    data, spec, cfg = load_inputs(args.data, args.config)
    print(data)
    print(W.CHECK_SPEC.format(spec=spec))
    checks = datachecks.data_checks(data)
    print(W.CHECK_COLUMNS)
    _show(checks)
    print(W.CHECK_CORRELATION)
    _show(datachecks.media_correlation(data))
    flagged = list(checks.index[checks["flag"]])
    if flagged:
        vif, corr = datachecks.VIF_MAX, datachecks.CORRELATION_MAX
        print(W.CHECK_FLAGGED.format(columns=flagged, vif=vif, corr=corr))
    _step(W.STEP_RUNTIME)
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
    import bayes_mmm as bm

    t = _step(W.STEP_LOAD.format(csv=csv, config=config))
    data, spec, cfg = load_inputs(csv, config)
    if not _Console.quiet:
        print(data, file=sys.stderr)
    kw = _fit_args(args, cfg)
    t = _step(W.STEP_SAMPLE.format(chains=kw["chains"], draws=kw["draws"], tune=kw["tune"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)  # the verdict is printed below
        fit = bm.fit(data, spec, progress=_progress(), **kw)
    _step(W.STEP_SAMPLED.format(seconds=time.perf_counter() - t))
    out = Path(out)
    fit.save(out)
    fit.roi().to_csv(out / "roi.csv")
    fit.diagnostics().to_csv(out / "diagnostics.csv")
    conv = fit.convergence
    conv.to_frame().to_csv(out / "convergence.csv")
    _step(W.STEP_REPORT)
    fit.report(out / "report.html", prior=_prior_option(args), progress=_progress())
    _step(W.STEP_WROTE.format(out=out))
    _show(fit.roi())
    print(cli_message(conv.message()))
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

    _step(W.STEP_BUNDLE.format(run=args.run))
    fit = _load_run(args.run)
    out = Path(args.out) if args.out else Path(args.run) / "report.html"
    _step(W.STEP_REPORT)
    report(fit, out, prior=_prior_option(args), progress=_progress())
    print(out)
    return EXIT_OK


def cmd_optimize(args) -> int:
    try:
        from bayes_mmm import optimize as _  # noqa: F401
    except ImportError as err:
        raise CliError(W.OPTIMIZE_UNAVAILABLE.format(err=err), EXIT_UNAVAILABLE) from err
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
    _step(W.STEP_OPTIMIZE.format(budget=args.budget, weeks=args.weeks))
    plan = fit.optimize(
        budget=args.budget,
        weeks=args.weeks,
        objective=args.objective,
        allow_unconverged=args.allow_unconverged,
        near_optimal=args.near_optimal,
        by_geo=args.by_geo,
        progress=_progress(),
    )
    _write_plan(plan, args.out)
    print(W.PLAN_PROB_BETTER.format(prob=plan.prob_better))
    if plan.near_optimal is not None:
        near = plan.near_optimal
        print(
            W.PLAN_NEAR_OPTIMAL.format(
                median=near["median"], lower=near["lower"], upper=near["upper"], p=near["p_095"]
            )
        )
    if args.report:
        from bayes_mmm.report import report

        _step(W.STEP_REPORT)
        report(fit, args.report, plan=plan, progress=_progress())
    return EXIT_OK


def _write_plan(plan, path) -> None:
    """Write a plan's table (per spend group) to the CSV ``path`` and print it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    plan.table.to_csv(out)
    _show(plan.table)


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
def _common(q: argparse.ArgumentParser) -> None:
    q.add_argument("-q", "--quiet", action="store_true", help=W.HELP_QUIET)
    q.add_argument("--show-warnings", action="store_true", help=W.HELP_SHOW_WARNINGS)


def _no_prior(q: argparse.ArgumentParser) -> None:
    q.add_argument("--no-prior", dest="prior_figure", action="store_false", help=W.HELP_NO_PRIOR)


def _sampling(q: argparse.ArgumentParser) -> None:
    q.add_argument("--draws", type=int, help=W.HELP_DRAWS)
    q.add_argument("--tune", type=int, help=W.HELP_TUNE)
    q.add_argument("--chains", type=int, help=W.HELP_CHAINS)
    q.add_argument("--seed", type=int, help=W.HELP_SEED)
    _no_prior(q)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bayes-mmm", description=W.CLI_DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help=W.HELP_CHECK)
    c.add_argument("data")
    c.add_argument("--config", required=True)
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fit", help=W.HELP_FIT)
    f.add_argument("data")
    f.add_argument("--config", required=True)
    f.add_argument("--out", required=True, help=W.HELP_OUT_RUN)
    _sampling(f)
    f.set_defaults(func=cmd_fit)

    r = sub.add_parser("report", help=W.HELP_REPORT)
    r.add_argument("run")
    r.add_argument("--out", help=W.HELP_OUT_HTML)
    _no_prior(r)
    r.set_defaults(func=cmd_report)

    o = sub.add_parser("optimize", help=W.HELP_OPTIMIZE)
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
    o.add_argument("--objective", default="mean", help=W.HELP_OBJECTIVE)
    o.add_argument("--out", required=True, help=W.HELP_PLAN_CSV)
    o.add_argument("--report", help=W.HELP_PLAN_REPORT)
    o.add_argument("--allow-unconverged", action="store_true", help=W.HELP_ALLOW_UNCONVERGED)
    o.add_argument("--by-geo", action="store_true", help=W.HELP_BY_GEO)
    o.add_argument("--near-optimal", type=int, default=40, help=W.HELP_NEAR_OPTIMAL)
    o.set_defaults(func=cmd_optimize)

    d = sub.add_parser("demo", help=W.HELP_DEMO)
    d.add_argument("--out", default="runs/demo")
    d.add_argument("--config", help=W.HELP_DEMO_CONFIG)
    _sampling(d)
    d.set_defaults(func=cmd_demo)
    for q in (c, f, r, o, d):
        _common(q)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bayes_mmm.errors import BundleError, ConvergenceError, DataError, SpecError

    _Console.quiet = args.quiet
    try:
        with library_output(args.show_warnings):
            return args.func(args)
    except CliError as err:
        print(W.CLI_ERROR.format(message=cli_message(err)), file=sys.stderr)
        return err.code
    except (DataError, SpecError, BundleError, ConvergenceError) as err:
        print(W.CLI_ERROR.format(message=cli_message(err)), file=sys.stderr)
        return EXIT_NOT_CONVERGED if isinstance(err, ConvergenceError) else EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
