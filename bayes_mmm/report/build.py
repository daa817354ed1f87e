"""Build the report payload from a posterior: every number and figure is computed here.

Figures come from ``bayes_mmm.plot`` and are inlined as base64 PNG, so the HTML file has
no external resource of any kind.
"""

from __future__ import annotations

import base64
import io
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayes_mmm import datachecks, plot, ppc, results
from bayes_mmm.analysis import channel_contribution_draws, summarize
from bayes_mmm.bundle import library_versions
from bayes_mmm.convergence import R_HAT_MAX
from bayes_mmm.posterior import SAMPLE_DIMS, Posterior, as_posterior
from bayes_mmm.progress import iterate
from bayes_mmm.report import wording as W
from bayes_mmm.report.payload import Headline, Image, Payload, Section, Table, Verdict
from bayes_mmm.spec import TV_FLOOR_LAGS

PAYBACK_PROB = 0.9
DPI = 90


def image(fig, title: str, caption: str = "") -> Image:
    """Render a Figure to an inlined PNG and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Image(title=title, src=src, caption=caption)


def _interval(row, fmt: str) -> str:
    return fmt.format(lo=row["lower"], hi=row["upper"])


# ---------------------------------------------------------------------- sections
def _totals(post: Posterior):
    """Per-draw totals over dates and geos: channel contributions (sample, channel) and
    baseline (sample,)."""
    draws, shape = post.draws
    contrib = channel_contribution_draws(
        post.data, post.spec, draws, reduce=lambda x: x.sum(axis=(1, 2))
    )
    base = results.baseline(post).sum(("date", "geo")).values.reshape(-1)
    return contrib, base, shape


def headlines(post: Posterior, roi, p_roi, contrib, base, shape, conv, hdi_prob) -> list[Headline]:
    import xarray as xr

    target = post.data.target_name
    share = contrib.sum(axis=1) / (contrib.sum(axis=1) + base)
    share_t = summarize(
        xr.DataArray(share.reshape(shape), dims=SAMPLE_DIMS).expand_dims(q=["share"]), hdi_prob
    ).iloc[0]
    c_da = xr.DataArray(
        contrib.reshape(*shape, -1),
        dims=(*SAMPLE_DIMS, "channel"),
        coords={"channel": list(post.data.channels)},
    )
    c_t = summarize(c_da, hdi_prob)
    largest = c_t["mean"].idxmax()
    best, worst = roi["median"].idxmax(), roi["median"].idxmin()
    payers = [c for c in roi.index if p_roi[c] >= PAYBACK_PROB]
    probs = ", ".join(f"{c} {p_roi[c]:.0%}" for c in roi.index)
    out = [
        Headline(
            W.Q_MEDIA_SHARE.format(target=target),
            W.A_MEDIA_SHARE.format(share=share_t["mean"], target=target),
            _interval(share_t, W.I_SHARE),
        ),
        Headline(
            W.Q_BEST,
            W.A_BEST.format(channel=best, roi=roi.loc[best, "median"]),
            _interval(roi.loc[best], W.I_ROI),
        ),
        Headline(
            W.Q_WORST,
            W.A_WORST.format(channel=worst, roi=roi.loc[worst, "median"]),
            _interval(roi.loc[worst], W.I_ROI),
        ),
        Headline(
            W.Q_PAYBACK,
            W.A_PAYBACK.format(channels=", ".join(payers)) if payers else W.A_PAYBACK_NONE,
            W.I_PAYBACK.format(probs=probs),
        ),
        Headline(
            W.Q_LARGEST.format(target=target),
            W.A_LARGEST.format(channel=largest, value=c_t.loc[largest, "mean"]),
            _interval(c_t.loc[largest], W.I_VALUE),
        ),
        Headline(
            W.Q_TRUST,
            W.A_TRUST_YES if conv.passed else W.A_TRUST_NO,
            W.I_TRUST_PASS.format(n=len(conv.gates))
            if conv.passed
            else W.I_TRUST_FAIL.format(names=", ".join(g.name for g in conv.failed)),
        ),
    ]
    return out


def verdict(post: Posterior, conv) -> Verdict:
    gates = Table(
        W.SECTION_VERDICT,
        W.GATE_COLUMNS,
        [
            [
                g.name,
                f"{g.value:.4g}",
                g.threshold,
                W.GATE_PASS if g.passed else W.GATE_FAIL,
                "" if g.passed else g.remedy,
            ]
            for g in conv.gates
        ],
        [not g.passed for g in conv.gates],
    )
    table = post.diagnostics().sort_values("r_hat", ascending=False).head(8)
    worst = Table(
        W.WORST_PARAMETERS,
        W.PARAM_COLUMNS,
        [
            [name, f"{r.r_hat:.3f}", f"{r.ess_bulk:.0f}", f"{r.ess_tail:.0f}"]
            for name, r in table.iterrows()
        ],
        [bool(r.r_hat > R_HAT_MAX) for _, r in table.iterrows()],
    )
    if conv.passed:
        return Verdict("pass", W.VERDICT_PASS, W.VERDICT_INTRO, gates, worst)
    return Verdict("fail", W.VERDICT_FAIL.format(n=len(conv.failed)), W.VERDICT_INTRO, gates, worst)


def fit_section(post: Posterior, prior, holdout, hdi_prob, random_seed) -> Section:
    metrics = ppc.ppc_metrics(post, hdi_prob=hdi_prob, random_seed=random_seed)
    rows = []
    for name, r in metrics.iterrows():
        pct = name != "r2"
        fmt = "{:.1%}" if pct else "{:.3f}"
        interval = (
            ""
            if np.isnan(r["lower"])
            else (f"{fmt.format(r['lower'])} to {fmt.format(r['upper'])}")
        )
        rows.append([name, fmt.format(r["mean"]), interval, W.PPC_MEANING[name]])
    tables = [Table(W.SECTION_FIT, W.PPC_COLUMNS, rows)]
    if holdout is not None:
        m = holdout.metrics
        tables.append(
            Table(
                f"{W.HOLDOUT_TITLE}: {holdout.weeks}",
                W.HOLDOUT_COLUMNS,
                [[k, f"{v:.3g}"] for k, v in m.items()],
            )
        )
    images = [image(plot.model_fit(post, prob=hdi_prob, random_seed=random_seed), W.FIT_FIGURE)]
    if prior is not None:
        shift = ppc.prior_posterior_shift(post, prior)
        images.append(
            image(
                plot.prior_posterior(shift),
                W.PRIOR_FIGURE,
                W.PRIOR_CAPTION.format(informed=int(shift["informed"].sum()), total=len(shift)),
            )
        )
    images.append(image(plot.rank(post), W.DIAG_FIGURE))
    return Section(
        "fit", W.SECTION_FIT, W.FIT_INTRO.format(target=post.data.target_name), tables, images
    )


def contrib_section(post: Posterior, roi, p_roi, contrib, hdi_prob) -> Section:
    target = post.data.target_name
    mean_contrib = dict(zip(post.data.channels, contrib.mean(axis=0)))
    rows = [
        [
            c,
            f"{r['median']:.2f}",
            _interval(r, W.I_ROI),
            f"{p_roi[c]:.0%}",
            f"{r['spend']:,.0f}",
            f"{mean_contrib.get(c, np.nan):,.0f}",
        ]
        for c, r in roi.iterrows()
    ]
    images = [
        image(plot.contributions_over_time(post), W.CONTRIB_FIGURE),
        image(plot.decomposition_waterfall(post), W.WATERFALL_FIGURE.format(target=target)),
        image(plot.roi_forest(post, hdi_prob), W.ROI_FIGURE),
    ]
    if len(post.data.geos) > 1:
        images.append(image(plot.roi_heatmap(post), W.ROI_GEO_FIGURE))
    return Section(
        "contributions",
        W.SECTION_CONTRIB,
        W.CONTRIB_INTRO.format(target=target),
        [Table(W.ROI_FIGURE, W.ROI_COLUMNS, rows)],
        images,
    )


def curves_section(post: Posterior, hdi_prob) -> Section:
    return Section(
        "curves",
        W.SECTION_CURVES,
        W.CURVES_INTRO,
        images=[
            image(plot.response_curves(post, prob=hdi_prob), W.CURVES_FIGURE),
            image(plot.adstock_decay(post, prob=hdi_prob), W.ADSTOCK_FIGURE),
        ],
    )


def time_varying_section(post: Posterior, hdi_prob) -> Section | None:
    """The latent curves of a time-varying spec; None for a static one."""
    spec = post.spec
    parts = [W.TIME_VARYING_PARTS["intercept"]] if spec.time_varying_intercept else []
    parts += [W.TIME_VARYING_PARTS["media"]] if spec.time_varying_media else []
    fig = plot.time_varying(post, prob=hdi_prob) if parts else None
    if fig is None:
        return None
    floor = TV_FLOOR_LAGS * spec.l_max
    return Section(
        "time-varying",
        W.SECTION_TIME_VARYING,
        W.TIME_VARYING_INTRO.format(parts=" and ".join(parts), floor=floor),
        images=[image(fig, W.TIME_VARYING_FIGURE)],
    )


def budget_section(post: Posterior, plan, what_if, hdi_prob) -> Section:
    if plan is None and what_if is None:
        return Section("budget", W.SECTION_BUDGET, W.BUDGET_NONE)
    tables, images, intro = [], [], ""
    if plan is not None:
        up = np.asarray(plan.uplift).reshape(-1)
        lo, hi = np.quantile(up, [(1 - hdi_prob) / 2, (1 + hdi_prob) / 2])
        intro = W.BUDGET_INTRO.format(
            budget=float(plan.budget),
            weeks=plan.weeks,
            prob=float(plan.prob_better),
            target=post.data.target_name,
            uplift=float(up.mean()),
            lo=lo,
            hi=hi,
        )
        near = getattr(plan, "near_optimal", None)
        if near is not None:
            intro += W.BUDGET_NEAR_OPTIMAL.format(
                draws=near.attrs["draws"],
                target=post.data.target_name,
                median=near["median"],
                lower=near["lower"],
                upper=near["upper"],
                p=near["p_095"],
            )
        t = plan.table
        tables.append(
            Table(
                W.SECTION_BUDGET,
                [t.index.name or "", *map(str, t.columns)],
                [[str(i), *(_fmt(v) for v in row)] for i, row in t.iterrows()],
            )
        )
        images.append(image(plot.budget(plan), W.BUDGET_FIGURE))
    if what_if is not None:
        t = what_if.table
        tables.append(
            Table(
                f"{W.WHAT_IF_TITLE}: {what_if.sentence}",
                [t.index.name or "", *map(str, t.columns)],
                [[str(i), *(_fmt(v) for v in row)] for i, row in t.iterrows()],
            )
        )
    return Section("budget", W.SECTION_BUDGET, intro, tables, images)


def _frame_table(title: str, t, flags=None) -> Table:
    return Table(
        title,
        [t.index.name or "", *map(str, t.columns)],
        [[str(i), *(_fmt(v) for v in row)] for i, row in t.iterrows()],
        list(flags) if flags is not None else [],
    )


def forward_section(post: Posterior, forecast=None, scenarios=None, cv=None) -> Section | None:
    """Forecast fan chart, scenario comparison, cross-validation and the refresh report;
    None when there is none of them."""
    refresh = post.meta.get("refresh")
    if forecast is None and scenarios is None and cv is None and not refresh:
        return None
    tables, images = [], []
    if forecast is not None:
        fig = plot.forecast_fan(post, forecast)
        images.append(image(fig, W.FORECAST_FIGURE.format(target=post.data.target_name)))
    if scenarios is not None:
        ref = scenarios.reference
        tables.append(_frame_table(W.SCENARIOS_TITLE.format(reference=ref), scenarios.table))
        images.append(image(plot.scenarios(scenarios), W.SCENARIOS_FIGURE.format(reference=ref)))
    if cv is not None:
        title = W.CV_TITLE.format(folds=len(cv.folds), horizon=cv.horizon)
        tables.append(_frame_table(title, cv.table))
        images.append(image(cv.plot(), W.CV_FIGURE))
    if refresh:
        t = pd.DataFrame.from_dict(refresh["table"], orient="index")
        t.index.name = "channel"
        title = W.REFRESH_TITLE.format(
            old=refresh["old_dates"], new=refresh["new_dates"], flag_sd=refresh["flag_sd"]
        )
        tables.append(_frame_table(title, t.drop(columns="flagged"), t["flagged"].astype(bool)))
    return Section("forward", W.SECTION_FORWARD, W.FORWARD_INTRO, tables, images)


def _fmt(v) -> str:
    if isinstance(v, float | np.floating):
        x = float(v)
        return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"
    return str(v)


def data_section(post: Posterior) -> Section:
    checks = datachecks.data_checks(post.data)
    rows = [
        [
            name,
            f"{r.zero_share:.0%}",
            f"{r.max_abs_corr:.2f}",
            str(r.most_correlated_with),
            f"{r.vif:.1f}",
            W.FLAG_YES if r.flag else W.FLAG_NO,
        ]
        for name, r in checks.iterrows()
    ]
    intro = W.DATA_INTRO.format(vif=datachecks.VIF_MAX, corr=datachecks.CORRELATION_MAX)
    return Section(
        "data",
        W.SECTION_DATA,
        intro,
        [Table(W.SECTION_DATA, W.DATA_COLUMNS, rows, list(checks["flag"]))],
    )


def repro_section(post: Posterior) -> Section:
    rows = [["data hash", post.data.data_hash], ["data", repr(post.data)]]
    rows += [[f"run.{k}", _fmt(v)] for k, v in post.meta.items()]
    rows += [[f"version.{k}", v] for k, v in library_versions().items()]
    code = (
        post.spec.to_toml()
        + "\n# run metadata\n"
        + json.dumps(dict(post.meta), default=str, indent=1)
    )
    return Section(
        "repro",
        W.SECTION_REPRO,
        W.REPRO_INTRO,
        [Table(W.SECTION_REPRO, W.REPRO_COLUMNS, rows)],
        code=code,
    )


# ---------------------------------------------------------------------- payload
def build_payload(
    posterior: Posterior,
    plan=None,
    what_if=None,
    prior=None,
    holdout=None,
    hdi_prob: float = 0.9,
    random_seed: int | None = 0,
    progress: bool | None = None,
    forecast=None,
    scenarios=None,
    cv=None,
) -> Payload:
    """Compute every number and figure of the report.

    Parameters
    ----------
    plan : Allocation-like, optional
        Duck-typed: ``table`` (``current``, ``optimal``), ``uplift`` (chain, draw),
        ``prob_better``, ``budget``, ``weeks``; ``near_optimal`` (``fit.optimize(...,
        near_optimal=k)``) adds how close to the best plan the posterior expects it to be.
    what_if : WhatIf-like, optional
        ``table`` and ``sentence``.
    prior : DataTree, optional
        Prior draws (``sample.prior_predictive``) for the prior-vs-posterior figure.
    holdout : holdout.Holdout, optional
    progress : bool or None
        A bar over the sections: None shows it in a terminal or notebook but not under
        ``CI``, False never (``bayes_mmm.progress``).
    forecast : Dataset, optional
        ``forecast.predict(..., as_xarray=True)``: a fan chart in "Looking forward".
    scenarios : ScenarioComparison-like, optional
        ``table``, ``reference`` (``forecast.compare_scenarios``).
    cv : CVResult-like, optional
        ``folds``, ``horizon``, ``table``, ``plot()`` (``bm.cross_validate``).

    A refreshed fit's change report (``meta["refresh"]``) is shown there too.
    """
    post = as_posterior(posterior)
    d = post.data
    conv = post.convergence
    roi = results.roi(post, hdi_prob=hdi_prob)
    p_roi = (results.roi_draws(post) > 1).mean(SAMPLE_DIMS).to_series()
    contrib, base, shape = _totals(post)
    subtitle = W.SUBTITLE.format(
        target=d.target_name,
        n_dates=d.n_dates,
        freq=d.freq,
        start=d.dates[0].date(),
        end=d.dates[-1].date(),
        n_geos=len(d.geos),
        n_channels=len(d.channels),
    )
    steps = [
        lambda: fit_section(post, prior, holdout, hdi_prob, random_seed),
        lambda: contrib_section(post, roi, p_roi, contrib, hdi_prob),
        lambda: curves_section(post, hdi_prob),
        lambda: time_varying_section(post, hdi_prob),
        lambda: budget_section(post, plan, what_if, hdi_prob),
        lambda: forward_section(post, forecast, scenarios, cv),
        lambda: data_section(post),
        lambda: repro_section(post),
    ]
    built = [step() for step in iterate(steps, "report sections", progress)]
    sections = [s for s in built if s is not None]
    return Payload(
        title=W.TITLE,
        subtitle=subtitle,
        interval_note=W.INTERVAL_NOTE.format(prob=hdi_prob),
        headlines_title=W.SECTION_HEADLINES,
        headlines=headlines(post, roi, p_roi, contrib, base, shape, conv, hdi_prob),
        verdict_title=W.SECTION_VERDICT,
        verdict=verdict(post, conv),
        sections=sections,
        footer=W.FOOTER.format(version=library_versions()["bayes_mmm"]),
    )
