"""The task registry: generators against plain references, compiled networks that solve the tasks, metrics."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.engines.exact import run_exact
from turingrnn.learning.tasks import (
    CHOMSKY_CLASSES,
    END,
    OUTPUT_MODES,
    TASKS,
    TEST_LENGTHS,
    TRAIN_LENGTHS,
    TaskError,
    TaskExample,
    UnknownTaskError,
    compile_task,
    get_task,
    per_token_accuracy,
    run_compiled,
    run_reference,
    score,
    sequence_correct,
    ticks_per_symbol,
)

# ---------------------------------------------------------------- plain references, one per task


def in_bracket_grammar(word: str) -> bool:
    """Whether ``word`` is of the grammar E := d | -d | (E) | (E o E): reduce innermost expressions to E."""
    operand = r"(?:-?[0-4]|E)"
    while True:
        reduced = re.sub(rf"\({operand}\)|\({operand}[-+*]{operand}\)", "E", word)
        if reduced == word:
            return re.fullmatch(operand, word) is not None
        word = reduced


def parity_reference(word: str) -> tuple[str, ...]:
    ones = 0
    for symbol in word:
        if symbol == "1":
            ones += 1
    return ("0",) if ones % 2 == 0 else ("1",)


def even_pairs_reference(word: str) -> tuple[str, ...]:
    pairs = sum(word[i : i + 2] in ("01", "10") for i in range(len(word) - 1))
    return (str(pairs % 2),)


def cycle_reference(word: str) -> tuple[str, ...]:
    position = 0
    for symbol in word:
        position = (position + {"0": 0, "1": 1, "2": -1}[symbol]) % 5
    return (str(position),)


def stack_reference(word: str) -> tuple[str, ...]:
    split = len(word) - len(word.lstrip("ab"))
    stack = list(word[:split])  # bottom to top
    for action in word[split:]:
        assert action in "pAB", word
        if action == "p" and stack:
            stack.pop()
        elif action == "A":
            stack.append("a")
        elif action == "B":
            stack.append("b")
    return tuple(stack[::-1])


def modular_reference(word: str) -> tuple[str, ...]:
    assert set(word) <= set("01234+-*()"), word
    return (str(eval(word) % 5),)  # the grammar is a subset of Python's expressions


def modular_flat_reference(word: str) -> tuple[str, ...]:
    assert re.fullmatch(r"[0-4]([-+*][0-4])*", word), word
    return (str(eval(word) % 5),)  # Python's own precedence: * before + and -, left to right


def modular_flat_paper_steps(word: str) -> int:
    """The paper's procedure: each "- d" becomes "+ (-d)", then sum the products of the runs joined by "*"."""
    tokens = list(word)
    for i in range(1, len(tokens), 2):
        if tokens[i] == "-":
            tokens[i], tokens[i + 1] = "+", str(-int(tokens[i + 1]))
    terms = "".join(t if t != "+" else " " for t in tokens).split()
    return sum(math.prod(int(f) for f in term.split("*")) for term in terms) % 5


def binary_addition_reference(word: str) -> tuple[str, ...]:
    def value(bits: str) -> int:
        return sum(2**i for i, bit in enumerate(bits) if bit == "1")

    x, _, y = word.partition("+")
    total = value(x) + value(y)
    bits = []
    while total:
        bits.append(str(total % 2))
        total //= 2
    return tuple(bits) or ("0",)


def anbn_prefix(p: str) -> bool:
    m = re.fullmatch(r"(a*)(b*)", p)
    return m is not None and len(m[2]) <= len(m[1])


def anbncn_prefix(p: str) -> bool:
    m = re.fullmatch(r"(a*)(b*)(c*)", p)
    if m is None:
        return False
    i, j, k = len(m[1]), len(m[2]), len(m[3])
    return j <= i if k == 0 else (j == i and k <= i)


def dyck2_open(p: str) -> list[str] | None:
    """The open brackets after ``p``, or None when ``p`` is no prefix of a Dyck-2 word."""
    stack: list[str] = []
    for symbol in p:
        if symbol in "([":
            stack.append(symbol)
        elif not stack or {"(": ")", "[": "]"}[stack.pop()] != symbol:
            return None
    return stack


LANGUAGES = {
    "anbn": (anbn_prefix, lambda p: anbn_prefix(p) and p.count("a") == p.count("b")),
    "anbncn": (anbncn_prefix, lambda p: anbncn_prefix(p) and p.count("a") == p.count("c")),
    "dyck2": (lambda p: dyck2_open(p) is not None, lambda p: dyck2_open(p) == []),
}


def next_set_reference(name: str, word: str) -> tuple[str, ...]:
    """After each symbol: the symbols that keep the word a prefix of the language, and END if it is a word."""
    is_prefix, is_word = LANGUAGES[name]
    order = TASKS[name].input_alphabet
    labels = []
    for i in range(1, len(word) + 1):
        p = word[:i]
        allowed = [s for s in order if is_prefix(p + s)] + ([END] if is_word(p) else [])
        labels.append("{" + ",".join(allowed) + "}")
    return tuple(labels)


REFERENCES = {
    "parity": parity_reference,
    "even_pairs": even_pairs_reference,
    "cycle_navigation": cycle_reference,
    "modular_arithmetic": modular_flat_reference,
    "stack_manipulation": stack_reference,
    "reverse_string": lambda w: tuple(w[::-1]),
    "modular_arithmetic_brackets": modular_reference,
    "binary_addition": binary_addition_reference,
    "duplicate_string": lambda w: tuple(w) * 2,
    "anbn": lambda w: next_set_reference("anbn", w),
    "anbncn": lambda w: next_set_reference("anbncn", w),
    "dyck2": lambda w: next_set_reference("dyck2", w),
}
WORD_LENGTH = {"anbn": 2, "anbncn": 3, "dyck2": 2}
"""Tasks whose length counts n of a word of k n symbols."""


def input_length(name: str, length: int) -> int:
    """The number of input symbols of an example of ``length``: odd for modular_arithmetic (even ones lose one)."""
    if name == "modular_arithmetic":
        return length if length % 2 else length - 1
    return WORD_LENGTH.get(name, 1) * length


def test_every_task_has_a_reference_and_the_required_ones_are_registered() -> None:
    required = {
        "parity",
        "even_pairs",
        "cycle_navigation",
        "modular_arithmetic",
        "stack_manipulation",
        "reverse_string",
        "modular_arithmetic_brackets",
        "binary_addition",
        "duplicate_string",
        "anbn",
    }
    assert required <= set(TASKS)
    assert set(REFERENCES) == set(TASKS)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_attributes_are_well_formed(name: str) -> None:
    task = TASKS[name]
    assert task.name == name and get_task(name) is task
    assert task.output_mode in OUTPUT_MODES and task.chomsky in CHOMSKY_CLASSES
    assert len(set(task.input_alphabet)) == len(task.input_alphabet) >= 2
    assert len(set(task.output_alphabet)) == len(task.output_alphabet) >= 2
    assert name in tr.list_constructions() or task.machine in tr.list_constructions()
    assert task.length and task.__doc__ and ">>>" in task.__doc__


def test_the_paper_lengths() -> None:
    assert (TRAIN_LENGTHS[0], TRAIN_LENGTHS[-1], TEST_LENGTHS[0], TEST_LENGTHS[-1]) == (1, 40, 41, 500)


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("name", sorted(TASKS))
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 60))
def test_samples_have_the_length_the_alphabets_and_the_reference_targets(name: str, seed: int, length: int) -> None:
    task = TASKS[name]
    examples = task.sample(length, 3, np.random.default_rng(seed))
    assert len(examples) == 3
    for ex in examples:
        assert isinstance(ex, TaskExample)
        assert len(ex.input) == input_length(name, length)
        assert set(ex.input) <= set(task.input_alphabet)
        assert set(ex.target) <= set(task.output_alphabet)
        assert ex.target == REFERENCES[name](ex.input)
        if task.output_mode == "final":
            assert len(ex.target) == 1
        if task.output_mode == "per_position":
            assert len(ex.target) == len(ex.input)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 80))
def test_generated_inputs_have_the_papers_form(seed: int, length: int) -> None:
    rng = np.random.default_rng(seed)
    (add,) = get_task("binary_addition").sample(length, 1, rng)
    if length <= 2:
        assert "+" not in add.input
    else:
        x, y = add.input.split("+")
        assert "1" in x and "1" in y  # both operands are nonzero
    (stack,) = get_task("stack_manipulation").sample(length, 1, rng)
    assert re.fullmatch(r"[ab]+[pAB]*", stack.input) and (length == 1 or re.search("[pAB]", stack.input))
    (dyck,) = get_task("dyck2").sample(length, 1, rng)
    assert dyck2_open(dyck.input) == []
    (expr,) = get_task("modular_arithmetic_brackets").sample(length, 1, rng)
    assert in_bracket_grammar(expr.input)
    (flat,) = get_task("modular_arithmetic").sample(length, 1, rng)
    assert re.fullmatch(r"[0-4]([-+*][0-4])*", flat.input)


FLAT_EXPRESSIONS = st.builds(
    lambda first, rest: first + "".join(op + digit for op, digit in rest),
    st.sampled_from("01234"),
    st.lists(st.tuples(st.sampled_from("+-*"), st.sampled_from("01234")), max_size=60),
)


@settings(max_examples=300, deadline=None)
@given(FLAT_EXPRESSIONS)
def test_modular_arithmetic_solves_as_python_and_as_the_papers_steps(word: str) -> None:
    expected = modular_flat_reference(word)
    assert get_task("modular_arithmetic").solve(word) == expected
    assert expected == (str(modular_flat_paper_steps(word)),)


@settings(max_examples=300, deadline=None)
@given(st.text("01", max_size=80))
def test_even_pairs_counts_the_01_and_10_pairs_so_the_ends_decide(word: str) -> None:
    expected = even_pairs_reference(word)
    assert get_task("even_pairs").solve(word) == expected
    assert expected == (("1",) if word[:1] != word[-1:] else ("0",))


def test_modular_arithmetic_lengths_follow_the_papers_code() -> None:
    task, rng = get_task("modular_arithmetic"), np.random.default_rng(5)
    for length in range(1, 30):
        size = {len(ex.input) for ex in task.sample(length, 4, rng)}
        assert size == {length if length % 2 else length - 1}  # an even length loses one symbol
    assert all(re.fullmatch(r"[0-4]", ex.input) for ex in task.sample(2, 10, rng))  # lengths 1 and 2: one digit
    with pytest.raises(TaskError, match="is not an expression"):
        task.solve("1+")
    with pytest.raises(TaskError, match="is not an expression"):
        task.solve("12+3")


def test_the_flat_generators_draw_every_symbol_uniformly() -> None:
    rng = np.random.default_rng(11)
    flat = [ex.input for ex in get_task("modular_arithmetic").sample(21, 2000, rng)]  # 11 digits, 10 operators each
    digits = "".join(word[::2] for word in flat)
    operators = "".join(word[1::2] for word in flat)
    assert all(abs(digits.count(d) / len(digits) - 1 / 5) < 0.01 for d in "01234")
    assert all(abs(operators.count(o) / len(operators) - 1 / 3) < 0.01 for o in "+-*")
    pairs = get_task("even_pairs").sample(20, 4000, rng)
    bits = "".join(ex.input for ex in pairs)
    assert abs(bits.count("1") / len(bits) - 1 / 2) < 0.01
    assert abs(sum(ex.target == ("1",) for ex in pairs) / len(pairs) - 1 / 2) < 0.03


def test_sampling_is_reproducible_and_uses_the_generator() -> None:
    for task in TASKS.values():
        if task.name in WORD_LENGTH:
            continue
        first = task.sample(30, 5, np.random.default_rng(7))
        assert first == task.sample(30, 5, np.random.default_rng(7))
        assert len({ex.input for ex in first}) > 1, task.name


def test_the_docs_worked_examples() -> None:
    assert get_task("even_pairs").solve("001110") == ("0",)  # one 01, one 10
    assert get_task("cycle_navigation").solve("010211") == ("2",)
    assert get_task("modular_arithmetic").solve("0*1+4*3-2") == ("0",)  # 0 + 12 - 2
    assert get_task("stack_manipulation").solve("abpA") == ("a", "a")
    assert get_task("binary_addition").solve("01001+011") == tuple("00011")  # 18 + 6 = 24
    assert get_task("modular_arithmetic_brackets").solve("((-2)*(3-4))") == ("2",)
    assert get_task("anbn").solve("aabb") == ("{a,b}", "{a,b}", "{b}", "{$}")


@pytest.mark.parametrize("length", [0, -1, 2.0, True])
def test_a_bad_length_raises(length: object) -> None:
    with pytest.raises(TaskError, match=r"task 'parity': length must be an int >= 1 \(the number of bits\)"):
        get_task("parity").sample(length, 1, np.random.default_rng(0))  # type: ignore[arg-type]


def test_a_bad_count_or_generator_raises() -> None:
    task = get_task("parity")
    with pytest.raises(TaskError, match="n must be an int >= 0; got -1"):
        task.sample(3, -1, np.random.default_rng(0))
    with pytest.raises(TaskError, match="rng must be a numpy.random.Generator; got int"):
        task.sample(3, 1, 0)  # type: ignore[arg-type]
    assert task.sample(3, 0, np.random.default_rng(0)) == []


def test_an_unknown_task_name_raises_and_lists_the_tasks() -> None:
    first = "parity, even_pairs, cycle_navigation, modular_arithmetic, stack_manipulation"  # the regular tasks first
    with pytest.raises(UnknownTaskError, match=rf"unknown task 'parity_check'; tasks are: {first}, "):
        get_task("parity_check")
    with pytest.raises(LookupError):
        tr.get_task("")


def test_an_invalid_expression_is_reported() -> None:
    task = get_task("modular_arithmetic_brackets")
    with pytest.raises(TaskError, match=r"'\(1\+2' is not an expression"):
        task.solve("(1+2")
    with pytest.raises(TaskError, match="unexpected '\\+' at position 1"):
        task.solve("1+2")


# ---------------------------------------------------------------- the task machines on their own


def all_words(alphabet: str, up_to: int) -> list[str]:
    return ["".join(w) for n in range(up_to + 1) for w in itertools.product(alphabet, repeat=n)]


def test_the_new_machines_follow_their_references_on_every_short_word() -> None:
    cycle = tr.load_machine("cycle_navigation")
    for word in all_words("012", 6):
        assert cycle.run(word).state == "at" + cycle_reference(word)[0]
    stack = tr.load_machine("stack_manipulation")
    for word in all_words("abpAB", 5):
        if re.fullmatch(r"[ab]*[pAB]*", word):
            assert stack.run(word).stacks["stack"] == "".join(stack_reference(word))
    counters = tr.load_machine("anbncn_counters")
    for word in all_words("abc", 8):
        m = re.fullmatch(r"(a*)(b*)(c*)", word)
        in_language = m is not None and len(m[1]) == len(m[2]) == len(m[3])
        assert counters.run(word).accepted is in_language, word


def test_the_expression_machine_accepts_exactly_the_bracketed_grammar() -> None:
    machine = tr.load_machine("modular_arithmetic_brackets")
    for word in all_words("01-+()", 5) + ["((1+2)*(-3))", "(1+2+3)", "-(1)", "((1))", "(1*)"]:
        result = machine.run(word)
        assert result.accepted is in_bracket_grammar(word), word
        if result.accepted:
            assert result.state == "is" + modular_reference(word)[0]


def test_the_even_pairs_machine_leaves_the_label_on_every_short_word() -> None:
    machine = tr.load_machine("even_pairs")
    for word in all_words("01", 10):
        (label,) = even_pairs_reference(word)
        result = machine.run(word)
        assert result.stacks == {"in": label} and result.steps == len(word) + 1
        assert result.accepted is (label == "0")


def test_the_flat_expression_machine_accepts_exactly_the_expressions_and_gives_their_value() -> None:
    machine = tr.load_machine("modular_arithmetic")
    expressions = ["".join(w) for n in range(4) for w in itertools.product("01234", *["+-*", "01234"] * n)]
    for word in all_words("01234+-*", 4) + [w for w in expressions if len(w) > 4]:
        result = machine.run(word)
        is_expression = re.fullmatch(r"[0-4]([-+*][0-4])*", word) is not None
        assert result.accepted is is_expression, word
        if is_expression:
            assert result.state == "is" + modular_flat_reference(word)[0] and result.steps == len(word) + 1


# ---------------------------------------------------------------- the compiled networks solve the tasks


def short_examples(name: str, seed: int, lengths: range = range(1, 13), n: int = 2) -> list[TaskExample]:
    rng = np.random.default_rng(seed)
    return [ex for length in lengths for ex in TASKS[name].sample(length, n, rng)]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_the_machine_and_its_exact_network_answer_every_short_example(name: str) -> None:
    task = TASKS[name]
    examples = short_examples(name, seed=sum(map(ord, name)))
    targets = [ex.target for ex in examples]
    assert run_reference(task, examples) == targets
    assert run_compiled(task, examples, engine="exact") == targets


@pytest.mark.parametrize("name", sorted(TASKS))
def test_the_other_construction_and_streamed_input_answer_too(name: str) -> None:
    task = TASKS[name]
    examples = short_examples(name, seed=1, lengths=range(1, 6), n=1)
    targets = [ex.target for ex in examples]
    assert run_compiled(task, examples, construction="compact", input_mode="streamed") == targets
    assert run_compiled(task, examples, construction="ss95", input_mode="preloaded") == targets


@pytest.mark.parametrize("name", sorted(TASKS))
def test_a_float64_run_answers_right_or_is_flagged(name: str) -> None:
    task = TASKS[name]
    examples = short_examples(name, seed=2, lengths=range(1, 9))
    answers = run_compiled(task, examples, engine="float64")
    assert all(a is None or a == ex.target for a, ex in zip(answers, examples, strict=True))
    # The shortest words stay inside float64's precision (the first two examples have length 1).
    assert answers[:2] == [ex.target for ex in examples[:2]]


def test_a_diverged_float32_run_answers_none() -> None:
    task = get_task("reverse_string")
    examples = task.sample(40, 4, np.random.default_rng(3))  # 40 digits of base 4: 80 bits, past float32
    assert run_compiled(task, examples, engine="float32") == [None] * 4
    assert run_compiled(task, examples, engine="exact") == [ex.target for ex in examples]


def test_per_position_decoding_needs_every_configuration() -> None:
    task = get_task("anbn")
    result = tr.run(tr.load_machine("anbn"), "aabb")
    with pytest.raises(TaskError, match="needs a run with trace=True"):
        task.decode(result)


def test_a_run_that_does_not_finish_answers_none() -> None:
    examples = [TaskExample("0110" * 5, tuple("0110" * 5)[::-1])]
    assert run_compiled(get_task("reverse_string"), examples, max_steps=5) == [None]
    assert run_reference(get_task("anbn"), [TaskExample("aaabbb", ())], max_steps=3) == [None]


def test_run_compiled_checks_its_arguments() -> None:
    task = get_task("parity")
    with pytest.raises(TaskError, match="unknown engine 'float16'; engines are: exact, float64, float32"):
        run_compiled(task, [], engine="float16")
    with pytest.raises(TaskError, match="unknown construction 'tiny'"):
        run_compiled(task, [], construction="tiny")
    with pytest.raises(TaskError, match="unknown input mode 'pushed'"):
        run_compiled(task, [], input_mode="pushed")
    assert run_compiled(task, [], engine="float64") == []


def test_the_network_is_compiled_once() -> None:
    task = get_task("dyck2")
    assert compile_task(task) is compile_task(task)
    assert compile_task(task, input_mode="streamed") is not compile_task(task)


# ---------------------------------------------------------------- ticks


@pytest.mark.parametrize("construction", ["compact", "ss95"])
@pytest.mark.parametrize("mode", ["preloaded", "streamed"])
@pytest.mark.parametrize("name", ["parity", "binary_addition", "anbn", "stack_manipulation"])
def test_tick_counts_are_the_ticks_the_network_runs(name: str, mode: str, construction: str) -> None:
    task = TASKS[name]
    ticks = ticks_per_symbol(task, construction, mode)
    net = compile_task(task, construction, mode)
    assert ticks.ticks_per_step == net.ticks_per_step == (2 if construction == "compact" else 4)
    for ex in short_examples(name, seed=4, lengths=range(1, 5), n=1):
        word = task.machine_word(ex)
        ran = run_exact(net, word, record="final").ticks
        assert ticks.total(ex) == ran
        assert ticks.extra(ex) == ran - (len(word) if mode == "streamed" else 0)
        assert ticks.per_symbol(ex) == ran / len(ex.input)


def test_a_linear_machine_costs_ticks_per_step_per_symbol() -> None:
    ticks = ticks_per_symbol(get_task("parity"))
    ex = TaskExample("0" * 40, ("0",))
    assert ticks.total(ex) == 2 * 41  # one step per bit and a last one, 2 ticks each


# ---------------------------------------------------------------- metrics


def test_per_token_accuracy_counts_positions_of_the_longer_sequence() -> None:
    assert per_token_accuracy(("1", "0"), ("1", "0")) == 1.0
    assert per_token_accuracy(("1", "1"), ("1", "0")) == 0.5
    assert per_token_accuracy(("1", "0", "0", "0"), ("1", "0")) == 0.5  # two extra labels
    assert per_token_accuracy(("1",), ("1", "0", "1", "1")) == 0.25  # three missing
    assert per_token_accuracy((), ()) == 1.0
    assert per_token_accuracy(("0",), ()) == 0.0
    assert per_token_accuracy(None, ("1",)) == 0.0


def test_sequence_correct_needs_every_label() -> None:
    assert sequence_correct(("1", "0"), ("1", "0"))
    assert sequence_correct(["1", "0"], ("1", "0"))
    assert not sequence_correct(("1",), ("1", "0"))
    assert not sequence_correct(None, ())
    assert sequence_correct((), ())


def test_score_averages_per_token_accuracy_over_lengths() -> None:
    results: dict[int, list[tuple[tuple[str, ...] | None, tuple[str, ...]]]] = {
        41: [(("1", "0"), ("1", "0")), (("1", "1"), ("1", "0"))],  # 0.75 per token, 0.5 per sequence
        42: [(None, ("1",)), (("0",), ("0",))],  # 0.5, 0.5
        43: [(("1",), ("1",))],  # 1.0, 1.0
    }
    r = score(results)
    assert r["score"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    assert r["per_token_accuracy"] == {41: 0.75, 42: 0.5, 43: 1.0}
    assert r["sequence_accuracy"] == {41: 0.5, 42: 0.5, 43: 1.0}
    assert r["horizon"] == 0


def test_the_horizon_is_the_last_length_before_the_first_failure() -> None:
    right, wrong = (("1",), ("1",)), (("0",), ("1",))
    assert score({1: [right], 2: [right], 3: [right]})["horizon"] == 3
    assert score({1: [right], 2: [wrong], 3: [right]})["horizon"] == 1
    assert score({5: [right], 10: [right], 7: [wrong]})["horizon"] == 5  # lengths are taken in order
    assert score({1: [right] * 99 + [wrong]})["horizon"] == 1  # 99% is enough
    assert score({1: [right] * 98 + [wrong] * 2})["horizon"] == 0


def test_score_needs_results() -> None:
    with pytest.raises(TaskError, match="at least one length"):
        score({})
    with pytest.raises(TaskError, match="length 3 has no results"):
        score({3: []})
