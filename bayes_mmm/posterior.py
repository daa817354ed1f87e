"""``Posterior``: the value every analysis reads (data, spec, ArviZ draws, run metadata).

A ``Posterior`` sits below every analysis, the optimizer and the report: they take one,
typed, and read its public :attr:`Posterior.draws` (numpy, one flattened sample axis) and
:attr:`Posterior.convergence` (the gates of ``bayes_mmm.convergence``). ``bayes_mmm.sample``
makes one; ``bayes_mmm.bundle`` saves and loads one; the ``Fit`` facade at the top wraps
one. Nothing here samples, and nothing here imports an analysis.

Draws are processed in chunks of :data:`CHUNK` samples (:func:`chunked`), so a full
(sample, date, geo, channel) tensor is only materialised when a caller asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from bayes_mmm import convergence as conv
from bayes_mmm.data import MMMData
from bayes_mmm.model import parameter_names
from bayes_mmm.spec import ModelSpec

SAMPLE_DIMS = ("chain", "draw")
CHUNK = 250


class Draws(NamedTuple):
    """Posterior draws with (chain, draw) flattened into one leading ``sample`` axis.

    Unpacks as ``values, shape = posterior.draws``.

    Attributes
    ----------
    values : dict of str to ndarray, dims (sample, ...)
        The dims after ``sample`` are the variable's own, in the model's order.
    shape : (n_chains, n_draws)
    """

    values: dict[str, np.ndarray]
    shape: tuple[int, int]


def posterior_draws(posterior: xr.Dataset, names) -> Draws:
    """Flatten (chain, draw) of the named variables into one leading sample axis.

    Parameters
    ----------
    posterior : Dataset, dims (chain, draw, ...)
    names : iterable of str
    """
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    out = {}
    for name in names:
        # Non-sample dims keep the model's declared order, e.g. beta (geo, channel),
        # event_coef (geo, event): the response code indexes them that way.
        arr = posterior[name].transpose(*SAMPLE_DIMS, ...).values
        out[name] = arr.reshape(shape[0] * shape[1], *arr.shape[2:])
    return Draws(out, shape)


def chunked(draws: Mapping[str, np.ndarray], fn: Callable, chunk: int = CHUNK) -> np.ndarray:
    """``fn`` applied to consecutive chunks of ``chunk`` samples, concatenated on axis 0.

    Parameters
    ----------
    draws : mapping of str to ndarray, dims (sample, ...)
    fn : callable, chunk of ``draws`` → ndarray, dims (chunk sample, ...)
    """
    n = next(iter(draws.values())).shape[0]
    parts = [fn({k: v[i : i + chunk] for k, v in draws.items()}) for i in range(0, n, chunk)]
    return np.concatenate(parts, axis=0)


def to_sample_array(values: np.ndarray, shape, dims, coords, name: str) -> xr.DataArray:
    """Wrap a (sample, ...) array as a (chain, draw, ...) DataArray."""
    arr = values.reshape(*shape, *values.shape[1:])
    return xr.DataArray(arr, dims=(*SAMPLE_DIMS, *dims), coords=coords, name=name)


@dataclass(frozen=True, eq=False)
class Posterior:
    """A posterior sample of ``build_model(data, spec)`` with its run metadata.

    Attributes
    ----------
    data : MMMData
    spec : ModelSpec
    idata : xarray.DataTree
        Groups ``posterior``, ``sample_stats`` and ``observed_data`` (``y``: the scaled
        target, dims (date, geo)).
    meta : dict
        ``random_seed``, ``sampler``, ``draws``, ``tune``, ``chains``, ``compile_s``,
        ``compile_reused``, ``sample_s``, ``wall_s`` (see ``bayes_mmm.sample``).
    """

    data: MMMData
    spec: ModelSpec
    idata: xr.DataTree
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def draws(self) -> Draws:
        """The model's parameters as numpy draws, (chain, draw) flattened (see
        :class:`Draws`)."""
        post = self.idata["posterior"].to_dataset()
        return posterior_draws(post, self._parameters(post))

    def _parameters(self, post: xr.Dataset) -> list[str]:
        return [n for n in parameter_names(self.data, self.spec) if n in post]

    @cached_property
    def parameter_table(self) -> pd.DataFrame:
        """R-hat, bulk and tail ESS and MCSE per scalar parameter element."""
        post = self.idata["posterior"].to_dataset()
        return conv.diagnostics_table(post[self._parameters(post)])

    @cached_property
    def convergence(self) -> conv.Convergence:
        """Every gate's value, threshold and verdict (see ``bayes_mmm.convergence``)."""
        stats = self.idata["sample_stats"].to_dataset()
        return conv.convergence(
            self.parameter_table,
            conv.count_divergences(stats),
            conv.min_bfmi(stats),
            conv.tree_depth_share(stats),
        )

    @property
    def converged(self) -> bool:
        """True only when every convergence gate passes."""
        return self.convergence.passed

    def diagnostics(self) -> pd.DataFrame:
        """A row per scalar parameter: ``r_hat``, ``ess_bulk``, ``ess_tail``, ``mcse_mean``.

        ``df.attrs`` carries ``divergences``, ``bfmi``, ``converged`` and ``verdict``.
        """
        table = self.parameter_table.copy()
        gates = {g.name: g.value for g in self.convergence.gates}
        table.attrs.update(
            divergences=int(gates["divergences"]),
            bfmi=gates["bfmi"],
            converged=self.converged,
            verdict=self.convergence.message(),
        )
        return table

    @cached_property
    def memo(self) -> dict:
        """Results derived from the draws and kept with them (small ones only, e.g. ROI
        draws), keyed by the analysis that made them."""
        return {}

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"Posterior({self.data!r}, sampler={m.get('sampler')}, chains={m.get('chains')}, "
            f"draws={m.get('draws')}, {self.convergence.message()})"
        )


def as_posterior(obj) -> Posterior:
    """``obj`` itself when it is a :class:`Posterior`, else its ``posterior`` attribute (a
    ``Fit`` facade): analyses accept either without importing the facade."""
    if isinstance(obj, Posterior):
        return obj
    post = getattr(obj, "posterior", None)
    if isinstance(post, Posterior):
        return post
    raise TypeError(f"expected a Posterior or a Fit, got {type(obj).__name__}")
