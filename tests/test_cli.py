"""The command line: interpret, check, list; JSON output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import turingrnn as tr
from turingrnn.cli import EXIT_DIVERGED, EXIT_ERROR, EXIT_OK, EXIT_OUT_OF_STEPS, EXIT_PROBLEMS, main
from turingrnn.machines.parsing import list_constructions


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_interpret_json_reproduces_busy_beaver_2(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "1RB1LB_1LA---", "--json")
    data = json.loads(out)
    assert code == EXIT_OK
    assert {k: data[k] for k in ("halted", "accepted", "state", "steps", "tape", "head")} == {
        "halted": True,
        "accepted": None,
        "state": "B",
        "steps": 6,
        "tape": "1111",
        "head": 1,
    }


def test_interpret_json_reproduces_busy_beaver_4(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA", "--json")
    data = json.loads(out)
    assert (code, data["steps"], data["tape"].count("1")) == (EXIT_OK, 107, 13)


def test_interpret_trace_prints_every_step(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "1RB1LB_1LA---", "--trace")
    assert code == EXIT_OK
    assert out.splitlines()[0] == "0  A: [0]"
    assert "halted after 6 steps (undefined transition)" in out


def test_interpret_trace_in_json(capsys) -> None:
    _, out, _ = run_cli(capsys, "interpret", "1RB1LB_1LA---", "--trace", "--json")
    assert len(json.loads(out)["trace"]) == 7


def test_step_limit_has_its_own_exit_code(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "1RB1LB_1LA0RA", "--max-steps", "10", "--json")
    assert code == EXIT_OUT_OF_STEPS
    assert json.loads(out)["halted"] is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["interpret", "1RB1LB_1LA--"], "group 2 '1LA--' has 5 characters"),
        (["interpret", "no_such_machine"], "unknown machine 'no_such_machine'"),
        (["interpret", "1RB1LB_1LA---", "--input", "012"], "input symbol '2' at position 2"),
        (["interpret", "1RB1LB_1LA---", "--input", "01", "--head", "7"], "head position 7 is outside"),
        (["interpret", "missing.toml"], "machine file 'missing.toml' does not exist"),
    ],
)
def test_bad_machine_or_input_gives_one_line_error(capsys, argv: list[str], message: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == EXIT_ERROR and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("turingrnn: error: ") and message in err


def test_unknown_option_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["interpret", "1RB1LB_1LA---", "--bogus"])
    assert e.value.code == EXIT_ERROR


def test_check_reports_every_problem_and_fails(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'kind = "tm"\nsymbols = ["0", "1"]\nblank = "0"\nstates = ["A"]\nstart = "A"\n'
        "transitions = [\n"
        '  { state = "A", read = "0", write = "2", move = "R", next = "A" },\n'
        '  { state = "A", read = "1", write = "1", move = "Q", next = "B" },\n'
        "]\n"
    )
    code, out, _ = run_cli(capsys, "check", str(bad))
    assert code == EXIT_PROBLEMS
    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert "write symbol '2'" in lines[0] and ":7:3:" in lines[0]
    assert any("move 'Q'" in line for line in lines) and any("next state 'B'" in line for line in lines)


def test_check_reports_failing_examples(capsys, tmp_path) -> None:
    f = tmp_path / "bb2.toml"
    f.write_text('kind = "tm"\nbbchallenge = "1RB1LB_1LA---"\n[[examples]]\ninput = ""\nexpect = { steps = 7 }\n')
    code, out, _ = run_cli(capsys, "check", str(f))
    assert code == EXIT_PROBLEMS and "expected steps 7, got 6" in out


def test_check_passes_on_every_bundled_construction(capsys) -> None:
    names = sorted(list_constructions())
    code, out, _ = run_cli(capsys, "check", "--json", *names)
    assert code == EXIT_OK, out
    assert json.loads(out)["ok"] is True


def test_list_shows_bundled_constructions(capsys) -> None:
    code, out, _ = run_cli(capsys, "list", "--json")
    rows = json.loads(out)["constructions"]
    assert code == EXIT_OK and {r["name"] for r in rows} == set(list_constructions())


def test_python_dash_m_runs_the_cli_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "turingrnn", "interpret", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["steps"] == 107
    bad = subprocess.run(
        [sys.executable, "-m", "turingrnn", "interpret", "1RB1LB_1LA-"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == EXIT_ERROR and "Traceback" not in bad.stderr


def test_rogozhin_worked_example_runs_from_its_toml_file(capsys) -> None:
    code, out, _ = run_cli(
        capsys,
        "interpret",
        "constructions/tm/rogozhin_4_6.toml",
        "--input",
        "<bb1b1bbb1c1c11111",
        "--head",
        "9",
        "--json",
    )
    data = json.loads(out)
    assert (code, data["steps"], data["state"], data["head"]) == (EXIT_OK, 518, "3", 0)
    assert data["tape"].split("c", 1)[1] == "1c11111"


def test_busy_beaver_5_on_the_numba_engine(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "bb5", "--engine", "numba", "--max-steps", "50000000", "--json")
    data = json.loads(out)
    assert (code, data["steps"], data["tape"].count("1"), data["engine"]) == (EXIT_OK, 47_176_870, 4097, "numba")


def test_numba_engine_refuses_stack_machines_and_traces(capsys) -> None:
    code, _, err = run_cli(capsys, "interpret", "dyck1", "--engine", "numba")
    assert code == EXIT_ERROR and "runs Turing machines only; 'dyck1' is a stack machine" in err
    code, _, err = run_cli(capsys, "interpret", "bb2", "--engine", "numba", "--trace")
    assert code == EXIT_ERROR and "--trace needs --engine python" in err


def test_stack_machine_json_has_stacks_top_first(capsys) -> None:
    code, out, _ = run_cli(capsys, "interpret", "reverse_string", "--input", "0111", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["stacks"]["out"] == "1110" and data["accepted"] is True


def test_run_json_has_the_interpret_fields_and_the_network_fields(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", "bb4", "--json", "--verify")
    data = json.loads(out)
    assert code == EXIT_OK
    assert (data["steps"], data["tape"].count("1"), data["halted"]) == (107, 13, True)
    assert (data["engine"], data["ticks"], data["neurons"], data["verified"]) == ("exact", 214, 18, True)


def test_run_without_verify_says_not_verified(capsys) -> None:
    _, out, _ = run_cli(capsys, "run", "1RB1LB_1LA---", "--json")
    assert json.loads(out)["verified"] is False


def test_run_rogozhin_worked_example_through_the_network(capsys) -> None:
    code, out, _ = run_cli(
        capsys, "run", "rogozhin_4_6", "--input", "<bb1b1bbb1c1c11111", "--head", "9", "--verify", "--json"
    )
    data = json.loads(out)
    assert (code, data["steps"], data["neurons"], data["verified"]) == (EXIT_OK, 518, 38, True)
    assert data["tape"].split("c", 1)[1] == "1c11111"


def test_compile_then_run_and_info_from_the_file(capsys, tmp_path) -> None:
    path = str(tmp_path / "dyck2.npz")
    code, out, _ = run_cli(capsys, "compile", "dyck2", "-o", path, "--json")
    assert code == EXIT_OK and json.loads(out)["output"] == path
    code, out, _ = run_cli(capsys, "run", path, "--input", "([])", "--json")
    assert code == EXIT_OK and json.loads(out)["accepted"] is True
    code, out, _ = run_cli(capsys, "info", path, "--json")
    info = json.loads(out)
    assert code == EXIT_OK and info["neurons"] == sum(info["roles"].values())
    assert {"neurons", "ticks_per_step", "nonzeros", "roles"} <= set(info)


def test_run_with_ss95_and_streamed_input(capsys) -> None:
    code, out, _ = run_cli(
        capsys, "run", "anbn", "--input", "aabb", "--construction", "ss95", "--input-mode", "streamed", "--json"
    )
    data = json.loads(out)
    assert code == EXIT_OK and data["accepted"] is True and data["construction"] == "ss95"


def test_trace_prints_named_columns(capsys) -> None:
    code, out, _ = run_cli(capsys, "trace", "bb2", "--neurons", "code:0,tape:R/R", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and set(data["columns"]) == {"code:0", "tape:R/R"}
    assert len(data["columns"]["code:0"]) == data["ticks"] + 1


def test_trace_takes_a_label_with_commas(capsys) -> None:
    label = "config:as/in=a,count=empty"
    code, out, _ = run_cli(
        capsys, "trace", "anbn", "--construction", "ss95", "--input", "ab", "--neurons", label, "--json"
    )
    data = json.loads(out)
    assert code == EXIT_OK and list(data["columns"]) == [label]
    assert "1" in data["columns"][label]  # the detector fires when the state is 'as' reading 'a' on an empty count


def test_trace_neurons_is_repeatable_and_takes_a_semicolon_list(capsys) -> None:
    args = ("trace", "anbn", "--construction", "ss95", "--input", "ab", "--json")
    lists = (
        ["--neurons", "config:as/in=a,count=empty", "--neurons", "gate:count/push a", "--neurons", "state:as"],
        ["--neurons", "config:as/in=a,count=empty;gate:count/push a", "--neurons", "state:as"],
        ["--neurons", "config:as/in=a,count=empty ; gate:count/push a;state:as;"],
        ["--neurons", "config:as/in=a,count=empty", "--neurons", "gate:count/push a,state:as"],  # the comma form
    )
    columns = []
    for neurons in lists:
        code, out, _ = run_cli(capsys, *args, *neurons)
        assert code == EXIT_OK
        columns.append(json.loads(out)["columns"])
    assert list(columns[0]) == ["config:as/in=a,count=empty", "gate:count/push a", "state:as"]
    assert all(c == columns[0] for c in columns)


@pytest.mark.parametrize(
    ("neurons", "unknown"),
    [
        ("config:as/in=a,count=emty", "config:as/in=a,count=emty"),  # not split: no piece is a label
        ("state:as,state:zz", "state:zz"),  # the comma form: 'state:as' is a label
        ("state:as;config:as/in=x", "config:as/in=x"),
    ],
)
def test_trace_names_the_unknown_label(capsys, neurons: str, unknown: str) -> None:
    code, _, err = run_cli(capsys, "trace", "anbn", "--construction", "ss95", "--neurons", neurons)
    assert code == EXIT_ERROR and f"no neuron {unknown!r}; neurons include: " in err


def test_trace_with_an_unknown_neuron_lists_real_ones(capsys) -> None:
    code, _, err = run_cli(capsys, "trace", "bb2", "--neurons", "code:9")
    assert code == EXIT_ERROR and "no neuron 'code:9'; neurons include: code:0" in err


def test_verify_counts_inputs_and_steps(capsys) -> None:
    code, out, _ = run_cli(capsys, "verify", "dyck1", "--all-up-to", "4", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["ok"] is True and data["inputs"] == 31 and data["steps"] > 0


def test_verify_on_a_bbchallenge_string_with_ss95(capsys) -> None:
    code, out, _ = run_cli(capsys, "verify", "1RB1LB_1LA0LC_1RZ1LD_1RD0RA", "--construction", "ss95")
    assert code == EXIT_OK and "agree: 107 steps over 1 inputs checked" in out


def test_corrupted_network_file_gives_one_line_error(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    code, _, err = run_cli(capsys, "run", str(bad))
    assert code == EXIT_ERROR and "not a network file" in err and len(err.strip().splitlines()) == 1


def test_run_input_outside_the_alphabet_gives_one_line_error(capsys) -> None:
    code, _, err = run_cli(capsys, "run", "dyck1", "--input", "(x)")
    assert code == EXIT_ERROR and "input symbol 'x' at position 1" in err


def test_compile_exports_graphml_and_dot(capsys, tmp_path) -> None:
    import networkx as nx

    graphml, dot = tmp_path / "g.graphml", tmp_path / "g.dot"
    code, _, _ = run_cli(
        capsys, "compile", "bb2", "-o", str(tmp_path / "n.npz"), "--graphml", str(graphml), "--dot", str(dot)
    )
    assert code == EXIT_OK
    g = nx.read_graphml(graphml)
    assert g.nodes["copy:L"]["role"] == "copy" and g.number_of_nodes() == 13
    assert dot.read_text().startswith('digraph "compact"')


def test_run_with_progress_reports_on_stderr(capsys) -> None:
    code, out, err = run_cli(capsys, "run", "bb4", "--progress", "--json")
    assert code == EXIT_OK and json.loads(out)["steps"] == 107
    assert "107/1,000,000 steps" in err and err.rstrip().endswith("done")


@pytest.mark.parametrize("engine", ["float64", "float32", "mp"])
def test_run_on_a_float_engine_reports_no_divergence_when_exact(capsys, engine: str) -> None:
    code, out, _ = run_cli(capsys, "run", "dyck1", "--input", "(())", "--engine", engine, "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["accepted"] is True and data["diverged_at"] is None and data["engine"] == engine


def test_run_on_float64_flags_a_word_too_deep_for_it_with_its_own_exit_code(capsys) -> None:
    word = "01" * 40  # 80 symbols in base 4: 160 bits, far beyond float64's 53
    code, out, _ = run_cli(capsys, "run", "reverse_string", "--input", word, "--engine", "float64", "--json")
    data = json.loads(out)
    assert code == EXIT_DIVERGED and data["diverged_at"] is not None and data["reason"] == "left the code"
    assert data["status"] == "flagged" and data["halted"] is False
    exact = json.loads(run_cli(capsys, "run", "reverse_string", "--input", word, "--json")[1])
    assert exact["stacks"]["out"] == word[::-1]


def test_run_on_mp_with_enough_bits_is_exact_on_a_deep_word(capsys) -> None:
    word = "01" * 40
    code, out, _ = run_cli(
        capsys, "run", "reverse_string", "--input", word, "--engine", "mp", "--prec", "400", "--json"
    )
    data = json.loads(out)
    assert code == EXIT_OK and data["stacks"]["out"] == word[::-1] and data["diverged_at"] is None


# ---------------------------------------------------------------- bad paths and values: one line, no traceback


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-o", "{tmp}/missing/x.npz"], "{tmp}/missing/x.npz: No such file or directory"),
        (["-o", "{tmp}"], "{tmp}: Is a directory"),
        (["-o", "{tmp}/x.npz", "--graphml", "{tmp}/missing/g.graphml"], "{tmp}/missing/g.graphml: No such file"),
    ],
)
def test_compile_to_a_path_that_cannot_be_written_names_it(capsys, tmp_path, flags: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, "compile", "bb2", *(f.format(tmp=tmp_path) for f in flags))
    assert code == EXIT_ERROR and err.startswith("turingrnn: error: " + message.format(tmp=tmp_path))
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_verify_refuses_a_negative_all_up_to(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["verify", "bb2", "--all-up-to", "-1"])
    assert stop.value.code == 2 and "argument --all-up-to: expected an integer >= 0, got -1" in capsys.readouterr().err


def test_prec_without_the_mp_engine_is_refused(capsys) -> None:
    code, _, err = run_cli(capsys, "run", "bb2", "--prec", "40")
    assert code == EXIT_ERROR and "--prec sets the mp engine's precision; it does nothing with --engine exact" in err
    code, out, _ = run_cli(capsys, "run", "bb2", "--engine", "mp", "--prec", "40", "--json")
    assert code == EXIT_OK and json.loads(out)["steps"] == 6


def test_verify_takes_a_head_and_keeps_the_examples_heads(capsys, tmp_path) -> None:
    code, out, _ = run_cli(capsys, "verify", "bb4", "--input", "11", "--head", "1", "--json")
    assert code == EXIT_OK and json.loads(out)["inputs"] == 1
    # the head reaches the network: a head outside the word is refused, not ignored
    code, _, err = run_cli(capsys, "verify", "bb4", "--input", "11", "--head", "5")
    assert code == EXIT_ERROR and "head" in err


def test_verify_falls_back_to_the_examples_with_their_heads(capsys, monkeypatch) -> None:
    import turingrnn.check.verify as checking

    real, seen = checking.verify, []

    def recording(machine, inputs, **options):  # noqa: ANN001, ANN202 - stands in for verify
        seen.extend(inputs)
        return real(machine, [], **options)

    monkeypatch.setattr(checking, "verify", recording)
    run_cli(capsys, "verify", "rogozhin_4_6")
    examples = tr.load_machine("rogozhin_4_6").examples
    assert [(word, head) for word, head, _ in seen] == [(e.input, e.head) for e in examples]
    assert any(head for _, head, _ in seen)
    assert [limit for _, _, limit in seen] == [max(e.steps, 100_000) for e in examples]  # 124,768 for the second
