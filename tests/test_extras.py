"""Optional extras: a missing package stops with a one-line install hint."""

from __future__ import annotations

import sys

import pytest

from bayes_mmm.extras import EXTRAS, MissingExtra, missing, require


def test_require_names_what_is_missing_and_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "sklearn", None)
    assert missing("notebooks") == ["scikit-learn", "ipywidgets"]
    with pytest.raises(MissingExtra) as info:
        require("notebooks")
    message = str(info.value)
    assert isinstance(info.value, ImportError) and "\n" not in message
    assert message.endswith("pip install 'bayes_mmm[notebooks]'")
    assert "scikit-learn, ipywidgets" in message


def test_require_passes_when_installed_and_refuses_unknown_extras():
    for mod in EXTRAS["notebooks"]:
        pytest.importorskip(mod)
    require("notebooks")
    with pytest.raises(KeyError, match="known: baselines, notebooks"):
        require("nope")
