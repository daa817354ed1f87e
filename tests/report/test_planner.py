"""The offline planner page (``report.planner``): its JavaScript reproduces the Python
window problem on the same draws, it makes no request, and its optimizer plan is the
optimizer's.

The page's arithmetic runs under Node (``templates/planner.js`` exports it) when ``node``
is on the PATH, and the whole page in headless Chromium through Playwright when that is
installed; each test skips otherwise.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_mmm import SpecError
from bayes_mmm import optimize as opt
from bayes_mmm.report.planner import MAX_DRAWS, TEMPLATES, planner, planner_model, thin

NODE = shutil.which("node")


def _model_from_page(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    tag = '<script type="application/json" id="planner-model">'
    found = re.search(re.escape(tag) + "(.*?)</script>", text, re.S)
    return json.loads(found.group(1))


def _node(model: dict, plans: list, tmp_path: Path) -> list:
    """``evaluate`` of planner.js under Node for each plan (group spend)."""
    (tmp_path / "model.json").write_text(json.dumps(model))
    script = (
        f"const p = require({json.dumps(str(TEMPLATES / 'planner.js'))});"
        f"const m = p.prepare(require({json.dumps(str(tmp_path / 'model.json'))}));"
        f"const plans = {json.dumps(plans)};"
        "console.log(JSON.stringify(plans.map((s) => { const r = p.evaluate(m, s);"
        " return {revenue: Array.from(r.revenue), change: Array.from(r.change),"
        " incremental: Array.from(r.incremental), prob: r.probBetter,"
        " mroi: r.groups.map((g) => g.mroi.mean), change_mean: r.changeSummary.mean,"
        " change_lower: r.changeSummary.lower, change_upper: r.changeSummary.upper,"
        " csv: p.csv(m, s)}; })));"
    )
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def page(tiny_fit, tmp_path_factory):
    budget = float(tiny_fit.data.spend[-13:].sum())  # the current plan's budget
    plan = tiny_fit.optimize(budget, allow_unconverged=True)
    path = planner(tiny_fit, tmp_path_factory.mktemp("planner") / "planner.html", plan=plan)
    return path, plan


def test_page_is_self_contained_and_small(page):
    path, _ = page
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 3_000_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "default-src 'none'" in text  # the browser refuses any request the page tries


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_page_arithmetic_equals_what_if_and_the_planner(tiny_fit, page, tmp_path):
    path, _ = page
    model = _model_from_page(path)
    cur = np.array(model["current"])
    factor = np.array([1.2, 0.7, 1.0])
    scenario = opt.what_if(
        tiny_fit, spend_change={"tv": 0.2, "search": -0.3}, allow_unconverged=True
    )
    zero = np.zeros(len(cur))
    got_s, got_z = _node(model, [(cur * factor).tolist(), zero.tolist()], tmp_path)
    change = scenario.change.values.ravel()  # the page keeps all 200 draws of the tiny fit
    np.testing.assert_allclose(got_s["change"], change, rtol=1e-9, atol=1e-9 * np.abs(change).max())
    assert got_s["change_mean"] == pytest.approx(change.mean(), rel=1e-9)
    assert got_s["change_lower"] == pytest.approx(np.quantile(change, 0.05), rel=1e-9)
    assert got_s["change_upper"] == pytest.approx(np.quantile(change, 0.95), rel=1e-9)
    assert got_s["prob"] == pytest.approx((change > 0).mean())
    # revenue and marginal ROI against the planner on the same draws
    _, pl = planner_model(tiny_fit)
    cells = pl.history_spend * factor[None]
    revenue, gradient = pl.revenue(cells, grad=True)
    np.testing.assert_allclose(got_s["revenue"], revenue, rtol=1e-9)
    np.testing.assert_allclose(
        got_s["mroi"], opt.marginal_roi(gradient, cells).mean(axis=0), rtol=1e-9
    )
    np.testing.assert_allclose(got_z["incremental"], 0.0, atol=1e-9 * np.abs(revenue).max())
    # the exported CSV has the columns of `bayes-mmm optimize --out` (Allocation.table)
    table = pd.read_csv(io.StringIO(got_s["csv"]), index_col="channel")
    assert list(table.columns) == ["current", "optimal"]
    np.testing.assert_allclose(table["optimal"], cur * factor, rtol=1e-12)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_thinned_page_equals_the_planner_on_its_draws(tiny_fit, tmp_path):
    model, pl = planner_model(tiny_fit, max_draws=17)
    assert model["n_draws"] == 17 == pl.base.shape[0]
    assert list(thin(200, 17)) == sorted(set(thin(200, 17)))
    spend = (np.array(model["current"]) * 1.5).tolist()
    (got,) = _node(model, [spend], tmp_path)
    np.testing.assert_allclose(got["revenue"], pl.revenue(pl.current(sum(spend))), rtol=1e-9)


def test_optimizer_plan_is_embedded_as_given(page):
    path, plan = page
    model = _model_from_page(path)
    np.testing.assert_allclose(model["optimal"], plan.spend.to_numpy(), rtol=1e-12)
    assert model["labels"] == list(plan.spend.index)
    assert model["n_draws"] == min(MAX_DRAWS, 200)


def test_bad_requests(tiny_fit):
    with pytest.raises(SpecError, match="max_draws"):
        planner_model(tiny_fit, max_draws=1)


def _chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    return sync_playwright


def _launch(p):
    """Playwright's own Chromium, else the system's (``chromium-headless-shell`` or
    ``chromium`` on the PATH); skip when neither starts."""
    system = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    for kwargs in ({}, {"executable_path": system} if system else None):
        if kwargs is None:
            continue
        try:
            return p.chromium.launch(**kwargs)
        except Exception as err:  # no browser binary installed
            reason = str(err).splitlines()[0]
    pytest.skip(f"no Chromium for Playwright: {reason}")


def test_page_in_chromium_makes_no_request_and_matches(tiny_fit, page, tmp_path):
    sync_playwright = _chromium()
    path, plan = page
    # The test leaves tracked files alone; BAYES_MMM_SCREENSHOT=1 refreshes the
    # screenshot the benchmarks page shows.
    repo_shot = Path(__file__).resolve().parents[2] / "benchmarks" / "planner.png"
    shot = repo_shot if os.environ.get("BAYES_MMM_SCREENSHOT") == "1" else tmp_path / "planner.png"
    with sync_playwright() as p:
        browser = _launch(p)
        pg = browser.new_page()
        requests = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(path.as_uri())
        pg.wait_for_function("window.plannerResult !== undefined")
        before = pg.evaluate("window.plannerResult.changeSummary.mean")
        pg.click("#load-optimal")
        got = pg.evaluate("window.plannerResult")
        np.testing.assert_allclose(got["spend"], plan.spend.to_numpy(), rtol=1e-12)
        pg.fill("#groups tr:nth-child(1) input[type=number]", "5000")
        pg.press("#groups tr:nth-child(1) input[type=number]", "Enter")
        after = pg.evaluate("window.plannerResult.changeSummary.mean")
        assert after != before
        pg.click("#load-optimal")
        pg.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []
    _, pl = planner_model(tiny_fit)
    share = pl.history_spend / pl.history_spend.sum(axis=0)
    change = pl.revenue(share * plan.spend.to_numpy()[None]) - pl.revenue(pl.current())
    assert got["changeSummary"]["mean"] == pytest.approx(change.mean(), rel=1e-9)


def test_report_writes_the_planner_alongside(tiny_fit, page, tmp_path):
    from bayes_mmm.report import report

    _, plan = page
    out = report(tiny_fit, tmp_path / "r.html", plan=plan, prior=None, planner=True)
    side = tmp_path / "r.planner.html"
    assert out.is_file() and side.is_file()
    assert _model_from_page(side)["optimal"] == plan.spend.tolist()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_page_reproduces_the_planner_on_an_rf_fit(tmp_path):
    """A reach-and-frequency channel: scaled reach times each draw's frequency gain,
    adstocked, with a linear saturation (``optimize.rf_window``)."""
    import bayes_mmm as bm

    rf_fit = bm.load(Path(__file__).resolve().parents[1] / "fixtures" / "tiny_rf")
    model, pl = planner_model(rf_fit, max_draws=23)
    assert model["kinds"][rf_fit.data.channels.index("video")] == "linear"
    spend = (np.array(model["current"]) * np.array([0.6, 1.4])).tolist()
    (got,) = _node(model, [spend], tmp_path)
    cells = pl.history_spend * np.array([0.6, 1.4])[None]
    np.testing.assert_allclose(got["revenue"], pl.revenue(cells), rtol=1e-9)
