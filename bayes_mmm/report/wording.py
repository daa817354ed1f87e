"""All user-facing text of the HTML report, in one place.

Templates hold no wording beyond markup; the builder fills these strings with numbers.
Plain language first (a marketing manager reads the top), statistics second (a data
scientist reads the details and the reproducibility block).
"""

TITLE = "Marketing mix model report"
SUBTITLE = (
    "{target} · {n_dates} {freq} periods ({start} to {end}) · {n_geos} geo(s) · "
    "{n_channels} channel(s)"
)
INTERVAL_NOTE = (
    "Every number comes with a {prob:.0%} interval: given the data and the model, the true "
    "value lies in it with {prob:.0%} probability."
)

# ---------------------------------------------------------------- 1. headlines
SECTION_HEADLINES = "Answers"
Q_MEDIA_SHARE = "How much of {target} does paid media drive?"
A_MEDIA_SHARE = "{share:.1%} of modelled {target}"
I_SHARE = "{lo:.1%} to {hi:.1%}"
Q_BEST = "Which channel returns the most per unit spent?"
A_BEST = "{channel}: {roi:.2f} per unit spent"
Q_WORST = "Which channel returns the least?"
A_WORST = "{channel}: {roi:.2f} per unit spent"
I_ROI = "{lo:.2f} to {hi:.2f}"
Q_PAYBACK = "Which channels pay back their spend (ROI above 1)?"
A_PAYBACK = "{channels}"
A_PAYBACK_NONE = "none with probability above 90%"
I_PAYBACK = "probability ROI > 1: {probs}"
Q_LARGEST = "Which channel contributes the most {target}?"
A_LARGEST = "{channel}: {value:,.0f}"
I_VALUE = "{lo:,.0f} to {hi:,.0f}"
Q_TRUST = "Can these numbers be trusted?"
A_TRUST_YES = "Yes: the sampler converged"
A_TRUST_NO = "Not yet: the sampler did not converge (see below)"
I_TRUST_PASS = "all {n} sampling checks passed"
I_TRUST_FAIL = "failed checks: {names}"

# ---------------------------------------------------------------- 2. verdict
SECTION_VERDICT = "Convergence verdict"
VERDICT_PASS = "Converged: every sampling check passed."
VERDICT_FAIL = (
    "NOT CONVERGED: {n} check(s) failed. Do not use these results for decisions until "
    "the fixes below are applied and the model is re-fitted."
)
VERDICT_INTRO = (
    "The posterior is only a result if independent chains agree (R-hat), enough "
    "effectively independent draws were taken (ESS), and the sampler met no pathologies "
    "(divergences, low energy BFMI, maximum tree depth)."
)
GATE_COLUMNS = ["check", "value", "needs", "status", "what to do if it fails"]
GATE_PASS = "pass"
GATE_FAIL = "FAIL"
WORST_PARAMETERS = "Parameters with the worst R-hat"
PARAM_COLUMNS = ["parameter", "R-hat", "ESS bulk", "ESS tail"]

# ---------------------------------------------------------------- 3. model fit
SECTION_FIT = "Model fit"
FIT_INTRO = (
    "How well the model reproduces the observed {target}. R² and MAPE compare the "
    "model's expected value with the data; coverage is the share of observations inside "
    "the model's predictive interval and should be close to its nominal level."
)
FIT_FIGURE = "Observed vs. model (all geos, then the largest geos)"
PPC_COLUMNS = ["metric", "mean", "interval", "meaning"]
PPC_MEANING = {
    "r2": "share of within-geo variation explained (1 is perfect)",
    "mape": "mean absolute error as % of the observed value",
    "coverage_50": "share inside the 50% interval (should be ≈ 50%)",
    "coverage_90": "share inside the 90% interval (should be ≈ 90%)",
}
HOLDOUT_TITLE = "Forecast of unseen weeks (holdout)"
HOLDOUT_COLUMNS = ["metric", "value"]
PRIOR_FIGURE = "What the data taught the model (prior vs. posterior)"
PRIOR_CAPTION = (
    "Each dot is a parameter. Left of the line: the data narrowed it; far from zero "
    "vertically: the data moved it away from the prior. {informed} of {total} parameters "
    "were informed by the data (posterior sd < half the prior sd)."
)
DIAG_FIGURE = "Rank plots of channel parameters (flat and overlapping when chains mix)"

# ---------------------------------------------------------------- 4. contributions and ROI
SECTION_CONTRIB = "Contributions and ROI"
CONTRIB_INTRO = (
    "Contribution: the {target} each channel produced (what would be lost without it). "
    "ROI: that incremental {target}, including carryover after the last week, divided by "
    "the channel's spend."
)
CONTRIB_FIGURE = "Contributions over time"
WATERFALL_FIGURE = "Decomposition of total {target}"
ROI_FIGURE = "ROI by channel"
ROI_GEO_FIGURE = "ROI by geo and channel"
ROI_COLUMNS = ["channel", "ROI (median)", "interval", "P(ROI > 1)", "spend", "contribution"]

# ---------------------------------------------------------------- 5. response curves
SECTION_CURVES = "Response curves and carryover"
CURVES_INTRO = (
    "What each channel would return at other spend levels: its total contribution if all "
    "its media were scaled from 0 to 2 times the observed plan (the dot). Flattening "
    "curves mean diminishing returns."
)
CURVES_FIGURE = "Response curves"
ADSTOCK_FIGURE = "Carryover: share of the effect in each week after exposure"

SECTION_TIME_VARYING = "Time-varying effects"
TIME_VARYING_INTRO = (
    "This model lets {parts} change over time (Gaussian processes with a length scale of "
    "at least {floor} periods, so they follow slow drifts, not individual campaigns). "
    "A media multiplier averages 1 over the history: the ROI and contributions above "
    "already include it, and budget plans use its level in the last period."
)
TIME_VARYING_PARTS = {"intercept": "the baseline", "media": "media effectiveness"}
TIME_VARYING_FIGURE = "Latent curves over time, with their posterior bands"

# ---------------------------------------------------------------- 6. budget
SECTION_BUDGET = "Budget plan"
BUDGET_NONE = (
    "No budget plan was given. Run fit.optimize(budget=..., weeks=...) or "
    "`bayes-mmm optimize RUN/ --budget X --weeks N` and pass the plan to the report."
)
BUDGET_INTRO = (
    "Recommended split of a budget of {budget:,.0f} over {weeks} weeks. The plan beats the "
    "current split with probability {prob:.0%}; expected extra {target}: {uplift:,.0f} "
    "({lo:,.0f} to {hi:,.0f})."
)
BUDGET_NEAR_OPTIMAL = (
    " How close to the best plan is this one? Taking {draws} posterior draws in turn as the "
    "truth, it earns a median {median:.0%} of the extra {target} the best plan for that draw "
    "would earn (90% range {lower:.0%} to {upper:.0%}); the chance it earns at least 95% of "
    "it is {p:.0%}. A low value means the data do not pin the best split down."
)
BUDGET_FIGURE = "Spend before/after and the uplift distribution"
WHAT_IF_TITLE = "What-if scenario"

# ---------------------------------------------------------------- 7. data checks
SECTION_FORWARD = "Looking forward"
FORWARD_INTRO = (
    "What the model expects next: forecasts of future periods from their planned inputs, "
    "plans compared on the same posterior draws, out-of-sample checks on past periods the "
    "fit did not see, and what changed when the model was refreshed with new weeks."
)
FORECAST_FIGURE = "Forecast of {target} (all geos): median and 50%/90% predictive intervals"
SCENARIOS_TITLE = "Scenarios: revenue and uplift over {reference}"
SCENARIOS_FIGURE = "Scenario revenue and uplift over {reference}"
CV_TITLE = "Time-slice cross-validation ({folds} folds of {horizon} periods)"
CV_FIGURE = "ROI per channel across cross-validation folds"
REFRESH_TITLE = (
    "Refresh: ROI on the previous {old} periods before and after adding {new} periods "
    "(flagged: the new periods depart from the old model by more than {flag_sd:.2f} SD)"
)

SECTION_DATA = "Data checks"
DATA_INTRO = (
    "Media that move together cannot be told apart by any model. A VIF above {vif:.0f} "
    "or a correlation above {corr:.1f} is flagged: the split of credit between those "
    "columns rests on the priors."
)
DATA_COLUMNS = ["column", "zero weeks", "max |correlation|", "with", "VIF", "flag"]
FLAG_YES = "check"
FLAG_NO = ""

# ---------------------------------------------------------------- 8. spec and reproducibility
SECTION_REPRO = "Model specification and reproducibility"
REPRO_INTRO = "Everything needed to reproduce these results."
SPEC_TITLE = "Model specification (TOML)"
REPRO_COLUMNS = ["item", "value"]
FOOTER = "Generated by bayes_mmm {version}. This file is self-contained and works offline."

# ---------------------------------------------------------------- 9. the command line
# Every sentence ``bayes-mmm`` prints lives here too; messages name the command's flags.
CLI_DESCRIPTION = "Bayesian marketing-mix models."
CLI_STEP = "[bayes-mmm] {message}"
CLI_ERROR = "bayes-mmm: error: {message}"
# Library messages name Python keyword arguments; on the command line they read as flags.
CLI_FLAGS = {
    "allow_unconverged=True": "--allow-unconverged",
    "near_optimal=": "--near-optimal ",
    "by_geo=True": "--by-geo",
    "adaptation=draw_diag in sampler_kwargs": (
        'adaptation = "draw_diag" in the config\'s [fit.sampler_kwargs]'
    ),
    "raise target_accept": "raise target_accept in the config's [fit]",
}
CONFIG_NOT_FOUND = "Config file '{path}' not found."
CONFIG_NOT_TOML = "Config '{path}' is not valid TOML: {err}"
CONFIG_NO_DATA = "Config '{path}' needs a [data] table naming the columns."
CONFIG_UNKNOWN = "Config '{path}' [{table}]: unknown key(s) {keys}; known: {known}."
CONFIG_MISSING = "Config '{path}' [data]: missing key(s) {keys}."
CONFIG_SAMPLER_KWARGS = (
    "Config '{path}' [fit]: sampler_kwargs must be a table, e.g. "
    '[fit.sampler_kwargs] with adaptation = "draw_diag".'
)
DATA_NOT_FOUND = "Data file '{path}' not found."
OPTIMIZE_UNAVAILABLE = (
    "Budget optimisation is not available in this installation (bayes_mmm.optimize "
    "could not be imported: {err})."
)
STEP_VALIDATE = "validating data"
STEP_RUNTIME = "compiling the model and timing gradient evaluations for a runtime plan"
STEP_LOAD = "loading {csv} with {config}"
STEP_SAMPLE = "sampling {chains} chains × {draws} draws ({tune} tune)"
STEP_SAMPLED = "sampled in {seconds:.1f} s"
STEP_REPORT = "writing the report"
STEP_WROTE = "wrote {out}/ (bundle, roi.csv, diagnostics.csv, convergence.csv, report.html)"
STEP_BUNDLE = "loading bundle {run}"
STEP_OPTIMIZE = "optimising a budget of {budget:,.0f} over {weeks} weeks"
CHECK_SPEC = "\nSpec: {spec}"
CHECK_COLUMNS = "\nMedia and controls (zero weeks, max |correlation|, VIF):"
CHECK_CORRELATION = "\nCorrelation:"
CHECK_FLAGGED = (
    "\nWARNING: weakly identified columns {columns} (VIF > {vif:.0f} or |r| > {corr}): "
    "their split of credit rests on priors."
)
PLAN_PROB_BETTER = "P(plan beats current) = {prob:.0%}"
PLAN_NEAR_OPTIMAL = (
    "Share of the best plan's uplift, by the posterior: median {median:.0%} "
    "(90% range {lower:.0%} to {upper:.0%}), P(at least 95%) = {p:.0%}"
)
HELP_CHECK = "validate data, correlations, VIF, runtime estimate"
HELP_FIT = "fit and write bundle, roi.csv, diagnostics.csv, report"
HELP_REPORT = "write RUN/report.html from a bundle"
HELP_OPTIMIZE = "allocate a budget with a fitted bundle"
HELP_DEMO = "fit the shipped demo panel and write its report"
HELP_QUIET = "print results only: no step messages and no progress bars"
HELP_SHOW_WARNINGS = (
    "show library warnings and PyMC/nutpie log messages (hidden by default: the exit code "
    "and the convergence verdict carry what matters)"
)
HELP_NO_PRIOR = "skip the prior-vs-posterior figure (saves a model compile)"
HELP_OUT_RUN = "run directory to write"
HELP_OUT_HTML = "HTML path (default RUN/report.html)"
HELP_OBJECTIVE = "mean, cvar, mean_sd or profit"
HELP_PLAN_CSV = "CSV of the plan"
HELP_PLAN_REPORT = "also write a report with the plan to this HTML path"
HELP_ALLOW_UNCONVERGED = "plan with a fit that failed its convergence checks (marked as such)"
HELP_BY_GEO = "plan each geo × spend group cell (the CSV stays per spend group)"
HELP_NEAR_OPTIMAL = (
    "posterior draws taken in turn as the truth to say how close to the best plan this one "
    "is (0: skip)"
)
HELP_DEMO_CONFIG = (
    "a TOML path or a shipped config name (demo_geo_panel_quick); default: the shipped "
    "demo_geo_panel.toml"
)
HELP_DRAWS = "posterior draws per chain (default: the config's [fit] or 1000)"
HELP_TUNE = "tuning draws per chain (default: the config's [fit] or 1000)"
HELP_CHAINS = "chains (default: the config's [fit] or 4)"
HELP_SEED = "random seed (default: the config's [fit] or 1)"
