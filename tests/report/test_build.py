"""The report's payload: the verdict switch and the budget section built from a plan."""

from bayes_mmm import convergence, optimize
from bayes_mmm.report import build, render, wording


def test_converged_verdict_switches_to_green(tiny_fit):
    """The template switch, fed a passing set of gates."""
    gates = tuple(
        convergence.Gate(g.name, g.value, g.threshold, True, g.remedy)
        for g in tiny_fit.convergence.gates
    )
    v = build.verdict(tiny_fit, convergence.Convergence(gates))
    assert v.css == "pass" and v.title == wording.VERDICT_PASS
    assert all(row[3] == wording.GATE_PASS for row in v.gates.rows)


def test_report_with_budget_plan(tiny_fit, tmp_path):
    plan = optimize.optimize(
        tiny_fit,
        budget=float(tiny_fit.data.spend[-4:].sum()),
        weeks=4,
        allow_unconverged=True,
        n_starts=1,
        near_optimal=8,
    )
    payload = build.build_payload(tiny_fit, plan=plan)
    section = next(s for s in payload.sections if s.anchor == "budget")
    assert f"{float(plan.prob_better):.0%}" in section.intro
    near = plan.near_optimal
    assert "Taking 8 posterior draws" in section.intro
    assert f"a median {near['median']:.0%} of the extra" in section.intro
    assert section.images and section.tables[0].rows
    assert len(section.tables[0].rows) == len(plan.table)
    html = render(payload)
    assert wording.BUDGET_FIGURE in html
