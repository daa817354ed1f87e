"""``ModelSpec``: the modelling choices and priors, frozen and serialisable (dict / TOML).

Priors are ``pymc_extras.prior.Prior`` values; every default lives in
``bayes_mmm.priors.DEFAULT_PRIORS`` (re-exported here), whose docstring says what each one
means and on which scale.

Control adstock and mediators
-----------------------------
``control_adstock`` names controls that carry over: their standardised values pass through
a normalised geometric adstock (``control_alpha``) before their (signed) coefficient, so
``control_coef`` is still the effect of a sustained +1 sd.

``mediators = {mediator: [upstream channels]}`` is a *causal* modelling choice and therefore
lives here, not on ``MMMData`` (the data only say which columns exist). Every name is a
channel of the data. The mediator keeps its place in the revenue equation as an ordinary
channel; in addition the model fits its own equation jointly (``bayes_mmm.model``). See
``bayes_mmm.mediation`` for the assumptions this encodes.

Adstock and saturation per channel
----------------------------------
``adstock`` and ``saturation`` are each one kind for all channels or a mapping
``{channel: kind}`` (unlisted channels get ``"geometric"`` / ``"hill"``). With a mixed
mapping each parameter exists only for the channels whose kind uses it, on its own dim
(``bayes_mmm.kinds``: e.g. ``ec``/``slope`` on ``hill_channel``, ``lam`` on ``lam_channel``,
``theta`` on ``delay_channel``), so no parameter is sampled from its prior alone.
:meth:`ModelSpec.for_channels` puts the mapping in the data's channel order (``bm.fit`` and
``build_model`` call it); a spec with one kind for all channels collapses to that string.

Time-varying baseline and media
-------------------------------
``time_varying_intercept=True`` adds a per-geo latent process over time to the baseline
(``tv_intercept``) and turns the linear trend off: the process is the more flexible drift.
``time_varying_media=True`` multiplies every channel's contribution by one shared latent
multiplier over time (``media_multiplier``, mean 1 over the history); a list of channels
gives each named channel a multiplier of its own and leaves the others static. Both are
Hilbert-space GPs with a length-scale floor of ``TV_FLOOR_LAGS · l_max`` periods
(``bayes_mmm.hsgp``); ``check_time_varying`` refuses a history shorter than
``TV_MIN_FLOORS`` floors.

``beta_mu ~ Normal(-2.5, 1)`` puts a channel's effect at typical exposure at about 8% of
revenue (95%: 1%–60%): weakly informative, and on a scale the data identify.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from pymc_extras.prior import Prior, deserialize

from bayes_mmm.errors import SpecError
from bayes_mmm.kinds import ADSTOCKS, SATURATIONS, mixed_dims
from bayes_mmm.lift_test import LiftTest
from bayes_mmm.priors import DEFAULT_PRIORS

#: The length-scale floor of a time-varying process is this many adstock windows
#: (``bayes_mmm.hsgp`` explains why), and a history must span ``TV_MIN_FLOORS`` floors.
TV_FLOOR_LAGS = 3
TV_MIN_FLOORS = 2

# The parameters of each saturation kind and the dim they live on in a mixed spec.
SATURATION_PARAMS = {name: kind.names for name, kind in SATURATIONS.items()}
SATURATION_DIM = mixed_dims()
ADSTOCK_PARAMS = {name: kind.names for name, kind in ADSTOCKS.items()}
ADSTOCK_DIM = mixed_dims(ADSTOCKS)

POOLINGS = ("hierarchical", "pooled", "unpooled")
#: Panels with this many geos or more sample the media part in single precision by
#: default (``ModelSpec.float32=None``): there the gradient is 2.7× cheaper on Meridian's
#: 40-geo panel (``benchmarks/RESULTS.md``, section 4); below, compile time dominates a fit.
FLOAT32_GEOS = 20


LIKELIHOODS = ("normal", "student_t")


@dataclass(frozen=True)
class ModelSpec:
    """Modelling choices. Defaults: geometric adstock (``l_max`` 8), Hill saturation,
    hierarchical geo coefficients when there is more than one geo, linear trend and yearly
    Fourier seasonality of order 2.

    Parameters
    ----------
    adstock : {"geometric", "delayed", "weibull_pdf", "weibull_cdf"} or dict of str to str
        One kind for every channel, or ``{channel: kind}`` (unlisted channels: geometric).
    l_max : int
        Adstock window in periods.
    saturation : {"hill", "log", "neg_exp", "logistic", "michaelis_menten", "tanh"} or dict
        One kind for every channel, or ``{channel: kind}`` (unlisted channels: Hill).
    pooling : {"hierarchical", "pooled", "unpooled"} or None
        How channel coefficients are shared across geos. None: hierarchical for geo
        panels, pooled for national data.
    trend : bool
    yearly_seasonality : int
        Fourier order of the yearly cycle (0 turns it off).
    likelihood : {"normal", "student_t"}
    priors : dict of str to Prior
        Overrides of ``DEFAULT_PRIORS`` by name. Dims may be omitted.
    control_adstock : tuple of str
        Controls with geometric carryover (own decay ``control_alpha``), e.g.
        ``("promotions",)``.
    mediators : dict of str to list of str
        ``{mediator channel: [upstream channels]}``: upstream media also move the mediator
        (e.g. social ads drive search spend); fitted jointly, see ``bayes_mmm.mediation``.
    lift_tests : tuple of LiftTest (or dicts with its fields)
        Experiment results that calibrate the model (a likelihood term, see
        ``bayes_mmm.calibration``). They are part of the spec, like priors, so a saved
        bundle records the evidence the fit used.
    roi_priors : dict of str to Prior
        ``{channel: Prior}``: a prior on a paid channel's ROI (``fit.roi()``'s definition)
        instead of on its coefficient, e.g. ``{"tv": Prior("LogNormal", mu=0.7, sigma=0.2)}``
        (median ROI 2). The channel must have its own spend column. See
        ``bayes_mmm.model._roi_prior_coefficients`` for how the graph derives ``beta``.
    centred : tuple of str or "auto"
        How the hierarchical geo coefficients are parameterised (hierarchical pooling
        only). ``()`` (the default) samples every coefficient non-centred, ``log beta =
        beta_mu + beta_sigma * z``. A tuple names channels to sample fully centred, ``log
        beta[g, c] ~ Normal(beta_mu[c], beta_sigma[c])``. ``"auto"`` sets a centring weight
        per geo and channel from the data (:mod:`bayes_mmm.centring`): centred where a geo's
        own data pin the effect down, non-centred where they barely see it, partly centred
        in between. The choice changes the sampler's geometry, never the model. ``"auto"``
        is not the default because it helps only some panels: on Meridian's 40-geo panel
        with nutpie's default adaptation it raised the min ESS on three seeds, but on the
        10-geo demo panel (well-measured geos, spread ≈ 0.2) the fit no longer converged
        (R-hat 1.014) and the fast recovery fit had a divergence (``benchmarks/RESULTS.md``,
        section 2).
    float32 : bool or None
        Whether the media part of the PyMC graph (lag stack, adstock, saturation and the
        channel coefficients) runs in single precision. The baseline, the likelihood and
        every posterior analysis (numpy, on the draws) stay double precision, and the log
        density differs from the float64 graph's by ~1e-9 relative. Adstock and Hill then
        run as one vectorised float32 kernel (``bayes_mmm.fused_hill``) under nutpie: a
        gradient on Meridian's 40-geo panel costs a third of the float64 graph's
        (``benchmarks/RESULTS.md``, section 4). None (the default) picks by panel size
        (:meth:`use_float32`): single precision from ``FLOAT32_GEOS`` geos up, where the
        gradient dominates a fit and the large-panel sweep of ``benchmarks/RESULTS.md``
        (section 2) converges; double precision below, where compile time dominates and the
        national acceptance fits were measured. ``bm.fit`` records the choice in
        ``fit.meta["float32"]``.
    weekday_seasonality : int
        Fourier order of the 7-day cycle, used on daily panels only (0 turns it off). The
        default 3 gives 6 features: as flexible as 6 day-of-week dummies.
    time_varying_intercept : bool
        A per-geo latent drift of the baseline over time (``tv_intercept``, an HSGP with
        hyperparameters shared across geos); turns ``trend`` off.
    time_varying_media : bool or tuple of str
        A positive latent multiplier of the media contributions over time
        (``media_multiplier``, mean 1 over the history): True shares one process across
        all channels; a list of channels gives each its own process, the others stay
        static.
    """

    adstock: str | Mapping[str, str] = "geometric"
    l_max: int = 8
    saturation: str | Mapping[str, str] = "hill"
    pooling: str | None = None
    trend: bool = True
    yearly_seasonality: int = 2
    likelihood: str = "normal"
    priors: Mapping[str, Prior] = field(default_factory=dict)
    control_adstock: tuple[str, ...] = ()
    mediators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lift_tests: tuple[LiftTest, ...] = ()
    roi_priors: Mapping[str, Prior] = field(default_factory=dict)
    centred: str | tuple[str, ...] = ()
    float32: bool | None = None
    weekday_seasonality: int = 3
    time_varying_intercept: bool = False
    time_varying_media: bool | tuple[str, ...] = False

    def __post_init__(self) -> None:
        self._check_drivers()
        self._check_time_varying_fields()
        if not isinstance(self.l_max, int) or not 1 <= self.l_max <= 104:
            raise SpecError(f"l_max={self.l_max!r} must be an integer between 1 and 104.")
        self._check_kinds("adstock", ADSTOCKS)
        self._check_kinds("saturation", SATURATIONS)
        if self.pooling is not None and self.pooling not in POOLINGS:
            raise SpecError(f"pooling={self.pooling!r}: choose one of {POOLINGS} or None.")
        if self.float32 is not None and not isinstance(self.float32, bool):
            raise SpecError(f"float32={self.float32!r} must be True, False or None (auto).")
        if self.likelihood not in LIKELIHOODS:
            raise SpecError(f"likelihood={self.likelihood!r}: choose one of {LIKELIHOODS}.")
        if not isinstance(self.yearly_seasonality, int) or self.yearly_seasonality < 0:
            raise SpecError("yearly_seasonality must be a non-negative integer (Fourier order).")
        if not isinstance(self.weekday_seasonality, int) or not 0 <= self.weekday_seasonality <= 3:
            raise SpecError("weekday_seasonality must be an integer from 0 to 3 (Fourier order).")
        for name, p in self.priors.items():
            if name not in DEFAULT_PRIORS:
                raise SpecError(
                    f"Unknown prior name {name!r}; known names: {sorted(DEFAULT_PRIORS)}."
                )
            if not isinstance(p, Prior):
                raise SpecError(f"Prior {name!r} must be a pymc_extras Prior, got {p!r}.")

    def _check_kinds(self, name: str, registry: Mapping) -> None:
        """``SpecError`` unless field ``name`` is a kind of ``registry`` or a non-empty
        ``{channel: kind}`` mapping of them (stored as a plain dict)."""
        value = getattr(self, name)
        kinds = [value] if isinstance(value, str) else None
        if kinds is None:
            if not isinstance(value, Mapping) or not value:
                raise SpecError(
                    f"{name}={value!r}: give one of {tuple(registry)} or a non-empty dict "
                    "{channel: kind}."
                )
            object.__setattr__(self, name, dict(value))
            kinds = list(value.values())
        for kind in kinds:
            if kind not in registry:
                raise SpecError(
                    f"{name}={kind!r} is not supported; choose one of {tuple(registry)}."
                )

    def _check_drivers(self) -> None:
        ca = self.control_adstock
        if isinstance(ca, str) or not all(isinstance(c, str) for c in ca):
            raise SpecError(
                f"control_adstock={ca!r}: give a list of control names, e.g. ['promotions']."
            )
        object.__setattr__(self, "control_adstock", tuple(dict.fromkeys(ca)))
        cen = self.centred
        if cen != "auto":
            if isinstance(cen, str) or not all(isinstance(c, str) for c in cen):
                raise SpecError(
                    f"centred={cen!r}: give \"auto\" or a list of channel names, e.g. ['tv']."
                )
            object.__setattr__(self, "centred", tuple(dict.fromkeys(cen)))
        if not isinstance(self.mediators, Mapping):
            raise SpecError(
                f"mediators={self.mediators!r}: give a dict {{mediator: [upstream channels]}}."
            )
        med = {}
        for m, ups in self.mediators.items():
            if isinstance(ups, str) or not ups or not all(isinstance(u, str) for u in ups):
                raise SpecError(
                    f"mediators[{m!r}]={ups!r}: give a non-empty list of upstream channels."
                )
            bad = [u for u in ups if u == m or u in self.mediators]
            if bad:
                raise SpecError(
                    f"mediators[{m!r}] lists {bad}, which are mediators themselves: only one "
                    "level of mediation (upstream → mediator → target) is supported."
                )
            med[str(m)] = tuple(dict.fromkeys(ups))
        object.__setattr__(self, "mediators", med)
        tests = []
        for t in self.lift_tests:
            if isinstance(t, Mapping):
                fields = dict(t)
                try:
                    t = LiftTest(**fields)
                except TypeError as err:
                    raise SpecError(
                        f"Lift test {fields!r}: fields are channel, start, end, lift, se, geos."
                    ) from err
            if not isinstance(t, LiftTest):
                raise SpecError(f"lift_tests must hold LiftTest values or dicts, got {t!r}.")
            tests.append(t)
        object.__setattr__(self, "lift_tests", tuple(tests))
        self._check_roi_priors()

    def _check_time_varying_fields(self) -> None:
        if not isinstance(self.time_varying_intercept, bool):
            raise SpecError(
                f"time_varying_intercept={self.time_varying_intercept!r} must be True or False."
            )
        if self.time_varying_intercept:
            object.__setattr__(self, "trend", False)  # the process replaces the trend
        tvm = self.time_varying_media
        if not isinstance(tvm, bool):
            if isinstance(tvm, str) or not tvm or not all(isinstance(c, str) for c in tvm):
                raise SpecError(
                    f"time_varying_media={tvm!r}: give True, False or a non-empty list of "
                    "channel names, e.g. ['tv']."
                )
            object.__setattr__(self, "time_varying_media", tuple(dict.fromkeys(tvm)))

    def check_time_varying(self, channels, n_dates: int) -> None:
        """Raise ``SpecError`` when ``time_varying_media`` names channels that are not in
        the data, or when ``n_dates`` periods are too short for the time-varying processes'
        length-scale floor (``TV_FLOOR_LAGS · l_max``)."""
        tvm = self.time_varying_media
        if not isinstance(tvm, bool):
            bad = [c for c in tvm if c not in channels]
            if bad:
                raise SpecError(
                    f"time_varying_media names {bad}, which are not channels of the data "
                    f"({list(channels)}): fix the names."
                )
        if self.time_varying_intercept or tvm:
            floor = TV_FLOOR_LAGS * self.l_max
            if n_dates < TV_MIN_FLOORS * floor:
                raise SpecError(
                    f"A time-varying spec needs at least {TV_MIN_FLOORS * floor} periods "
                    f"({TV_MIN_FLOORS} length-scale floors of {TV_FLOOR_LAGS} × l_max="
                    f"{self.l_max}); the panel has {n_dates}. Use a longer history, a smaller "
                    "l_max, or a static spec."
                )

    def media_processes(self, channels) -> tuple[list[str], np.ndarray]:
        """The media multiplier's processes and the process of each channel.

        Returns
        -------
        names : list of str
            ``["all"]`` for a shared process, else the named channels (dim ``tv_process``).
        index : ndarray of int, dims (channel,)
            Each channel's process, -1 for a static channel (multiplier 1).
        """
        tvm = self.time_varying_media
        if tvm is False:
            return [], np.full(len(channels), -1)
        if tvm is True:
            return ["all"], np.zeros(len(channels), dtype=int)
        names = [c for c in channels if c in tvm]
        return names, np.array([names.index(c) if c in names else -1 for c in channels])

    def _check_roi_priors(self) -> None:
        rp = self.roi_priors
        if not isinstance(rp, Mapping) or not all(isinstance(p, Prior) for p in rp.values()):
            raise SpecError(
                f"roi_priors={rp!r}: give a dict {{channel: Prior}}, e.g. "
                '{"tv": Prior("LogNormal", mu=0.7, sigma=0.2)}.'
            )
        object.__setattr__(self, "roi_priors", {str(c): p for c, p in rp.items()})

    def check_drivers(self, channels, controls) -> None:
        """Raise ``SpecError`` when ``control_adstock`` or ``mediators`` name columns that
        are not controls / channels of the data."""
        bad = [c for c in self.control_adstock if c not in controls]
        if bad:
            raise SpecError(
                f"control_adstock names {bad}, which are not controls of the data "
                f"({list(controls)}): add them to `controls=` or fix the names."
            )
        names = [*self.mediators, *(u for ups in self.mediators.values() for u in ups)]
        names += [t.channel for t in self.lift_tests]
        bad = [c for c in names if c not in channels]
        if bad:
            raise SpecError(
                f"mediators or lift_tests name {sorted(set(bad))}, which are not channels of the "
                f"data ({list(channels)}): they must be media or organic columns."
            )
        bad = [c for c in self.centred if c not in channels] if self.centred != "auto" else []
        if bad:
            raise SpecError(
                f"centred names {bad}, which are not channels of the data ({list(channels)}): "
                "fix the names."
            )

    def check_roi_priors(self, channels, channel_group, spend_groups) -> None:
        """Raise ``SpecError`` unless every ``roi_priors`` key is a paid channel that has a
        spend column of its own (ROI is defined per spend column)."""
        for c in self.roi_priors:
            if c not in channels:
                raise SpecError(
                    f"roi_priors names {c!r}, which is not a channel of the data "
                    f"({list(channels)}): fix the name."
                )
            group = channel_group[list(channels).index(c)]
            if group is None:
                raise SpecError(f"roi_priors names {c!r}, an organic channel: it has no spend.")
            if list(channel_group).count(group) > 1:
                raise SpecError(
                    f"roi_priors names {c!r}, whose spend column {group!r} pays for several "
                    "channels: ROI is defined per spend column, so a prior on one of them is "
                    "ambiguous. Put a coefficient prior on it instead."
                )

    def mediator_paths(self) -> list[tuple[str, str]]:
        """The (upstream, mediator) pairs in a fixed order (dim ``path``)."""
        return [(u, m) for m, ups in self.mediators.items() for u in ups]

    # ------------------------------------------------------------------ priors
    def prior(self, name: str) -> Prior:
        """The prior for ``name``: the override if given (with default dims), else the default."""
        default = DEFAULT_PRIORS[name]
        p = self.priors.get(name, default)
        if not p.dims and default.dims:
            p = Prior(p.distribution, dims=default.dims, centered=p.centered, **p.parameters)
        return p

    @property
    def mixed_saturation(self) -> bool:
        """True when channels use different saturation kinds (a ``{channel: kind}`` spec)."""
        return not isinstance(self.saturation, str)

    def saturation_kinds(self, channels) -> tuple[str, ...]:
        """The saturation kind of each of ``channels`` (dims (channel,))."""
        return _kinds_by_channel(self.saturation, channels, "saturation", "hill")

    @property
    def mixed_adstock(self) -> bool:
        """True when channels use different adstock kinds (a ``{channel: kind}`` spec)."""
        return not isinstance(self.adstock, str)

    def adstock_kinds(self, channels) -> tuple[str, ...]:
        """The adstock kind of each of ``channels`` (dims (channel,)); unlisted channels of
        a mapping are geometric."""
        return _kinds_by_channel(self.adstock, channels, "adstock", "geometric")

    def adstock_param_names(self) -> tuple[str, ...]:
        """Adstock parameters the model samples, in a fixed order."""
        kinds = [self.adstock] if isinstance(self.adstock, str) else self.adstock.values()
        return tuple(dict.fromkeys(n for k in ADSTOCKS if k in kinds for n in ADSTOCK_PARAMS[k]))

    def parameter_channels(self, name: str, channels) -> list[str]:
        """The channels that carry transform parameter ``name``: all of them in a
        single-kind spec, else those whose kind uses it (its mixed dim's coordinates)."""
        for registry, kinds in (
            (ADSTOCKS, self.adstock_kinds(channels)),
            (SATURATIONS, self.saturation_kinds(channels)),
        ):
            users = [c for c, k in zip(channels, kinds) if name in registry[k].names]
            if users:
                return list(channels) if len(set(kinds)) == 1 else users
        return []

    def check_panel(self, n_dates: int, channels) -> None:
        """Raise ``SpecError`` when the spec does not fit a panel of ``n_dates`` periods
        and these ``channels``: kind mappings naming unknown channels, or a carryover
        window (``l_max``) as long as the history, which no period could inform."""
        self.adstock_kinds(channels)
        self.saturation_kinds(channels)
        if self.l_max >= n_dates:
            kinds = sorted(set(self.adstock_kinds(channels)))
            raise SpecError(
                f"l_max={self.l_max}: the {'/'.join(kinds)} adstock carries over longer than "
                f"the panel's {n_dates} periods. Use l_max below {n_dates} (at most "
                f"{max(1, n_dates // 2)} leaves half the history to estimate it) or a longer "
                "history."
            )

    def for_channels(self, channels) -> ModelSpec:
        """This spec with ``adstock`` and ``saturation`` resolved for ``channels`` (in their
        order): a single string when all channels share one kind, else a complete ordered
        mapping."""
        out: dict[str, Any] = {}
        for name, kinds in (
            ("adstock", self.adstock_kinds(channels)),
            ("saturation", self.saturation_kinds(channels)),
        ):
            out[name] = kinds[0] if len(set(kinds)) == 1 else dict(zip(channels, kinds))
        return replace(self, **out)

    def transform_param_names(self) -> tuple[str, ...]:
        """Adstock then saturation parameters the model samples, in a fixed order."""
        return (*self.adstock_param_names(), *self.saturation_param_names())

    def saturation_param_names(self) -> tuple[str, ...]:
        """Saturation parameters the model samples, in a fixed order."""
        kinds = [self.saturation] if isinstance(self.saturation, str) else self.saturation.values()
        names = [n for k in SATURATIONS if k in kinds for n in SATURATION_PARAMS[k]]
        return tuple(dict.fromkeys(names))

    def use_float32(self, n_geos: int) -> bool:
        """Whether the media part of the graph runs in single precision for a panel of
        ``n_geos`` geos: ``float32`` when set, otherwise from ``FLOAT32_GEOS`` geos up."""
        return self.float32 if self.float32 is not None else n_geos >= FLOAT32_GEOS

    def resolved_pooling(self, n_geos: int) -> str:
        """The pooling used for a panel with ``n_geos`` geos."""
        if self.pooling is None:
            return "hierarchical" if n_geos > 1 else "pooled"
        return self.pooling

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["priors"] = {k: v.to_dict() for k, v in self.priors.items()}
        if isinstance(self.saturation, Mapping):
            d["saturation"] = dict(self.saturation)
        if isinstance(self.adstock, Mapping):
            d["adstock"] = dict(self.adstock)
        if d["pooling"] is None:
            d.pop("pooling")
        d["control_adstock"] = list(self.control_adstock)
        if self.centred == ():
            d.pop("centred")  # the default
        elif self.centred != "auto":
            d["centred"] = list(self.centred)
        d["mediators"] = {m: list(u) for m, u in self.mediators.items()}
        d["lift_tests"] = [{**asdict(t), "geos": list(t.geos)} for t in self.lift_tests]
        for key in ("control_adstock", "mediators", "lift_tests"):
            if not d[key]:
                d.pop(key)  # specs without them serialise without the key
        if d["float32"] is None:
            d.pop("float32")  # the default: by panel size
        for key in ("time_varying_intercept", "time_varying_media"):
            if d[key] is False:
                d.pop(key)  # static specs serialise as before
        if isinstance(self.time_varying_media, tuple):
            d["time_varying_media"] = list(self.time_varying_media)
        d.pop("roi_priors")
        if self.roi_priors:
            d["roi_priors"] = {k: v.to_dict() for k, v in self.roi_priors.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise SpecError(f"Unknown model option(s) {unknown}; known: {sorted(known)}.")
        try:
            d["priors"] = {k: deserialize(v) for k, v in dict(d.get("priors", {})).items()}
            roi = dict(d.get("roi_priors", {}))
            d["roi_priors"] = {k: deserialize(v) for k, v in roi.items()}
        except Exception as err:  # pymc_extras raises several types for bad prior dicts
            raise SpecError(f"A prior in the spec could not be read: {err}") from err
        return cls(**d)

    def to_toml(self, path: str | Path | None = None) -> str:
        text = tomli_w.dumps(_tomlable(self.to_dict()))
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_toml(cls, source: str | Path) -> ModelSpec:
        """Read a spec from a TOML file path or TOML text (a ``[model]`` table is accepted)."""
        text = Path(source).read_text() if Path(str(source)).suffix == ".toml" else str(source)
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SpecError(f"Invalid TOML in the spec: {err}") from err
        return cls.from_dict(d.get("model", d))


def _tomlable(obj):
    """TOML has no None or tuples: drop Nones and turn tuples into lists."""
    if isinstance(obj, dict):
        return {k: _tomlable(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [_tomlable(v) for v in obj]
    return obj


def _kinds_by_channel(value, channels, name: str, default: str) -> tuple[str, ...]:
    """Each channel's kind from a spec field ``name`` (one kind, or ``{channel: kind}``
    with ``default`` for unlisted channels), dims (channel,)."""
    if isinstance(value, str):
        return tuple(value for _ in channels)
    unknown = [c for c in value if c not in channels]
    if unknown:
        raise SpecError(
            f"{name} names channel(s) {unknown} that are not in the data "
            f"({list(channels)}): fix the names in the {name} mapping."
        )
    return tuple(value.get(c, default) for c in channels)
