"""Hypothesis strategies for random small machines, shared by the test modules."""

from __future__ import annotations

from hypothesis import strategies as st

import turingrnn as tr
from turingrnn.machines.model import ANY, EMPTY

SYMBOL_POOL = "_01abcxyz#"


@st.composite
def turing_machines(draw, max_states: int = 4, max_symbols: int = 4, allow_stay: bool = True) -> tr.TuringMachine:
    """Random deterministic TMs; some (state, symbol) pairs are undefined, some go to a halt state."""
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(1, max_symbols))
    states = [f"q{i}" for i in range(n)]
    symbols = list(SYMBOL_POOL[:k])
    has_halt = draw(st.booleans())
    halt = ["h"] if has_halt else []
    targets = states + halt
    moves = ["L", "R", "S"] if allow_stay else ["L", "R"]
    rules = []
    for q in states:
        for a in symbols:
            if draw(st.integers(0, 5)) == 0:
                continue  # undefined: halts there
            rules.append(
                tr.TMRule(
                    state=q,
                    read=a,
                    write=draw(st.sampled_from(symbols)),
                    move=draw(st.sampled_from(moves)),
                    next=draw(st.sampled_from(targets)),
                )
            )
    with_verdict = has_halt and draw(st.booleans())
    return _quiet(
        tr.TuringMachine,
        states=tuple(states + halt),
        symbols=tuple(symbols),
        blank=symbols[0],
        start="q0",
        rules=tuple(rules),
        accept=frozenset(halt) if with_verdict else frozenset(),
        halt=frozenset() if with_verdict else frozenset(halt),
    )


def tm_inputs(tm: tr.TuringMachine, max_len: int = 6):
    """Words over a TM's alphabet together with a head position inside them."""
    return st.text(alphabet=st.sampled_from(tm.symbols), max_size=max_len).flatmap(
        lambda w: st.tuples(st.just(w), st.integers(0, len(w)))
    )


@st.composite
def stack_machines(draw, max_stacks: int = 3, max_symbols: int = 4, max_states: int = 4) -> tr.StackMachine:
    """Random deterministic stack machines with p in 0..max_stacks stacks.

    For each state the reads are a partition: every stack reads ``any`` or the
    state branches on one stack over all its tops, so no two rules overlap.
    """
    p = draw(st.integers(0, max_stacks))
    names = [f"s{i}" for i in range(p)]
    alphabets = [tuple("abcd"[: draw(st.integers(1, max_symbols))]) for _ in names]
    n = draw(st.integers(1, max_states))
    states = [f"q{i}" for i in range(n)]
    accept, reject = ["acc"], ["rej"]
    targets = states + accept + reject
    rules = []
    for q in states:
        branch = draw(st.sampled_from([None, *range(p)]))
        cases: list[tuple[str, ...]] = []
        if branch is None:
            cases = [tuple(ANY for _ in names)]
        else:
            for top in (*alphabets[branch], EMPTY):
                cases.append(tuple(top if i == branch else ANY for i in range(p)))
        for reads in cases:
            if draw(st.integers(0, 6)) == 0:
                continue
            ops = []
            for i, read in enumerate(reads):
                options = [tr.NOOP] + [tr.push(a) for a in alphabets[i]]
                if read not in (ANY, EMPTY):
                    options.append(tr.POP)
                ops.append(draw(st.sampled_from(options)))
            rules.append(tr.StackRule(state=q, read=reads, next=draw(st.sampled_from(targets)), ops=tuple(ops)))
    return _quiet(
        tr.StackMachine,
        stacks=tuple(zip(names, alphabets, strict=True)),
        states=tuple(targets),
        start="q0",
        accept=frozenset(accept),
        reject=frozenset(reject),
        rules=tuple(rules),
    )


def stack_inputs(sm: tr.StackMachine, max_len: int = 6):
    """Words over the input stack's alphabet (only the empty word for p = 0)."""
    if sm.input_stack is None:
        return st.just("")
    return st.text(alphabet=st.sampled_from(sm.alphabet(sm.input_stack)), max_size=max_len)


def _quiet(cls, **kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tr.SpecWarning)
        return cls(**kwargs)
