"""Smoke test of the comparison (turingrnn.learning.comparison*) and its script on a tiny configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from turingrnn.errors import TaskError, UnknownCellError, UnknownTaskError
from turingrnn.learning import comparison_jobs
from turingrnn.learning.comparison import SCHEMA, TaskSettings, Tier, parse_names
from turingrnn.learning.comparison_jobs import build_model, make_jobs, planned_of, run_all, run_trained_job
from turingrnn.learning.comparison_report import aggregate, load_results, markdown_table, report, write_into_docs

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "experiments/compiled_vs_trained.py"


def script_env():
    """The environment an experiment script runs in from this checkout."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}


def tiny(**kwargs):
    return Tier(hidden=4, seeds=1, learning_rates=(1e-2,), steps=5, batch=4, lengths=(1, 2, 41), n_test=3,
                tasks=("parity",), models=("elman_tanh",), **kwargs)  # fmt: skip


def test_a_tiny_run_writes_one_file_per_job_and_resumes_without_retraining(tmp_path):
    tier = tiny()
    jobs = make_jobs(["parity"], ["elman_tanh"], tier, seed=0)
    assert [j["model"] for j in jobs] == ["compiled", "elman_tanh"]
    written = run_all(jobs, tier, 0, tmp_path, workers=1, progress=False)
    assert len(written) == 2
    trained = json.loads((tmp_path / "parity/elman_tanh_seed0_lr0.01_extra0.json").read_text())
    assert trained["schema"] == SCHEMA and trained["status"] == "ok"
    assert trained["train"]["steps"] == 5 and trained["config"]["hidden"] == 4
    assert "git_commit" in trained["versions"] and trained["extra_steps"] == "0"
    assert set(trained["eval"]) >= {"score", "train_score", "horizon", "sequence_accuracy", "per_token_accuracy"}
    assert set(trained["eval"]["sequence_accuracy"]) == {"1", "2", "41"}
    compiled = json.loads((tmp_path / "parity/compiled.json").read_text())
    assert set(compiled["engines"]) == {"exact", "float64", "float32"}
    assert compiled["engines"]["exact"]["score"] == 1.0 and compiled["engines"]["exact"]["horizon"] == 41
    assert compiled["engines"]["float64"]["sequence_accuracy"]["41"] == 0.0  # past its precision cliff
    assert run_all(jobs, tier, 0, tmp_path, workers=1, progress=False) == []  # nothing retrained
    table = report(tmp_path, None, "tiny")
    assert table["parity"]["compiled exact"]["horizon"]["max"] == 41
    assert "| `elman_tanh` |" in (tmp_path / "table.md").read_text()


def test_a_diverged_job_records_its_message_and_no_numbers(monkeypatch):
    from turingrnn.errors import TrainingDivergedError

    def diverge(*args, **kwargs):
        raise TrainingDivergedError("loss is nan at batch 3", step=3, update=3, loss=float("nan"), grad_norm=1.0)

    monkeypatch.setattr(comparison_jobs, "train_on_task", diverge)
    job = {"task": "parity", "model": "elman_relu", "seed": 0, "learning_rate": 1e-2, "extra_steps": "0"}
    result = run_trained_job(job, tiny(), 0, progress=False)
    assert result["status"] == "diverged" and "nan" in result["message"] and "eval" not in result
    assert result["train"]["diverged_at_batch"] == 3


def test_models_apply_only_to_their_tasks_and_a_curve_is_recorded(tmp_path):
    tier = tiny(curve_every=2)
    jobs = make_jobs(["parity", "reverse_string"], ["encoder_decoder", "bi_gru", "lstm_x2"], tier, seed=0)
    assert [(j["task"], j["model"]) for j in jobs if j["model"] != "compiled"] == [
        ("parity", "bi_gru"), ("parity", "lstm_x2"), ("reverse_string", "encoder_decoder"),
        ("reverse_string", "bi_gru"), ("reverse_string", "lstm_x2"),
    ]  # fmt: skip
    result = run_trained_job(jobs[-1], tier, 0, progress=False)
    assert result["status"] == "ok" and [p["step"] for p in result["train"]["curve"]] == [2, 4]
    assert set(result["train"]["curve"][0]["per_token_accuracy"]) == {"40", "100", "500"}
    assert build_model(jobs[-1], tier).core.layers[0].forget_bias == 1.0


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UnknownTaskError, match="tasks are: parity"):
        parse_names("parityy", (), "task")
    with pytest.raises(UnknownCellError, match="models are: elman_tanh"):
        parse_names("lstmm", (), "model")
    assert parse_names(None, ("lstm",), "model") == ["lstm"] and parse_names(" gru,", (), "model") == ["gru"]


def test_the_script_reports_the_stored_results_and_refuses_unknown_names(tmp_path):
    tier = tiny()
    run_all(make_jobs(["parity"], ["elman_tanh"], tier, seed=0), tier, 0, tmp_path / "quick", workers=1,
                progress=False)  # fmt: skip
    run = [sys.executable, str(SCRIPT), "--tier", "quick", "--report-only", "--out", str(tmp_path), "--no-docs",
           "--no-plot"]  # fmt: skip
    done = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert done.returncode == 0, done.stderr
    assert "| `elman_tanh` |" in done.stdout and (tmp_path / "quick/summary.json").exists()
    bad = subprocess.run([*run, "--tasks", "parityy"], capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert bad.returncode != 0 and "tasks are: parity" in bad.stderr


def test_the_report_rewrites_only_the_tiers_generated_block_of_the_docs(tmp_path):
    page = tmp_path / "results.md"
    begin, end = "<!-- BEGIN generated: tier tiny -->", "<!-- END generated: tier tiny -->"
    page.write_text(f"intro\n{begin}\nold table\n{end}\noutro\n")
    assert write_into_docs(page, "tiny", "new table\n")
    assert page.read_text() == f"intro\n{begin}\nnew table\n{end}\noutro\n"
    assert not write_into_docs(page, "other", "x")  # no block for that tier: left alone
    assert page.read_text() == f"intro\n{begin}\nnew table\n{end}\noutro\n"


def test_a_job_stored_with_other_steps_is_rerun_and_per_task_settings_apply(tmp_path):
    tier = tiny(per_task=(("parity", TaskSettings(steps=3, hidden=5)),))
    assert tier.steps_for("parity") == 3 and tier.hidden_for("parity") == 5 and tier.steps_for("anbn") == 5
    jobs = make_jobs(["parity"], ["elman_tanh"], tier, seed=0)
    run_all(jobs, tier, 0, tmp_path, workers=1, progress=False)
    path = tmp_path / "parity/elman_tanh_seed0_lr0.01_extra0.json"
    stored = json.loads(path.read_text())
    assert stored["planned"] == {"steps": 3, "hidden": 5, "batch": 4} and stored["train"]["steps"] == 3
    assert run_all(jobs, tier, 0, tmp_path, workers=1, progress=False) == []
    longer = tiny(per_task=(("parity", TaskSettings(steps=4, hidden=5)),))
    table = aggregate(load_results(tmp_path))
    assert "†" not in markdown_table(table, tier=tier)
    marked = markdown_table(table, tier=longer)
    assert "| `elman_tanh` |" in marked and "†" in marked.split("\n")[2]
    assert "trained with 3 batches of 4, hidden 5; the tier now plans 4 batches of 4, hidden 5" in marked
    assert run_all(jobs, longer, 0, tmp_path, workers=1, progress=False) == [str(path)]
    assert json.loads(path.read_text())["train"]["steps"] == 4


def test_results_stored_before_planned_settings_read_their_tier_pairs():
    old = {"task": "parity", "config": {"steps": 20, "hidden": 64, "batch": 128, "task_steps": [["parity", 5]],
                                        "task_hidden": [["modular_arithmetic", 128]]}}  # fmt: skip
    assert planned_of(old) == {"steps": 5, "hidden": 64, "batch": 128}


def test_jobs_come_seed_by_seed_so_a_partial_tier_covers_every_cell_once():
    tier = replace(tiny(), seeds=2, learning_rates=(1e-2, 1e-3))
    jobs = [j for j in make_jobs(["parity", "anbn"], ["lstm", "gru"], tier, seed=5) if j["model"] != "compiled"]
    assert [(j["seed"], j["task"], j["model"], j["learning_rate"]) for j in jobs[:4]] == [
        (5, "parity", "lstm", 1e-2), (5, "parity", "lstm", 1e-3),
        (5, "parity", "gru", 1e-2), (5, "parity", "gru", 1e-3),
    ]  # fmt: skip
    assert {j["seed"] for j in jobs[:8]} == {5} and {j["seed"] for j in jobs[8:]} == {6} and len(jobs) == 16


def test_the_cycle_probe_bins_walks_by_excursion_and_refuses_other_tasks(tmp_path):
    from turingrnn.learning import excursion as probe
    from turingrnn.learning.checkpoint import save_checkpoint
    from turingrnn.learning.protocol import model_for_task
    from turingrnn.learning.tasks import TaskExample, get_task

    assert probe.excursion(TaskExample("1121220", ("1",))) == 2 and probe.excursion(TaskExample("", ("0",))) == 0
    assert probe.excursion(TaskExample("222", ("2",))) == 3
    assert [probe.bin_label(k) for k in (0, 1, len(probe.BINS) - 1)] == ["0-5", "6-10", "51+"]
    path = tmp_path / "m.npz"
    cycle = get_task("cycle_navigation")
    save_checkpoint(model_for_task(cycle, "elman_relu", 4), path, meta={"task": "cycle_navigation"})
    result = probe.probe(path, (3, 12), 20, 0)
    assert sum(b["walks"] for k, b in result["by_length"]["12"].items() if k != "all") == 20
    assert "| 12 |" in probe.table(result)
    other = tmp_path / "p.npz"
    save_checkpoint(model_for_task(get_task("parity"), "elman_relu", 4), other, meta={"task": "parity"})
    with pytest.raises(TaskError, match="trained on 'parity'"):
        probe.probe(other, (3,), 4, 0)
    script = [sys.executable, str(SCRIPT.parent / "cycle_probe.py"), str(other), "--lengths", "3", "--n", "4"]
    refused = subprocess.run(script, capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert refused.returncode == 1 and "trained on 'parity'" in refused.stderr


def test_the_cycle_lstm_search_stores_one_run_and_reports_it(tmp_path):
    pytest.importorskip("torch")
    search = [sys.executable, str(SCRIPT.parent / "cycle_lstm_search.py"), "--out", str(tmp_path)]
    argv = ["--hidden", "4", "--steps", "3", "--init", "haiku"]
    assert subprocess.run([*search, *argv], capture_output=True, cwd=ROOT, env=script_env()).returncode == 0
    stored = json.loads((tmp_path / "cycle_navigation_lstm_h4_lr0.001_s3_seed0_b128_haiku.json").read_text())
    assert set(stored["eval"]) >= {"score", "train_score", "horizon"} and stored["curve"] == []
    report = subprocess.run([*search, "--report"], capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert "| 4 | 0.001 | 3 | 0 | haiku |" in report.stdout
    from turingrnn.learning.initialisation import haiku_init
    from turingrnn.learning.protocol import model_for_task
    from turingrnn.learning.tasks import get_task

    model = model_for_task(get_task("cycle_navigation"), "lstm", 8, forget_bias=1.0)
    haiku_init(model, 0)
    assert not model.params["bias_ih"].any() and (model.params["bias_hh"][8:16] == 1).all()
    assert abs(model.params["weight_hh"]).max() <= 2 / (4 + 8) ** 0.5 + 1e-6
