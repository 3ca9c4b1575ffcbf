"""Neuron labels: every label of every bundled machine's network reads back as a Neuron and renders to itself."""

from __future__ import annotations

import functools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.compile.compiler import CONSTRUCTIONS, INPUT_MODES, compile_machine, constructions_for
from turingrnn.compile.labels import LIST_SEPARATOR, RESERVED, Neuron, joined, parse, reads, threshold
from turingrnn.machines.parsing import list_machines
from turingrnn.machines.reduction import tm_to_stack_machine

MACHINES = sorted(list_machines())
OPS = ("noop", "push", "pop")


@functools.cache
def _machine(name: str) -> tr.TuringMachine | tr.StackMachine:
    return tr.load_machine(name)


def _networks(name: str, construction: str) -> list[tr.Network]:
    machine = _machine(name)
    if construction not in constructions_for(machine.kind):
        pytest.skip(f"{construction} does not compile {machine.kind} machines")
    nets = []
    for mode in INPUT_MODES:
        try:
            nets.append(compile_machine(machine, construction=construction, input_mode=mode))
        except tr.CompileError as e:
            assert mode == "streamed" and "preloaded input only" in str(e)
    return nets


@functools.cache
def _vocabulary(machine: tr.TuringMachine | tr.StackMachine) -> tuple[set[str], set[str], set[str]]:
    """The states, stack (or half-tape) names and symbols a label of ``machine``'s networks may name."""
    if isinstance(machine, tr.TuringMachine):
        reduced = tm_to_stack_machine(machine).machine
        return set(machine.states) | set(reduced.states), {"L", "R"}, set(machine.symbols)
    symbols = {a for _, alphabet in machine.stacks for a in alphabet}
    return set(machine.states), set(machine.stack_names), symbols


def _check_parts(neuron: Neuron, machine: tr.TuringMachine | tr.StackMachine) -> None:
    """The inner separators split into names of the machine: reads, thresholds and states."""
    states, stacks, symbols = _vocabulary(machine)
    for part in (*neuron.key, *neuron.at):
        if ">=" in part:
            stack, j = threshold(part)
            assert stack in stacks and j >= 0, (neuron, part)
        elif "=" in part:
            for stack, value in reads(part):
                assert stack in stacks and (value in symbols or value == "empty"), (neuron, part)
    if neuron.role == "state":
        (who,) = neuron.key
        assert who in states or set(joined(who)) <= states, neuron
        assert neuron.at in ((), ("1",), ("3",)), neuron
    if neuron.role in ("rule", "config"):
        assert neuron.key[0] in states, neuron
    if neuron.role == "next" or (neuron.role == "top" and ">=" in neuron.key[0] and neuron.at):
        assert set(joined(neuron.at[0])) <= states, neuron
    if neuron.role == "in":
        assert neuron.key[0] in symbols | {"end"}, neuron
    if neuron.role == "gate" and len(neuron.key) == 2 and neuron.key[1].split(" ")[0] in OPS:
        op = neuron.key[1].split(" ")
        assert len(op) == 1 or (op[0] == "push" and op[1] in symbols), neuron


SLOW = {("modular_arithmetic_brackets", "realtime"), ("modular_arithmetic", "realtime")}
"""Dense realtime networks: building them takes 10-15 s each (as in tests/test_constructions.py)."""


@pytest.mark.parametrize(
    ("name", "construction"),
    [
        pytest.param(n, c, marks=[pytest.mark.slow] if (n, c) in SLOW else [], id=f"{n}-{c}")
        for n in MACHINES
        for c in CONSTRUCTIONS
    ],
)
def test_every_label_of_every_bundled_network_reads_back(name: str, construction: str) -> None:
    for net in _networks(name, construction):
        for label in (*net.labels, *net.inputs):
            neuron = parse(label)
            assert neuron.render() == str(neuron) == label
            assert parse(str(neuron)) == neuron
            assert LIST_SEPARATOR not in label
            _check_parts(neuron, _machine(name))


def test_labels_of_the_issue_parse_into_their_parts() -> None:
    assert parse("config:as/in=a,count=empty") == Neuron("config", ("as", "in=a,count=empty"))
    assert parse("state:q0|a@3") == Neuron("state", "q0|a", at="3")
    assert parse("gate:R/pop") == Neuron("gate", ("R", "pop"))
    assert parse("gate:R/push a") == Neuron("gate", ("R", "push a"))
    assert parse("stack:in") == Neuron("stack", "in")
    assert parse("boot") == Neuron("boot")
    assert parse("load:digit:a") == Neuron("load", "digit:a")
    assert parse("top:R>=1@q1|q4") == Neuron("top", "R>=1", at="q1|q4")
    assert parse("gate:ctx/pop@in=)") == Neuron("gate", ("ctx", "pop"), at="in=)")
    assert parse("next:in>=2@o33/in=-") == Neuron("next", "in>=2", at=("o33", "in=-"))
    assert parse("gate:open/scan/in=],open=[") == Neuron("gate", ("open", "scan", "in=],open=["))
    assert reads("in=],open=[") == (("in", "]"), ("open", "["))
    assert threshold("a>>=3") == ("a>", 3)
    assert joined("q|a") == ("q", "a")


@pytest.mark.parametrize(
    "label",
    ["", ":", "state:", "state:a@", "state:@3", "state:a//b", "State:a", "st@te:a", "state:a;b", "state:a\tb",
     "state: a", "gate:s/push a ", "9:x", "boot:"],
)  # fmt: skip
def test_malformed_labels_raise(label: str) -> None:
    with pytest.raises(tr.ParseError):
        parse(label)


def test_a_neuron_checks_its_parts() -> None:
    with pytest.raises(tr.ParseError, match=r"part 'a/b' contains '/'"):
        Neuron("state", "a/b")
    with pytest.raises(tr.ParseError, match=r"has an 'at' part \('3',\) but no key"):
        Neuron("state", at="3")
    with pytest.raises(tr.ParseError, match=r"role 'State' is not a lower-case word"):
        Neuron("State", "a")


ROLES = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)
PART_TEXT = "ab01_-+()[]<>#*:>=,| " + "qé→"
PARTS = st.text(alphabet=PART_TEXT, min_size=1, max_size=8).filter(lambda p: p == p.strip(" "))


@st.composite
def neurons(draw) -> Neuron:
    key = tuple(draw(st.lists(PARTS, max_size=3)))
    at = tuple(draw(st.lists(PARTS, max_size=2))) if key else ()
    return Neuron(draw(ROLES), key, at)


@given(neurons())
def test_parse_inverts_render(neuron: Neuron) -> None:
    assert parse(neuron.render()) == neuron
    assert Neuron.parse(str(neuron)) == neuron


@given(st.one_of(st.text(alphabet=PART_TEXT + "/@;\tSx", max_size=16), st.tuples(ROLES, st.text(PART_TEXT + "/@"))))
def test_render_inverts_parse(text: str | tuple[str, str]) -> None:
    label = text if isinstance(text, str) else f"{text[0]}:{text[1]}"
    try:
        neuron = parse(label)
    except tr.ParseError:
        return
    assert neuron.render() == label


def test_reserved_characters_are_the_separators() -> None:
    assert set(RESERVED) == set("/@=,;|")
    for name in MACHINES:
        m = _machine(name)
        states, stacks, symbols = (
            (m.states, (), m.symbols)
            if isinstance(m, tr.TuringMachine)
            else (m.states, m.stack_names, [a for _, al in m.stacks for a in al])
        )
        for text in (*states, *stacks, *symbols):
            assert not set(text) & set(RESERVED), (name, text)


@pytest.mark.parametrize("bad", sorted(RESERVED))
def test_the_loader_rejects_a_state_name_with_a_reserved_character(bad: str) -> None:
    text = f"""kind = "stack"
stacks = {{ in = "ab" }}
states = ["scan", "sc{bad}an"]
start = "scan"
halt = ["sc{bad}an"]
transitions = [{{ state = "scan", read = {{ in = "empty" }}, next = "sc{bad}an" }}]
"""
    if bad == "|":  # a stack machine's state names may contain '|': the reduction names its states q|s
        assert tr.loads_toml(text, file="m.toml").states == ("scan", "sc|an")
        text = text.replace('kind = "stack"\nstacks = { in = "ab" }', 'kind = "tm"\nsymbols = "_a"\nblank = "_"')
        text = text.replace('read = { in = "empty" }', 'read = "_", write = "_", move = "S"')
    with pytest.raises(tr.SpecError) as e:
        tr.loads_toml(text, file="m.toml")
    message = str(e.value)
    assert f"state name 'sc{bad}an' contains {bad!r}, which neuron labels use as a separator" in message
    allowed = "names are non-empty strings of printable characters other than whitespace and / @ = , ;"
    assert allowed + (" |" if bad == "|" else "") in message  # the allowed characters of a stack machine's states
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("states"))) + 1
    assert message.startswith(f"m.toml:{line}:1: ")  # located at the 'states' key


@pytest.mark.parametrize("bad", sorted(RESERVED))
def test_the_loader_rejects_a_symbol_that_is_a_reserved_character(bad: str) -> None:
    text = f"""kind = "tm"
symbols = ["_", "{bad}"]
blank = "_"
states = ["A"]
start = "A"
"""
    with pytest.raises(tr.SpecError) as e:
        tr.loads_toml(text, file="m.toml")
    assert f"symbol {bad!r} is a character that neuron labels use as a separator; symbols are single printable" in str(
        e.value
    )
    with pytest.raises(tr.SpecError, match=rf"stack 'in': symbol '{re.escape(bad)}' is a character that neuron labels"):
        tr.StackMachine(stacks={"in": ("a", bad)}, states=("q",), start="q")
