"""The bad-input corpus (``tests/cross_cutting/bad_inputs/cases.json``): every malformed
dataset or call raises the package's own error (a ``ValueError``) whose message names the
problem and the fix, never a PyMC/pytensor/pandas exception and never a silent result.
Inputs marked ``error: null`` must be accepted, with a ``DataWarning`` naming the problem
where the case says ``warns``. ``from_frame`` must leave every input frame untouched.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import bayes_mmm as bm
from bayes_mmm import errors, optimize

CORPUS = Path(__file__).parent / "bad_inputs"
SPEC = json.loads((CORPUS / "cases.json").read_text())
CASES = {c["name"]: c for c in SPEC["cases"]}
FRAME_CASES = [n for n, c in CASES.items() if "csv" in c]


def read_frame(case: dict) -> pd.DataFrame:
    df = pd.read_csv(CORPUS / case["csv"])
    if "columns" in case:
        df.columns = case["columns"]
    return df


def kwargs_of(case: dict) -> dict:
    kw = {**SPEC["base_kwargs"], **case.get("kwargs", {})}
    return {k: v for k, v in kw.items() if v is not None}


@cache
def base_panel() -> bm.MMMData:
    return bm.MMMData.from_frame(pd.read_csv(CORPUS / "frames" / "base.csv"), **SPEC["base_kwargs"])


def run_case(case: dict, tmp_path: Path, tiny_fit):
    call = case["call"]
    if call == "from_frame":
        return bm.MMMData.from_frame(read_frame(case), **kwargs_of(case))
    if call == "build_model":
        data = bm.MMMData.from_frame(read_frame(case), **kwargs_of(case))
        return bm.build_model(data, bm.ModelSpec(**case["spec"]))
    if call == "roi":
        return tiny_fit.roi(**case["call_kwargs"])
    if call == "optimize":
        return optimize.optimize(tiny_fit, **case["call_kwargs"])
    if call == "load":
        path = damage_bundle(tiny_fit, tmp_path / "bundle", case["damage"])
        return bm.load(path, **case.get("call_kwargs", {}))
    raise AssertionError(f"unknown call {call!r} in case {case['name']}")


def damage_bundle(fit, path: Path, damage: dict) -> Path:
    """Save ``fit`` to ``path`` and apply one damage described in the corpus."""
    fit.save(path)
    target = path / damage["file"]
    if "set" in damage:
        meta = json.loads(target.read_text())
        for dotted, value in damage["set"].items():
            node = meta
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        target.write_text(json.dumps(meta))
    if "truncate" in damage:
        target.write_bytes(target.read_bytes()[: damage["truncate"]])
    if "write" in damage:
        target.write_text(damage["write"])
    if "prepend" in damage:
        target.write_text(damage["prepend"] + target.read_text())
    if damage.get("delete"):
        target.unlink()
    return path


def test_corpus_is_large_and_complete():
    assert len(CASES) >= 40
    for case in CASES.values():
        assert case["error"] in (None, "DataError", "SpecError", "BundleError"), case["name"]
        assert case["error"] is None or case["words"], case["name"]
        assert case.get("warns") in (None, "DataWarning"), case["name"]
        if "csv" in case:
            assert (CORPUS / case["csv"]).is_file(), case["name"]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_raises_our_error_naming_the_problem(name, tmp_path, tiny_fit):
    case = CASES[name]
    if case["error"] is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_case(case, tmp_path, tiny_fit)
        ours = [w for w in caught if issubclass(w.category, bm.DataWarning)]
        if case.get("warns"):
            assert len(ours) == 1, [str(w.message) for w in caught]
            for word in case["words"]:
                assert word in str(ours[0].message), f"{word!r} not in: {ours[0].message}"
        else:
            assert not ours, [str(w.message) for w in ours]
        if case.get("same_as_base"):
            assert result.data_hash == base_panel().data_hash
        return
    expected = getattr(errors, case["error"])
    with pytest.raises(ValueError) as info:
        run_case(case, tmp_path, tiny_fit)
    # exactly our type, not a pandas/pymc ValueError that happens to match
    assert isinstance(info.value, expected), (type(info.value), info.value)
    message = str(info.value)
    for word in case["words"]:
        assert word in message, f"{word!r} not in: {message}"


@pytest.mark.parametrize("name", FRAME_CASES)
def test_from_frame_never_modifies_the_input(name):
    case = CASES[name]
    df = read_frame(case)
    snapshot = df.copy(deep=True)
    try:
        bm.MMMData.from_frame(df, **kwargs_of(case))
    except bm.DataError:
        pass
    pd.testing.assert_frame_equal(df, snapshot)
    assert list(df.columns) == list(snapshot.columns)


def test_unsorted_rows_give_the_base_panel_sorted():
    data = bm.MMMData.from_frame(read_frame(CASES["unsorted_rows"]), **SPEC["base_kwargs"])
    assert data.dates.is_monotonic_increasing
    assert data.geos == ("geo_a", "geo_b")
    assert data.data_hash == base_panel().data_hash
