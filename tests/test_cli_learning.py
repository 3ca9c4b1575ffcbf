"""``turingrnn train``, ``evaluate`` and ``compare``: what a user runs, through the command line."""

import json

import pytest

from turingrnn.cli import EXIT_ERROR, main
from turingrnn.learning.checkpoint import load_checkpoint


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def parity_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "parity.npz"
    code = main(["train", "parity", "--cell", "elman_relu", "--hidden", "16", "--steps", "150", "--lr", "0.01",
                 "--readout", "relu", "--seed", "1", "-o", str(path), "--json", "--no-progress"])  # fmt: skip
    assert code == 0
    return path


def test_train_writes_a_checkpoint_whose_header_says_how_it_was_made(parity_checkpoint):
    checkpoint = load_checkpoint(parity_checkpoint, cell="elman_relu")
    assert checkpoint.meta["task"] == "parity" and checkpoint.meta["steps"] == 150 and checkpoint.meta["seed"] == 1
    assert checkpoint.model.config["hidden_size"] == 16 and checkpoint.model.readout == "relu"
    assert checkpoint.header["turingrnn"] and "commit" in checkpoint.header["source"]


def test_evaluate_reports_score_train_score_horizon_and_every_length(capsys, parity_checkpoint):
    code, out, _ = run(capsys, "evaluate", str(parity_checkpoint), "--lengths", "1-8/3,41,100", "--n", "16", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result["sequence_accuracy"]) == {"1", "4", "8", "41", "100"}
    assert 0 <= result["score"] <= 1 and 0 <= result["train_score"] <= 1 and result["noise"] > 0
    code, out, _ = run(capsys, "evaluate", str(parity_checkpoint), "--lengths", "2,41", "--n", "8")
    assert code == 0 and "score" in out and "train score" in out and "horizon" in out


def test_compare_puts_the_compiled_network_and_the_checkpoints_on_one_table(capsys, parity_checkpoint):
    code, out, _ = run(capsys, "compare", "parity", str(parity_checkpoint), "--lengths", "3,41", "--n", "8", "--json")
    assert code == 0
    models = json.loads(out)["models"]
    assert models["compiled exact"]["score"] == 1.0 and models["compiled exact"]["horizon"] == 41
    assert any(name.startswith("elman_relu") for name in models)
    code, out, _ = run(capsys, "compare", "parity", "--lengths", "3,41", "--n", "4")
    assert code == 0 and "compiled exact" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "parityy", "--cell", "lstm", "-o", "m.npz"], "unknown task 'parityy'; tasks are: parity"),
        (["train", "parity", "--cell", "lstmm", "-o", "m.npz"], "unknown cell 'lstmm'; the cells are: elman_tanh"),
        (["train", "parity", "--cell", "lstm", "-o", "m.pt"], "a checkpoint file name must end in .npz"),
        (["train", "parity", "--cell", "lstm", "--steps", "0", "-o", "m.npz"], "--steps must be a positive integer"),
        (["train", "parity", "--cell", "lstm", "--threads", "0", "-o", "m.npz"], "--threads must be a positive"),
        (["train", "parity", "--cell", "gru", "--option", "forget_bias=1", "-o", "m.npz"],
         "cell 'gru' takes no option 'forget_bias'"),
        (["evaluate", "missing.npz"], "no checkpoint file at 'missing.npz'"),
        (["compare", "parity", "--engines", "float16"], "unknown engine 'float16'"),
        (["evaluate", "x.npz", "--lengths", "5-2"], "no checkpoint file"),
    ],
)  # fmt: skip
def test_bad_names_and_files_get_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == EXIT_ERROR and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_checkpoint_from_another_task_is_refused_by_compare(capsys, parity_checkpoint):
    code, _, err = run(capsys, "compare", "cycle_navigation", str(parity_checkpoint), "--lengths", "3", "--n", "2")
    assert code == EXIT_ERROR and "was trained on 'parity', not 'cycle_navigation'" in err


@pytest.mark.parametrize("given, expected", [(None, "1"), ("3", "3")])
def test_importing_turingrnn_first_pins_openblas_to_one_thread_unless_told(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    code = "import os, turingrnn; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
