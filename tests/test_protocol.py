"""The training and test protocol of the trained models (turingrnn.learning.protocol)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turingrnn.errors import TaskError
from turingrnn.learning.models import make_model
from turingrnn.learning.protocol import (
    END_LABEL,
    TEST_EVAL_LENGTHS,
    answers_from_classes,
    encode,
    evaluate_on_task,
    evaluation_sets,
    model_for_task,
    output_labels,
    parse_lengths,
    predict,
    sampling_noise,
    scored_mask,
    summarize,
    train_on_task,
)
from turingrnn.learning.tasks import TASKS, TaskExample, get_task


def test_outputs_are_masked_after_the_blank_steps():
    task = get_task("reverse_string")
    inputs, targets, mask = encode(task, [TaskExample("01", ("1", "0"))], "2")
    assert inputs.shape == (1, 6, 3)
    assert inputs[0].argmax(axis=1).tolist() == [0, 1, 2, 2, 2, 2]
    assert mask[0].tolist() == [False, False, False, False, True, True]
    assert targets[0][mask[0]].tolist() == [1, 0]
    anbn = get_task("anbn")
    example = anbn.sample(1, 1, np.random.default_rng(0))[0]
    _, _, mask = encode(anbn, [example], "compiled")  # one blank after each symbol (2 ticks per step)
    assert mask[0].tolist() == [False, True, False, True]


@pytest.mark.parametrize("name", ["stack_manipulation", "binary_addition"])
def test_terminated_tasks_get_n_plus_one_slots_the_answer_then_the_terminator_then_zeros(name):
    task = get_task(name)
    example = task.sample(7, 1, np.random.default_rng(3))[0]
    _, targets, mask = encode(task, [example])
    labels = output_labels(task)
    assert labels[-1] == END_LABEL and mask[0].sum() == 8
    slots = [labels[k] for k in targets[0][mask[0]]]
    assert tuple(slots[: len(example.target)]) == example.target
    assert slots[len(example.target)] == END_LABEL
    assert set(targets[0][mask[0]][len(example.target) + 1 :].tolist()) <= {0}
    scored = scored_mask(task, [example])
    assert scored[0].sum() == len(example.target) + 1 and not (scored & ~mask).any()
    _, _, old = encode(task, [example], terminator=False)
    assert old[0].sum() == len(example.target)


def test_answers_are_cut_at_the_first_terminator():
    task = get_task("stack_manipulation")
    labels = output_labels(task)
    classes = np.array([[0, labels.index("b"), labels.index(END_LABEL), labels.index("a")]])
    mask = np.array([[False, True, True, True]])
    assert answers_from_classes(task, classes, mask) == [("b",)]


def test_a_symbol_outside_the_alphabet_is_named():
    with pytest.raises(TaskError, match=r"input symbol 'x' is not one of \('0', '1'\)"):
        encode(get_task("parity"), [TaskExample("01x", ("0",))])


def test_the_shared_test_sets_depend_only_on_task_length_and_seed():
    task = get_task("cycle_navigation")
    a = evaluation_sets(task, (5, 41), 8, seed=3)
    b = evaluation_sets(task, (41,), 8, seed=3)
    assert a[41] == b[41] and len(a[5]) == 8
    assert evaluation_sets(task, (41,), 8, seed=4)[41] != a[41]


def test_summarize_splits_train_and_test_lengths():
    tests = {3: [TaskExample("a", ("1",))] * 2, 50: [TaskExample("a", ("1",))] * 2}
    answers = {3: [("1",), ("1",)], 50: [("1",), ("0",)]}
    s = summarize(answers, tests)
    assert s["train_score"] == 1.0 and s["score"] == 0.5 and s["horizon"] == 3
    assert s["sequence_accuracy"] == {"3": 1.0, "50": 0.5}


def test_twenty_test_lengths_make_the_sampling_noise_of_128_examples_below_one_point():
    assert len(TEST_EVAL_LENGTHS) == 20 and {41, 60, 100, 200, 500} <= set(TEST_EVAL_LENGTHS)
    assert min(TEST_EVAL_LENGTHS) == 41 and max(TEST_EVAL_LENGTHS) == 500
    assert sampling_noise(128, 20) < 0.01


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 600), min_size=1, max_size=6))
def test_lengths_written_out_parse_back(values):
    assert parse_lengths(",".join(map(str, values))) == tuple(sorted(set(values)))


@pytest.mark.parametrize("bad", ["", "x", "5-2", "0-3", "1-10/1", "1-3/9"])
def test_bad_lengths_are_refused_with_the_text(bad):
    with pytest.raises(TaskError, match="bad lengths"):
        parse_lengths(bad)


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_encodes_and_a_model_answers_in_its_labels(name):
    task = get_task(name)
    model = model_for_task(task, "gru", 4, seed=0)
    examples = evaluation_sets(task, (3,), 2, 0)[3]
    answers = predict(task, model, examples)
    assert len(answers) == 2
    assert all(set(a) <= set(task.output_alphabet) for a in answers)


def test_a_model_trained_on_parity_fits_its_training_range_and_the_scores_say_so():
    task = get_task("parity")
    model = model_for_task(task, "elman_relu", 16, seed=1, readout="relu")
    history = train_on_task(task, model, steps=300, batch=32, learning_rate=0.01, lengths=range(1, 9))
    assert history.steps == 300
    result = evaluate_on_task(task, model, (2, 4, 8), 32, seed=0)
    assert result.summary["train_score"] > 0.95, result.summary


def test_predict_rejects_a_model_of_the_wrong_width():
    task = get_task("parity")
    with pytest.raises(Exception, match="expected \\(batch, time, 5\\)"):
        predict(task, make_model("gru", 5, 4, 2), [TaskExample("01", ("1",))])
