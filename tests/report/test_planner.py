"""The offline planner page (``report.planner``): its JavaScript reproduces the Python
window problem on the same draws, it makes no request, and its optimizer plan is the
optimizer's.

The page's arithmetic runs under Node (``templates/planner.js`` exports it) when ``node``
is on the PATH, and the whole page in headless Chromium through Playwright when that is
installed; each test skips otherwise.
"""

from __future__ import annotations

import contextlib
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


def _node(model: dict, plans: list, tmp_path: Path, cells: bool = False) -> list:
    """``evaluate`` of planner.js under Node for each plan (group spend), or with
    ``cells`` ``evaluateCells`` (cell spend, (geo, spend_group) flattened)."""
    (tmp_path / "model.json").write_text(json.dumps(model))
    call = "p.evaluateCells(m, s)" if cells else "p.evaluate(m, s)"
    export = "p.csvCells(m, s)" if cells else "p.csv(m, s)"
    script = (
        f"const p = require({json.dumps(str(TEMPLATES / 'planner.js'))});"
        f"const m = p.prepare(require({json.dumps(str(tmp_path / 'model.json'))}));"
        f"const plans = {json.dumps(plans)};"
        f"console.log(JSON.stringify(plans.map((s) => {{ const r = {call};"
        " return {revenue: Array.from(r.revenue), change: Array.from(r.change),"
        " incremental: Array.from(r.incremental), prob: r.probBetter,"
        " mroi: r.groups.map((g) => g.mroi.mean), change_mean: r.changeSummary.mean,"
        " change_lower: r.changeSummary.lower, change_upper: r.changeSummary.upper,"
        " cell_mroi: r.geoCells.map((row) => row.map((c) => c.mroi.mean)),"
        f" csv: {export}}}; }})));"
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


@contextlib.contextmanager
def _open_page(path: Path, requests: list):
    """The page loaded in headless Chromium, every request it makes appended to
    ``requests``."""
    with _chromium()() as p:
        browser = _launch(p)
        pg = browser.new_page()
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(path.as_uri())
        pg.wait_for_function("window.plannerResult !== undefined")
        yield pg
        browser.close()


def test_page_in_chromium_makes_no_request_and_matches(tiny_fit, page, tmp_path):
    path, plan = page
    # The test leaves tracked files alone; BAYES_MMM_SCREENSHOT=1 refreshes the
    # screenshot the benchmarks page shows.
    repo_shot = Path(__file__).resolve().parents[2] / "benchmarks" / "planner.png"
    shot = repo_shot if os.environ.get("BAYES_MMM_SCREENSHOT") == "1" else tmp_path / "planner.png"
    requests = []
    with _open_page(path, requests) as pg:
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


def _cell_plan(tiny_fit) -> np.ndarray:
    """Current cells (geo, spend_group) with one geo's spend moved: geo 2's ``tv`` doubled
    and its ``social`` halved, geo 1's ``search`` cut by 40%."""
    _, pl = planner_model(tiny_fit)
    cells = pl.history_spend.copy()
    cells[2, 0] *= 2.0
    cells[2, 2] *= 0.5
    cells[1, 1] *= 0.6
    return cells


def _scenarios_uplift(tiny_fit, cells: np.ndarray) -> np.ndarray:
    """``fit.scenarios`` of the per-geo plan against the current one, per draw: the
    forecast of two future frames (``fit.plan_frame`` of a geo × group table), a code path
    apart from the planner's."""
    data = tiny_fit.data
    frame = pd.DataFrame(cells, index=list(data.geos), columns=data.group_labels)
    current = data.spend[-13:].sum(axis=0)  # (geo, group)
    frames = {
        "current": tiny_fit.plan_frame(pd.DataFrame(current, frame.index, frame.columns)),
        "plan": tiny_fit.plan_frame(frame),
    }
    cmp = tiny_fit.scenarios(frames, reference="current", controls="last")
    return cmp.uplift.sel(scenario="plan").values.ravel()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_per_geo_plan_equals_scenarios_and_the_planner(tiny_fit, page, tmp_path):
    """A plan that moves spend in single geos: the page's change per draw is
    ``fit.scenarios``' uplift of the same geo × group plan, and each cell's marginal ROI
    the planner's gradient, on the same (all 200) draws."""
    path, _ = page
    model = _model_from_page(path)
    cells = _cell_plan(tiny_fit)
    (got,) = _node(model, [cells.ravel().tolist()], tmp_path, cells=True)
    uplift = _scenarios_uplift(tiny_fit, cells)
    scale = np.abs(uplift).max()
    np.testing.assert_allclose(got["change"], uplift, rtol=1e-8, atol=1e-9 * scale)
    assert got["prob"] == pytest.approx((uplift > 0).mean())
    _, pl = planner_model(tiny_fit)
    revenue, gradient = pl.revenue(cells, grad=True)
    np.testing.assert_allclose(got["revenue"], revenue, rtol=1e-9)
    np.testing.assert_allclose(got["cell_mroi"], gradient.mean(axis=0), rtol=1e-9)
    # the per-geo export is the table ``fit.plan_frame`` reads
    table = pd.read_csv(io.StringIO(got["csv"]), index_col="geo")
    assert list(table.index) == [str(g) for g in tiny_fit.data.geos]
    np.testing.assert_allclose(table.to_numpy(), cells, rtol=1e-12)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_group_totals_split_like_history_are_the_national_plan(tiny_fit, page, tmp_path):
    """The national view is the per-geo computation at history's split: evaluating group
    totals and the cells they split into gives the same numbers."""
    path, _ = page
    model = _model_from_page(path)
    spend = (np.array(model["current"]) * np.array([0.8, 1.3, 1.1])).tolist()
    share = np.array(model["share"]).reshape(len(model["geos"]), -1)
    (national,) = _node(model, [spend], tmp_path)
    split = (share * np.array(spend)[None]).ravel().tolist()
    (per_geo,) = _node(model, [split], tmp_path, cells=True)
    np.testing.assert_allclose(per_geo["change"], national["change"], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(per_geo["mroi"], national["mroi"], rtol=1e-12)


def test_a_by_geo_plan_is_embedded_by_its_cells(tiny_fit):
    budget = float(tiny_fit.data.spend[-13:].sum())
    plan = tiny_fit.optimize(budget, by_geo=True, allow_unconverged=True)
    model, _ = planner_model(tiny_fit, plan=plan)
    np.testing.assert_allclose(model["optimal_cells"], plan.spend.to_numpy().ravel(), rtol=1e-12)
    np.testing.assert_allclose(model["optimal"], plan.spend.sum(axis=0), rtol=1e-12)


def _shown(text: str) -> float:
    """The mean in a summary cell such as ``'1,234 (90% interval …)'``."""
    return float(text.split(" ")[0].replace(",", "").replace("\u2212", "-"))


def test_per_geo_sliders_in_chromium_match_scenarios(tiny_fit, page):
    """Pick a geo, move its sliders, read the displayed change: it is ``fit.scenarios``'
    uplift of the same per-geo plan (the page's own number exactly, the displayed one to
    its rounding), and the national view follows the group totals."""
    path, _ = page
    cells = _cell_plan(tiny_fit)
    geos = [str(g) for g in tiny_fit.data.geos]
    requests = []
    with _open_page(path, requests) as pg:
        for g, k in [(2, 0), (2, 2), (1, 1)]:
            pg.select_option("#geo", label=geos[g])
            row = f"#geo-groups tr:nth-child({k + 1})"
            if k == 0:  # drag: set the range input and fire its input event
                pg.locator(f"{row} input[type=range]").evaluate(
                    "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }",
                    float(cells[g, k]),
                )
            else:  # type a value
                pg.fill(f"{row} input[type=number]", repr(float(cells[g, k])))
                pg.press(f"{row} input[type=number]", "Enter")
        result = pg.evaluate("window.plannerResult")
        shown = _shown(pg.inner_text("#change"))
        group_box = pg.input_value("#groups tr:nth-child(1) input[type=number]")
    assert [u for u in requests if not u.startswith("file:")] == []
    np.testing.assert_allclose(np.reshape(result["cells"], cells.shape), cells, rtol=1e-12)
    uplift = _scenarios_uplift(tiny_fit, cells)
    assert result["changeSummary"]["mean"] == pytest.approx(uplift.mean(), rel=1e-8)
    assert result["probBetter"] == pytest.approx((uplift > 0).mean())
    assert shown == pytest.approx(uplift.mean(), rel=0.01, abs=1.0)
    assert float(group_box) == pytest.approx(cells[:, 0].sum(), abs=0.01)
