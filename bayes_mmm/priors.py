"""The default priors of ``bayes_mmm.spec.ModelSpec`` (``DEFAULT_PRIORS``).

Priors are ``pymc_extras.prior.Prior`` values. Every default lives in ``DEFAULT_PRIORS``
below, on the *scaled* problem (target / geo mean, media / mean non-zero exposure, see
``bayes_mmm.data``), so one table serves panels of any currency and size:

=================  ==========  =============================================================
name               dims        meaning
=================  ==========  =============================================================
level              geo         mean of the scaled target in a geo (≈ 1); the intercept is
                               derived from it (``bayes_mmm.model``, centred baseline)
trend              geo         linear change over the whole span, share of mean target
season             fourier     yearly Fourier coefficients (shared across geos)
control_coef       control     effect of one standard deviation of a control (either sign)
beta_mu            channel     log effect at typical exposure, population mean over geos
beta_sigma         channel     spread of log effects across geos (non-centred)
group_sigma        channel     spread of log effects across geo groups (with ``geo_group``)
alpha              channel     geometric / delayed adstock decay
theta              channel     delayed adstock: periods from exposure to peak effect
weibull_scale      channel     Weibull adstock scale, in periods
weibull_shape      channel     Weibull adstock shape
ec                 channel     Hill half-saturation, in units of typical exposure
slope              channel     Hill slope, truncated to [0.5, 3] so the curve stays smooth
lam                channel     log / negative-exponential / logistic saturation rate
km                 channel     Michaelis–Menten half-saturation, in units of typical exposure
tanh_scale         channel     tanh saturation bend, in units of typical exposure
event_mu           event       effect of an event (holiday) as a share of geo revenue,
                               population mean over geos
event_sigma        event       spread of event effects across geos (centred, see model)
sigma              geo         observation noise, share of mean target
nu                 (scalar)    Student-t degrees of freedom
control_alpha      adstock_    geometric carryover of the controls in ``control_adstock``
                   control     (e.g. promotions that keep selling after the week they run)
mediator_coef      path        effect of an upstream channel at typical exposure on its
                               mediator, as a share of the mediator's typical value
mediator_level     geo,        mean of the scaled mediator (≈ 1); intercept derived (centred)
                   mediator
mediator_trend     mediator    linear change of the mediator over the span
mediator_sigma     mediator    noise of the mediator equation (scaled)
tv_intercept_eta   (scalar)    amplitude of the time-varying baseline (share of mean target),
                               shared by the geos' processes
tv_intercept_ls    (scalar)    length-scale excess ``r`` of the baseline process: ``ls =
                               floor · (1 + r)``, ``floor = 3 · l_max`` (``bayes_mmm.hsgp``)
tv_media_eta       (scalar)    amplitude of the log media multiplier's processes
tv_media_ls        (scalar)    length-scale excess of the media processes (as above)
=================  ==========  =============================================================
"""

from __future__ import annotations

from pymc_extras.prior import Prior

from bayes_mmm.kinds import transform_parameters

DEFAULT_PRIORS: dict[str, Prior] = {
    "level": Prior("Normal", mu=1.0, sigma=0.2, dims="geo"),
    "trend": Prior("Normal", mu=0.0, sigma=0.2, dims="geo"),
    "season": Prior("Normal", mu=0.0, sigma=0.2, dims="fourier"),
    "weekday": Prior("Normal", mu=0.0, sigma=0.1, dims="weekday_fourier"),
    "control_coef": Prior("Normal", mu=0.0, sigma=0.2, dims="control"),
    "beta_mu": Prior("Normal", mu=-2.5, sigma=1.0, dims="channel"),
    "beta_sigma": Prior("HalfNormal", sigma=0.3, dims="channel"),
    "group_sigma": Prior("HalfNormal", sigma=0.2, dims="channel"),
    # adstock and saturation parameters: declared with their kinds (bayes_mmm.kinds)
    **{name: p.prior for name, p in transform_parameters().items()},
    "sigma": Prior("HalfNormal", sigma=0.1, dims="geo"),
    "nu": Prior("Gamma", alpha=2.0, beta=0.1),
    "event_mu": Prior("Normal", mu=0.0, sigma=0.5, dims="event"),
    "event_sigma": Prior("HalfNormal", sigma=0.2, dims="event"),
    "control_alpha": Prior("Beta", alpha=1.0, beta=3.0, dims="adstock_control"),
    "mediator_coef": Prior("LogNormal", mu=-1.5, sigma=1.0, dims="path"),
    "mediator_level": Prior("Normal", mu=1.0, sigma=0.3, dims=("geo", "mediator")),
    "mediator_trend": Prior("Normal", mu=0.0, sigma=0.3, dims="mediator"),
    "mediator_sigma": Prior("HalfNormal", sigma=0.3, dims="mediator"),
    "tv_intercept_eta": Prior("HalfNormal", sigma=0.1),
    "tv_intercept_ls": Prior("Gamma", alpha=2.0, beta=1.0),
    "tv_media_eta": Prior("HalfNormal", sigma=0.2),
    "tv_media_ls": Prior("Gamma", alpha=2.0, beta=1.0),
}
