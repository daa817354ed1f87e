"""Progress bars: shown when asked or watched, never under CI or with ``progress=False``."""

import io
import sys

import pytest

from bayes_mmm import progress
from bayes_mmm.report import build_payload


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_explicit_switch_wins(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert progress.enabled(True)
    assert not progress.enabled(False)


def test_default_shows_in_a_terminal_but_not_under_ci(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Tty())
    monkeypatch.delenv("CI", raising=False)
    assert progress.enabled(None)
    monkeypatch.setenv("CI", "1")
    assert not progress.enabled(None)


def test_default_is_silent_when_piped(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress.enabled(None)


def test_iterate_yields_every_item_with_and_without_a_bar(capsys):
    assert list(progress.iterate(iter([1, 2, 3]), "items", True, total=3)) == [1, 2, 3]
    assert "items" in capsys.readouterr().err
    assert list(progress.iterate([1, 2], "items", False)) == [1, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("show", [True, False])
def test_optimizer_starts_show_a_bar_only_when_asked(tiny_fit, capsys, show):
    budget = float(tiny_fit.data.spend.sum()) / tiny_fit.data.n_dates * 4
    plan = tiny_fit.optimize(
        budget, weeks=4, solver="slsqp", allow_unconverged=True, near_optimal=0, progress=show
    )
    assert plan.budget == pytest.approx(budget)
    assert ("optimizer starts" in capsys.readouterr().err) is show


def test_report_build_counts_its_sections(tiny_fit, capsys):
    payload = build_payload(tiny_fit, prior=None, progress=True)
    assert payload.sections
    assert "report sections" in capsys.readouterr().err


@pytest.mark.parametrize("ci", [None, "true"])
def test_optimizer_bar_at_the_default_shows_in_a_terminal_and_never_under_ci(
    tiny_fit, monkeypatch, ci
):
    """``progress=None`` (the default) in a terminal: a bar, unless ``CI`` is set (CI logs)."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    terminal = _Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    budget = float(tiny_fit.data.spend.sum()) / tiny_fit.data.n_dates * 4
    tiny_fit.optimize(budget, weeks=4, solver="slsqp", allow_unconverged=True, near_optimal=0)
    assert ("optimizer starts" in terminal.getvalue()) is (ci is None)
