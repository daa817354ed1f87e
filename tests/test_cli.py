"""The ``bayes-mmm`` command: config parsing, clear errors, the demo's config lookup, fit →
report → optimize on a shipped CSV as a subprocess, and entry points that never look for
the repository around the package."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import cli, datasets

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(bm.__file__).resolve().parent
PANEL = datasets.path(datasets.DEMO_PANEL)
QUICK = datasets.path(datasets.DEMO_QUICK_CONFIG)


def _run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "bayes_mmm.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    """The shipped demo panel cut to 3 geos × 78 weeks, to keep the CLI fit fast."""
    df = pd.read_csv(PANEL)
    df = df[df["geo"].isin(["geo_00", "geo_01", "geo_02"])]
    df = df[df["date"] < "2023-07-01"]
    path = tmp_path_factory.mktemp("cli") / "small.csv"
    df.to_csv(path, index=False)
    return path


def test_shipped_configs_parse():
    configs = [datasets.path(n) for n in datasets.names() if n.endswith(".toml")]
    assert len(configs) == 2
    for path in configs:
        cfg = cli.load_config(path)
        bm.ModelSpec.from_dict(cfg["model"])
        assert set(cfg["data"]["media"]) <= set(pd.read_csv(PANEL, nrows=1).columns)


def test_bad_config_and_bad_data_print_one_message(tmp_path, small_csv, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[model]\nl_max = 4\n")
    assert cli.main(["check", str(small_csv), "--config", str(cfg)]) == cli.EXIT_INPUT
    assert "needs a [data] table" in capsys.readouterr().err

    cfg.write_text(
        '[data]\ndate = "date"\ntarget = "revenue"\ngeo = "geo"\nmedia = ["tv", "billboards"]\n'
    )
    proc = _run("check", small_csv, "--config", cfg)
    assert proc.returncode == cli.EXIT_INPUT
    assert "billboards" in proc.stderr and "Traceback" not in proc.stderr

    cfg.write_text(QUICK.read_text() + 'sampler_kwargs = "draw_diag"\n')
    assert cli.main(["check", str(small_csv), "--config", str(cfg)]) == cli.EXIT_INPUT
    assert "sampler_kwargs must be a table" in capsys.readouterr().err

    assert cli.main(["report", str(tmp_path / "nope")]) == cli.EXIT_INPUT
    assert "No bundle" in capsys.readouterr().err


@pytest.mark.sampling
def test_check_prints_collinearity_and_runtime(small_csv, capsys):
    assert cli.main(["check", str(small_csv), "--config", str(QUICK)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "VIF" in out and "price_index" in out
    assert "Runtime plan" in out and "one gradient" in out


@pytest.mark.sampling
def test_fit_then_report_then_optimize(small_csv, tmp_path, capsys):
    run = tmp_path / "run"
    config = tmp_path / "quick.toml"  # QUICK ends in its [fit] table: sampler options go on
    config.write_text(
        QUICK.read_text() + 'target_accept = 0.85\n[fit.sampler_kwargs]\nadaptation = "draw_diag"\n'
    )
    proc = _run(
        "fit",
        small_csv,
        "--config",
        config,
        "--out",
        run,
        "--draws",
        50,
        "--tune",
        50,
        "--chains",
        2,
        "--seed",
        3,
        "--no-prior",
    )
    # 50 draws cannot converge: the outputs are written and the exit code says so.
    assert proc.returncode == cli.EXIT_NOT_CONVERGED, proc.stderr
    for name in ("meta.json", "posterior.nc", "roi.csv", "diagnostics.csv", "report.html"):
        assert (run / name).is_file(), name
    roi = pd.read_csv(run / "roi.csv", index_col=0)
    assert list(roi.index) == ["tv", "search", "social", "display", "radio"]
    assert {"mean", "median", "lower", "upper", "spend"} <= set(roi.columns)
    assert 'class="verdict fail"' in (run / "report.html").read_text()
    assert "sampling 2 chains" in proc.stderr  # progress on stderr
    meta = json.loads((run / "meta.json").read_text())["run"]
    assert meta["target_accept"] == 0.85
    assert meta["sampler_kwargs"] == {"adaptation": "draw_diag"}

    (run / "report.html").unlink()
    proc = _run("report", run, "--no-prior")
    assert proc.returncode == cli.EXIT_OK, proc.stderr
    assert (run / "report.html").stat().st_size > 50_000

    plan = tmp_path / "plan.csv"
    args = ["optimize", str(run), "--budget", "300000", "--weeks", "4", "--out", str(plan)]
    assert cli.main(args) == cli.EXIT_NOT_CONVERGED  # refuses an unconverged fit
    assert "--allow-unconverged" in capsys.readouterr().err
    assert cli.main([*args, "--allow-unconverged", "--near-optimal", "5"]) == cli.EXIT_OK
    assert "Share of the best plan's uplift, by the posterior: median" in capsys.readouterr().out
    table = pd.read_csv(plan, index_col=0)
    assert table["optimal"].sum() == pytest.approx(300000, rel=1e-6)


def test_demo_config_resolves_shipped_names_and_keeps_paths(tmp_path, monkeypatch):
    assert cli.demo_config(None) == datasets.path(datasets.DEMO_CONFIG)
    quick = datasets.path(datasets.DEMO_QUICK_CONFIG)
    assert cli.demo_config("demo_geo_panel_quick") == quick
    assert cli.demo_config("demo_geo_panel_quick.toml") == quick
    # A file in the working directory wins over a shipped config of the same name.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo_geo_panel_quick.toml").write_text(quick.read_text())
    assert cli.demo_config("demo_geo_panel_quick.toml") == Path("demo_geo_panel_quick.toml")
    assert cli.demo_config("missing.toml") == Path("missing.toml")


@pytest.mark.parametrize("module", ["cli.py", "demo.py"])
def test_cli_and_demo_do_not_reach_for_the_repository(module):
    source = (PACKAGE / module).read_text()
    # Paths built from the module's own location reach for the source tree around it.
    assert "__file__" not in source
    assert not re.search(r"\.parents\[|\.parent\.parent", source)
    for folder in ("data", "configs"):
        joined = rf"""/\s*["']{folder}["']|["']{folder}["']\s*/|["']{folder}/"""
        assert not re.search(joined, source), f"a path into the repository's {folder}/"


def test_quiet_drops_step_messages_but_not_errors(tmp_path, small_csv, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[model]\nl_max = 4\n")
    assert cli.main(["check", str(small_csv), "--config", str(cfg)]) == cli.EXIT_INPUT
    assert "[bayes-mmm] validating data" in capsys.readouterr().err
    assert cli.main(["check", str(small_csv), "--config", str(cfg), "-q"]) == cli.EXIT_INPUT
    err = capsys.readouterr().err
    assert "[bayes-mmm]" not in err and "needs a [data] table" in err


def test_tables_print_whole(capsys):
    wide = pd.DataFrame({f"column_{i}": range(200) for i in range(30)})
    with pd.option_context("display.max_rows", 10, "display.max_columns", 5):
        cli._show(wide)
    out = capsys.readouterr().out
    assert "..." not in out
    assert "column_29" in out and "\n199 " in out


def test_messages_name_flags_not_keyword_arguments():
    err = bm.ConvergenceError("Refit, or pass allow_unconverged=True to proceed anyway.")
    assert cli.cli_message(err) == "Refit, or pass --allow-unconverged to proceed anyway."
    hint = cli.cli_message("try adaptation=draw_diag in sampler_kwargs")
    assert hint == 'try adaptation = "draw_diag" in the config\'s [fit.sampler_kwargs]'


def test_library_warnings_and_logs_are_hidden_unless_asked(caplog):
    import logging
    import warnings

    logger = logging.getLogger("pymc")
    before = logger.level
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with cli.library_output(show=False):
            warnings.warn("numba object mode", UserWarning, stacklevel=1)
            logger.warning("Sampling 2 chains")
        assert not seen and "Sampling" not in caplog.text
        with cli.library_output(show=True):
            warnings.warn("numba object mode", UserWarning, stacklevel=1)
            logger.warning("Sampling 2 chains")
    assert [str(w.message) for w in seen] == ["numba object mode"]
    assert "Sampling 2 chains" in caplog.text
    assert logger.level == before


def test_every_subcommand_takes_quiet_and_show_warnings():
    p = cli.parser()
    for command in (["check", "x.csv", "--config", "c.toml"], ["report", "run"]):
        args = p.parse_args([*command, "--quiet", "--show-warnings"])
        assert args.quiet and args.show_warnings
    args = p.parse_args(["demo", "--draws", "200", "--tune", "100", "--chains", "2", "-q"])
    assert (args.draws, args.tune, args.chains, args.quiet) == (200, 100, 2, True)


def test_optimize_with_a_target_writes_the_least_budget_plan(tmp_path, capsys):
    plan = tmp_path / "plan.csv"
    run = ROOT / "tests" / "fixtures" / "tiny_fit"
    base = ["optimize", str(run), "--weeks", "13", "--out", str(plan)]
    assert cli.main([*base, "--allow-unconverged"]) == cli.EXIT_INPUT  # neither
    assert "either --budget or --target" in capsys.readouterr().err
    args = [*base, "--target", "100000", "--target-prob", "0.6", "--allow-unconverged"]
    assert cli.main(args) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Least 13-week budget with P ≥ 60%" in out
    table = pd.read_csv(plan, index_col=0)
    assert table["optimal"].sum() > 0
