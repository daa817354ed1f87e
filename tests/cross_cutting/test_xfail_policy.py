"""Every ``xfail`` in the tests names the exception it expects (``raises=``), is strict and
gives its reason, so that a crash (in the test or in a fixture it wraps) can never pass as
the documented miss, and an unexpected pass is reported. Imperative ``pytest.xfail()``
cannot name an exception and is not allowed."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _is_xfail(node: ast.expr) -> bool:
    """``pytest.mark.xfail`` (or ``mark.xfail``) as an expression."""
    return isinstance(node, ast.Attribute) and node.attr == "xfail"


def xfail_violations(source: str, filename: str = "<source>") -> list[str]:
    """Each ``xfail`` in ``source`` that lacks ``raises=``, ``strict=True`` or a reason,
    and each imperative ``pytest.xfail()``, as ``file:line: problem``."""
    out = []
    tree = ast.parse(source, filename)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and _is_xfail(node.func):
            value = node.func.value
            if isinstance(value, ast.Name) and value.id == "pytest":
                out.append(f"{where}: pytest.xfail() cannot name the exception it expects")
                continue
            kw = {k.arg: k.value for k in node.keywords}
            if "raises" not in kw:
                out.append(f"{where}: xfail without raises=")
            strict = kw.get("strict")
            if not (isinstance(strict, ast.Constant) and strict.value is True):
                out.append(f"{where}: xfail without strict=True")
            reason = kw.get("reason")
            if reason is None or (isinstance(reason, ast.Constant) and not reason.value):
                out.append(f"{where}: xfail without a reason")
        elif _is_xfail(node) and id(node) not in calls:
            out.append(f"{where}: bare xfail mark (no raises=, strict=True or reason)")
    return out


def test_every_xfail_names_its_exception_and_is_strict():
    problems = []
    for path in sorted(TESTS.rglob("*.py")):
        problems += xfail_violations(path.read_text(), str(path.relative_to(TESTS)))
    assert not problems, "\n".join(problems)


def test_the_policy_catches_each_kind_of_violation():
    bad = """
import pytest
from pytest import mark

@pytest.mark.xfail
def test_a(): ...

@pytest.mark.xfail(strict=True, reason="known")
def test_b(): ...

@mark.xfail(raises=AssertionError, reason="known")
def test_c(): ...

@pytest.mark.xfail(raises=AssertionError, strict=True)
def test_d(): ...

def test_e():
    pytest.xfail("later")

P = pytest.param(2, marks=pytest.mark.xfail(strict=False, raises=ValueError, reason="r"))
"""
    found = xfail_violations(bad)
    assert len(found) == 6, found
    for line, problem in [
        (5, "bare xfail"),
        (8, "without raises="),
        (11, "without strict=True"),
        (14, "without a reason"),
        (18, "pytest.xfail()"),
        (20, "without strict=True"),
    ]:
        assert any(f":{line}: " in f and problem in f for f in found), (line, found)
    good = (
        "import pytest\n@pytest.mark.xfail(raises=AssertionError, strict=True, reason='r')\n"
        "def test_f(): ...\n"
    )
    assert xfail_violations(good) == []
