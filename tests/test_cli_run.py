"""``turingrnn run``: --trace and --record every:N in chunks, --kernel, --inputs batches, Ctrl-C, bad values."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turingrnn as tr
import turingrnn.cli_run as cli_run
from turingrnn.cli import EXIT_DIVERGED, EXIT_ERROR, EXIT_OK, EXIT_OUT_OF_STEPS, main
from turingrnn.engines.dispatch import run as run_engine
from turingrnn.engines.dispatch import run_chunks
from turingrnn.machines.interpreter import run


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(scope="module")
def anbn() -> tr.StackMachine:
    return tr.load_machine("anbn")


# ---------------------------------------------------------------- chunks, --trace and --record


@settings(max_examples=30, deadline=None)
@given(word=st.text("ab", max_size=8), chunk=st.integers(1, 5))
def test_chunked_exact_runs_equal_the_interpreter_configuration_by_configuration(word: str, chunk: int) -> None:
    machine = tr.load_machine("anbn")
    net = tr.compile_machine(machine)
    expected = run(machine, word, trace=True)
    seen = []
    for offset, trace in run_chunks(net, word, chunk_steps=chunk, max_steps=1_000):
        assert trace.steps <= chunk
        seen += [trace.configuration(k) for k in range(0 if offset == 0 else 1, trace.steps + 1)]
    assert seen == list(expected.trace)
    assert offset + trace.steps == expected.steps


def test_chunks_stop_at_the_step_limit_and_refuse_a_bad_chunk_size() -> None:
    net = tr.compile_machine(tr.load_machine("bb3"))
    chunks = list(run_chunks(net, "", chunk_steps=4, max_steps=10))
    assert [offset for offset, _ in chunks] == [0, 4, 8] and chunks[-1][1].steps == 2
    with pytest.raises(tr.InputError, match="chunk_steps"):
        next(run_chunks(net, "", chunk_steps=0, max_steps=10))


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_trace_prints_every_configuration_and_the_same_result(capsys, monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(cli_run, "CHUNK_STEPS", chunk)
    code, out, _ = run_cli(capsys, "run", "anbn", "--input", "aaabbb", "--trace", "--json")
    *steps, result = json_lines(out)
    expected = run(tr.load_machine("anbn"), "aaabbb", trace=True)
    assert code == EXIT_OK
    assert steps == [{"step": k, "configuration": str(c)} for k, c in enumerate(expected.trace)]
    code, plain, _ = run_cli(capsys, "run", "anbn", "--input", "aaabbb", "--json")
    assert result == json.loads(plain)


@pytest.mark.parametrize(("every", "chunk"), [(1, 10_000), (2, 3), (3, 10_000), (5, 5), (4, 10)])
def test_record_every_n_prints_every_nth_configuration_and_the_last(capsys, monkeypatch, every, chunk) -> None:
    monkeypatch.setattr(cli_run, "CHUNK_STEPS", chunk)
    code, out, _ = run_cli(capsys, "run", "bb3", "--record", f"every:{every}", "--json")
    *steps, result = json_lines(out)
    expected = run(tr.load_machine("bb3"), "", trace=True)
    wanted = [k for k in range(expected.steps + 1) if k % every == 0 or k == expected.steps]
    assert [s["step"] for s in steps] == wanted
    assert [s["configuration"] for s in steps] == [str(expected.trace[k]) for k in wanted]
    assert (code, result["steps"], result["ticks"]) == (
        EXIT_OK,
        expected.steps,
        run_engine(tr.compile_machine(tr.load_machine("bb3")), "").ticks,
    )


def test_record_every_n_in_text_and_at_the_step_limit(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", "1RB1LB_1LA0RA", "--record", "every:4", "--max-steps", "10")
    lines = out.splitlines()
    assert code == EXIT_OUT_OF_STEPS
    assert [line.split(":")[0] for line in lines[:4]] == ["step 0", "step 4", "step 8", "step 10"]
    assert lines[4].startswith("out-of-steps after 10 steps, 20 ticks")


def test_record_final_is_the_default(capsys) -> None:
    assert run_cli(capsys, "run", "bb2", "--record", "final", "--json")[1] == run_cli(capsys, "run", "bb2", "--json")[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--record", "every:0"], "every:N"),
        (["--record", "every:-3"], "every:N"),
        (["--record", "every:x"], "every:N"),
        (["--record", "all"], "every:N"),
        (["--max-steps", "-1"], "integer >= 0"),
        (["--trace", "--engine", "float64"], "need --engine exact"),
        (["--record", "every:2", "--engine", "mp"], "need --engine exact"),
        (["--trace", "--record", "every:2"], "give one of them"),
        (["--kernel", "generic", "--engine", "mp"], "does nothing with --engine mp"),
        (["--kernel", "fast", "--engine", "float64"], "invalid choice"),
        (["--progress", "--engine", "float32"], "--progress needs --engine exact"),
    ],
)
def test_bad_run_options_are_one_line_errors(capsys, argv, message) -> None:
    with pytest.raises(SystemExit) as exit_:
        code = main(["run", "bb2", *argv])
        raise SystemExit(code)
    _, err = capsys.readouterr()
    assert exit_.value.code == EXIT_ERROR
    assert message in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- --kernel


@pytest.mark.parametrize("kernel", ["generic", "generated"])
def test_the_exact_engine_takes_either_kernel(capsys, kernel: str) -> None:
    argv = ["run", "bb4", "--json"]
    assert json.loads(run_cli(capsys, *argv, "--kernel", kernel)[1]) == json.loads(run_cli(capsys, *argv)[1])


@pytest.mark.parametrize("kernel", ["generic", "generated", "auto"])
def test_every_kernel_gives_the_same_batch(capsys, tmp_path, kernel: str) -> None:
    # bb4's 32-lane float64 kernel is the one tests/test_fast.py generates: one compile for both
    path = write(tmp_path, '{"word": "1", "head": 0}\n0\n10\n""\n')
    argv = ["run", "bb4", "--inputs", path, "--json"]
    code, out, _ = run_cli(capsys, *argv, "--engine", "float64", "--kernel", kernel)
    exact = json_lines(run_cli(capsys, *argv)[1])
    assert code == EXIT_OK
    *rows, summary = json_lines(out)
    *expected, expected_summary = exact
    assert rows == [row | {"diverged_at": None, "divergence": None} for row in expected]
    for key in ("words", "machine_steps", "flagged", "out_of_steps"):
        assert summary[key] == expected_summary[key]


# ---------------------------------------------------------------- --inputs


def write(tmp_path: Path, text: str | bytes, name: str = "words.txt") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


@pytest.mark.parametrize("engine", ["exact", "float64", "float32", "mp"])
def test_a_batch_gives_each_words_own_run_and_a_summary(capsys, tmp_path, engine: str) -> None:
    path = write(tmp_path, 'aabb\n\n""\n{"word": "aab"}\nab\naabb\n')
    code, out, _ = run_cli(capsys, "run", "anbn", "--inputs", path, "--engine", engine, "--json")
    *rows, summary = json_lines(out)
    assert code == EXIT_OK
    assert [(r["line"], r["word"]) for r in rows] == [(1, "aabb"), (3, ""), (4, "aab"), (5, "ab"), (6, "aabb")]
    machine = tr.load_machine("anbn")
    for r in rows:
        expected = run(machine, r["word"]).to_dict()
        assert {k: r[k] for k in expected} == expected
    assert summary["words"] == 5 and summary["flagged"] == 0 and summary["out_of_steps"] == 0
    assert summary["machine_steps"] == sum(r["steps"] for r in rows)
    assert summary["engine"] == engine and summary["steps_per_s"] > 0


def test_a_batch_takes_heads_verifies_and_prints_text(capsys, tmp_path) -> None:
    path = write(tmp_path, '{"word": "1011", "head": 2}\n0111\n')
    code, out, _ = run_cli(capsys, "run", "binary_increment", "--inputs", path, "--head", "1", "--verify")
    lines = out.splitlines()
    machine = tr.load_machine("binary_increment")
    assert code == EXIT_OK
    assert lines[0] == f"line 1: '1011' halted after {run(machine, '1011', head=2).steps} steps: " + str(
        run(machine, "1011", head=2).configuration
    )
    assert lines[1].startswith(f"line 2: '0111' halted after {run(machine, '0111', head=1).steps} steps")
    assert lines[2].startswith("2 words, ") and "2 verified" in lines[2]


def test_a_batch_reports_flagged_and_out_of_step_words(capsys, tmp_path) -> None:
    path = write(tmp_path, "\n".join(["a" * 40 + "b" * 40, "ab"]) + "\n")
    code, out, _ = run_cli(capsys, "run", "anbn", "--inputs", path, "--engine", "float32", "--json")
    *rows, summary = json_lines(out)
    assert code == EXIT_DIVERGED and summary["flagged"] == 1
    assert rows[0]["status"] == "flagged" and rows[0]["diverged_at"] is not None
    assert rows[1]["status"] == "accepted"
    code, out, _ = run_cli(capsys, "run", "anbn", "--inputs", path, "--max-steps", "5", "--json")
    assert code == EXIT_OUT_OF_STEPS and json_lines(out)[-1]["out_of_steps"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ab\nacb\n", "line 2: "),
        ('ab\n{"word": "ab"\n', "line 2: not a valid JSON line"),
        ('{"word": 3}\n', "line 1: 'word' must be a string"),
        ('{"word": "ab", "hed": 1}\n', "line 1: unknown keys ['hed']"),
        ('{"word": "ab", "head": "1"}\n', "line 1: 'head' must be an integer"),
        ('ab\n"ab\n', "line 2: not a valid JSON line"),
        ("\n\n", "no input words"),
        (b"\xff\xfe\n", "not UTF-8 text"),
    ],
)
def test_bad_inputs_files_are_one_line_errors_naming_the_line(capsys, tmp_path, text, message) -> None:
    code, _, err = run_cli(capsys, "run", "anbn", "--inputs", write(tmp_path, text))
    assert code == EXIT_ERROR
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_symbol_outside_the_alphabet_is_named_with_its_line(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "run", "anbn", "--inputs", write(tmp_path, "ab\nab\naxb\n"))
    assert code == EXIT_ERROR and "line 3: " in err and "'x'" in err


@pytest.mark.parametrize("where", ["missing.txt", "."])
def test_an_unreadable_inputs_file_is_one_line(capsys, tmp_path, where: str) -> None:
    code, _, err = run_cli(capsys, "run", "anbn", "--inputs", str(tmp_path / where))
    assert code == EXIT_ERROR and str(tmp_path) in err and len(err.strip().splitlines()) == 1


def test_input_and_inputs_together_are_refused(capsys, tmp_path) -> None:
    path = write(tmp_path, "ab\n")
    for extra in (["--input", "ab"], ["--trace"], ["--progress"]):
        code, _, err = run_cli(capsys, "run", "anbn", "--inputs", path, *extra)
        assert code == EXIT_ERROR and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- Ctrl-C from the command line


BB5 = "1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA"


@pytest.mark.parametrize("extra", [[], ["--record", "every:1000000"]])
def test_ctrl_c_from_the_command_line_prints_the_partial_result(extra: list[str]) -> None:
    argv = [sys.executable, "-m", "turingrnn", "run", BB5, "--max-steps", "50000000", "--progress", "--json", *extra]
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1"}
    # a shell's background job (CI runs the suite as one) ignores SIGINT, and the child would inherit that:
    # the child gets the default disposition back, as a program in a terminal has it
    restore = functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL)
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=restore
    )
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    while time.monotonic() < deadline:  # wait for the progress line: the run is under way
        if proc.stderr.read(1) == "[":
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    result = json.loads(out.splitlines()[-1])
    assert proc.returncode == EXIT_OUT_OF_STEPS, err
    assert result["reason"] == "interrupted" and 0 < result["steps"] < 50_000_000
    expected = run(tr.parse_bbchallenge(BB5), max_steps=result["steps"])
    assert {k: result[k] for k in ("state", "tape", "head")} == {
        k: expected.to_dict()[k] for k in ("state", "tape", "head")
    }
    assert "interrupted" in err
