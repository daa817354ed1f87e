"""``bm.report(fit, "report.html")``: one self-contained, offline HTML report.

Layers: ``build`` computes numbers and figures into ``payload`` dataclasses, ``wording``
holds every user-facing sentence, and Jinja2 templates (``templates/``, shipped as
package data) only loop over prepared rows. Figures are base64 PNGs; there is no CDN,
font, script or any other external resource, so the file reads offline and can be mailed.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from bayes_mmm.posterior import Posterior, as_posterior
from bayes_mmm.report.build import build_payload
from bayes_mmm.report.payload import Payload
from bayes_mmm.report.planner import planner
from bayes_mmm.sample import prior_predictive

TEMPLATES = Path(__file__).parent / "templates"

__all__ = ["Payload", "build_payload", "planner", "render", "report"]


def render(payload: Payload) -> str:
    """The HTML text of a payload."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(p=payload)


def report(
    posterior: Posterior,
    path: str | Path = "report.html",
    plan=None,
    what_if=None,
    prior="auto",
    holdout=None,
    hdi_prob: float = 0.9,
    random_seed: int | None = 0,
    prior_samples: int = 300,
    progress: bool | None = None,
    planner: bool = False,
    forecast=None,
    scenarios=None,
    cv=None,
) -> Path:
    """Write the HTML report of a posterior (or the ``Fit`` around one) to ``path`` and
    return the path.

    Parameters
    ----------
    plan : Allocation, optional
        A budget plan (``fit.optimize(...)``); section 6 shows it when given.
    what_if : WhatIf, optional
    prior : DataTree, "auto" or None
        Prior draws for the prior-vs-posterior figure; "auto" draws ``prior_samples``
        with ``sample.prior_predictive`` (compiles the model once), None leaves it out.
    holdout : holdout.Holdout, optional
    progress : bool or None
        A bar over the report's sections (``bayes_mmm.progress``; None: in a terminal or
        notebook, not under ``CI``).
    planner : bool
        Also write the offline budget planner page (``report.planner``, with ``plan``
        marked) next to the report, as ``<name>.planner.html``.
    forecast, scenarios, cv : optional
        A forecast (``fit.predict(..., as_xarray=True)``), a scenario comparison
        (``fit.scenarios``) and a ``bm.cross_validate`` result for the "Looking forward"
        section, which also shows a refreshed fit's change report.
    """
    write_planner = globals()["planner"]  # the argument `planner` shadows the function
    post = as_posterior(posterior)
    if isinstance(prior, str) and prior == "auto":
        prior = prior_predictive(post.data, post.spec, prior_samples, random_seed)
    payload = build_payload(
        post,
        plan=plan,
        what_if=what_if,
        prior=prior,
        holdout=holdout,
        hdi_prob=hdi_prob,
        random_seed=random_seed,
        progress=progress,
        forecast=forecast,
        scenarios=scenarios,
        cv=cv,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(payload), encoding="utf-8")
    if planner:
        weeks = plan.weeks if plan is not None else 13
        write_planner(post, path.with_suffix(".planner.html"), weeks, plan=plan)
    return path
