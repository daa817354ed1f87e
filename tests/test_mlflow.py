"""MLflow tracking against a real local file store (skipped where MLflow is absent)."""

import importlib

import pandas as pd
import pytest

import bayes_mmm as bm

fit_module = importlib.import_module("bayes_mmm.fit")  # the module, not the function bm.fit

mlflow = pytest.importorskip("mlflow")
bm_mlflow = pytest.importorskip("bayes_mmm.mlflow")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    mlflow.set_experiment("bayes_mmm-test")
    yield tmp_path
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri("")


def test_log_fit_then_load_fit_gives_the_same_roi(tiny_fit, store):
    run_id = bm_mlflow.log_fit(tiny_fit)
    run = mlflow.get_run(run_id)
    assert run.data.params["spec.adstock"] == "geometric"
    assert run.data.params["fit.draws"] == "100"
    roi = tiny_fit.roi()
    assert run.data.metrics["roi.tv.median"] == pytest.approx(roi.loc["tv", "median"])
    assert run.data.metrics["converged"] == float(tiny_fit.converged)
    assert "gate.r_hat" in run.data.metrics

    back = bm_mlflow.load_fit(run_id)
    pd.testing.assert_frame_equal(back.roi(), roi)
    assert back.spec == tiny_fit.spec


def test_log_plan_goes_into_the_active_run(tiny_fit, store):
    budget = float(tiny_fit.data.spend.sum()) / tiny_fit.data.n_dates * 4
    plan = tiny_fit.optimize(budget, weeks=4, allow_unconverged=True, progress=False)
    with mlflow.start_run() as run:
        assert bm_mlflow.log_plan(plan) == run.info.run_id
    logged = mlflow.get_run(run.info.run_id).data.metrics
    assert logged["plan.budget"] == pytest.approx(budget)
    assert logged["plan.prob_better"] == pytest.approx(plan.prob_better)
    table = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="plan/plan.csv", dst_path=str(store / "dl")
    )
    read = pd.read_csv(table, index_col=0)
    assert read["optimal"].sum() == pytest.approx(budget, rel=1e-6)


@pytest.mark.sampling  # no sampling, but the sampler guard must not wrap this test's own patch
def test_autolog_logs_every_fit(tiny_fit, store, monkeypatch):
    # bm.fit's own code path with the sampler replaced by the saved posterior: the hook runs.
    # Marked ``sampling`` so the conftest guard does not replace ``fit.sample`` around the
    # test: this test's monkeypatch would otherwise record the guard's refusal as the value
    # to restore, and leave it behind for the next test in the process.
    monkeypatch.setattr(fit_module, "sample", lambda *a, **k: tiny_fit.posterior)
    bm_mlflow.autolog()
    try:
        bm.fit(tiny_fit.data, tiny_fit.spec, draws=10, tune=10, chains=1, progress=False)
        bm.fit(tiny_fit.data, tiny_fit.spec, draws=10, tune=10, chains=1, progress=False)
    finally:
        bm_mlflow.autolog(False)
    assert fit_module.FIT_CALLBACKS == []
    runs = mlflow.search_runs(experiment_names=["bayes_mmm-test"])
    assert len(runs) == 2
    median = tiny_fit.roi().loc["tv", "median"]
    assert list(runs["metrics.roi.tv.median"]) == pytest.approx([median, median])


def test_missing_mlflow_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_mlflow(name, *args, **kwargs):
        if name == "mlflow":
            raise ImportError("No module named 'mlflow'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    monkeypatch.delitem(__import__("sys").modules, "mlflow")
    with pytest.raises(bm_mlflow.MissingExtra, match=r"bayes_mmm\[mlflow\]"):
        bm_mlflow.autolog()
