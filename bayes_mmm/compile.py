"""Compile a model for nutpie once per graph, and reuse it for fits of new data.

``bm.build_model`` passes all data as shared inputs (``transforms.graph_data``), so two
models built from different data of the same shapes under the same spec have the same log
density graph up to those inputs. The compiled sampler model is kept in this process and a
later fit of the same graph swaps the data in (``nutpie``'s ``with_data``) instead of
compiling again: cross-validation folds of one window length, simulation-based calibration
runs, per-market models, or re-fits with another seed pay the compile once.

The key is the graph itself: its printed structure, the values of every constant in it
(priors, masks, anything data-derived that is not an input) and the traced variables.
Shared inputs enter the key by position, type and static shape only, so a hit is the same
compiled code run on new inputs, which samples exactly as a fresh compile would (see
``tests/test_compile.py``). Across processes numba's disk cache does the same job for the
compiled graph (a new process still builds nutpie's small wrapper, ~5 s).
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from typing import Any

import pymc as pm
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import ancestors
from pytensor.tensor.type import TensorType

MAX_CACHED = 4
_CACHE: OrderedDict[str, Any] = OrderedDict()  # nutpie compiled models (untyped)


def _inputs_and_key(model: pm.Model, var_names: list[str]) -> tuple[list, str]:
    """The model's shared inputs (renamed ``data_0``, ``data_1``, … in graph order) and the
    graph key."""
    # the traced variables as functions of the sampled values, as nutpie compiles them
    outputs = [model.logp(), *model.replace_rvs_by_values([model[n] for n in var_names])]
    shared: list[SharedVariable] = []
    digest = hashlib.sha256()
    for var in ancestors(outputs):
        if isinstance(var, SharedVariable) and isinstance(var.type, TensorType):
            if var.type.ndim == 0:  # a dim length: part of the graph, not data
                digest.update(repr(var.get_value()).encode())
                continue
            var.name = f"data_{len(shared)}"
            shared.append(var)
        elif isinstance(var, Constant):
            data = var.data
            digest.update(f"{getattr(data, 'dtype', '')}{getattr(data, 'shape', '')}".encode())
            digest.update(data.tobytes() if hasattr(data, "tobytes") else repr(data).encode())
    text = io.StringIO()
    pytensor.dprint(outputs, file=text, print_type=True)
    digest.update(text.getvalue().encode())
    digest.update(repr(list(var_names)).encode())
    return shared, digest.hexdigest()


def compile_nutpie(model: pm.Model, var_names: list[str]):
    """``nutpie.compile_pymc_model(model, var_names=...)``, reused across same-graph fits.

    Returns
    -------
    compiled : nutpie compiled model
        With this model's data.
    hit : bool
        Whether a model compiled earlier in this process was reused.
    """
    import nutpie

    shared, key = _inputs_and_key(model, var_names)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key].with_data(**{v.name: v.get_value() for v in shared}), True
    compiled = nutpie.compile_pymc_model(model, var_names=var_names)
    _CACHE[key] = compiled
    while len(_CACHE) > MAX_CACHED:
        _CACHE.popitem(last=False)
    return compiled, False


def clear_cache() -> None:
    """Forget the compiled models of this process (the next fit compiles again)."""
    _CACHE.clear()
