"""The documentation site's griffe extension (``docs/griffe_sphinx_roles.py``): Sphinx roles
in the docstrings become optional autorefs links to the objects they name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

griffe = pytest.importorskip("griffe")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def package():
    spec = importlib.util.spec_from_file_location("roles", ROOT / "docs" / "griffe_sphinx_roles.py")
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    extensions = griffe.load_extensions(roles.SphinxRoles)
    return griffe.load("bayes_mmm", search_paths=[ROOT], extensions=extensions)


def test_a_role_links_to_the_object_its_scope_imports(package):
    doc = package["optimize.mediated.mediate"].docstring.value
    # ``Planner`` is imported into bayes_mmm.optimize.mediated from the window module.
    assert '<autoref identifier="bayes_mmm.optimize.window.Planner" optional>' in doc
    assert "<code>Planner</code></autoref>" in doc
    assert '"bayes_mmm.optimize.mediated.MediatedPlanner" optional>' in doc


def test_a_tilde_shows_the_last_component_only(package):
    doc = package["fit.Fit"].docstring.value
    assert (
        '<autoref identifier="bayes_mmm.posterior.Posterior" optional><code>Posterior</code>'
    ) in doc


def test_no_role_is_left_as_raw_text(package):
    stack, raw = [package], []
    while stack:
        obj = stack.pop()
        if obj.docstring is not None and ":class:`" in obj.docstring.value:
            raw.append(obj.path)
        stack.extend(m for m in obj.members.values() if not m.is_alias)
    assert not raw
