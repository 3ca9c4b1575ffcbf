"""Numba interpreter for Turing machines: the same results as the reference, much faster.

:func:`run_tm_fast` returns exactly the :class:`~turingrnn.machines.interpreter.RunResult`
that :func:`turingrnn.machines.interpreter.run` returns for a Turing machine (status,
step count, final configuration, verdict and reason), with the same
bbchallenge step counting. It keeps no trace: use the reference interpreter
for traces.

How it works: the thin wrapper validates the input and encodes the machine as
small integer tables indexed by ``state * k + symbol`` (``k`` symbols):
the symbol to write, the head move in ``{-1, 0, 1}``, the next state, and an
action code (go on, undefined transition, or enter a halting state), so the
inner loop makes one table test per step. A private ``@njit`` kernel takes only
these arrays and scalars and runs on a ``uint8`` tape (``uint16`` for more
than 256 symbols). When the head
leaves the tape the kernel returns; the wrapper doubles the tape, putting the
new blank half on the side the head left by, and calls the kernel again. So the
tape never holds more than about twice the cells the head visited.

The first call in a fresh environment compiles the kernel (about a second);
compiled code is cached on disk (``cache=True`` in :mod:`turingrnn.config`).

>>> from turingrnn.machines.parsing import parse_bbchallenge
>>> bb5 = parse_bbchallenge("1RB1LC_1RC1RB_1RD0LE_1LA1LD_---0LA")
>>> r = run_tm_fast(bb5, max_steps=50_000_000)
>>> r.status.value, r.steps, r.tape.count("1")
('halted', 47176870, 4097)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..config import NJIT_OPTIONS
from ..errors import InputError
from .interpreter import RunResult, TMConfiguration, check_max_steps, check_tm_input, finish
from .model import TuringMachine

_MOVE = {"L": -1, "R": 1, "S": 0}

# Kernel exit codes; the first three double as action codes in the tables.
_GO_ON = 0
_HALTING_STATE = 1
_UNDEFINED = 2
_OUT_OF_STEPS = 3
_OFF_TAPE = 4

_REASONS = {_HALTING_STATE: "halting state", _UNDEFINED: "undefined transition"}

_MAX_BUDGET = 2**62
"""Most steps one kernel call may take (an int64); larger limits are run in several calls."""
_MIN_TAPE = 64
"""Cells allocated at the start (at least), so that short runs never grow the tape."""


@dataclass(frozen=True)
class _Tables:
    """A Turing machine as flat integer arrays indexed by ``state * k + symbol``."""

    write: np.ndarray
    move: np.ndarray
    next: np.ndarray
    action: np.ndarray
    k: int
    blank: int
    dtype: type


def _encode(tm: TuringMachine) -> _Tables:
    """Tables for ``tm``; states and symbols are numbered in the machine's own order."""
    k = len(tm.symbols)
    dtype = np.uint8 if k <= 256 else np.uint16
    state_index = {q: i for i, q in enumerate(tm.states)}
    symbol_index = {a: i for i, a in enumerate(tm.symbols)}
    size = len(tm.states) * k
    write = np.zeros(size, dtype=dtype)
    move = np.zeros(size, dtype=np.int64)
    nxt = np.zeros(size, dtype=np.int64)
    action = np.full(size, _UNDEFINED, dtype=np.uint8)
    for r in tm.rules:
        i = state_index[r.state] * k + symbol_index[r.read]
        write[i] = symbol_index[r.write]
        move[i] = _MOVE[r.move]
        nxt[i] = state_index[r.next]
        action[i] = _HALTING_STATE if r.next in tm.halting_states else _GO_ON
    return _Tables(write, move, nxt, action, k, symbol_index[tm.blank], dtype)


@numba.njit(**NJIT_OPTIONS)
def _run_kernel(write, move, nxt, action, k, tape, head, state, max_steps):  # noqa: ANN001, ANN202
    """Step from a non-halting ``state`` until a halt, ``max_steps`` steps, or the head leaves ``tape``.

    Returns ``(code, head, state, steps)``: ``code`` is one of the exit codes
    above, ``steps`` the number of steps taken in this call. On ``_OFF_TAPE``
    the head is ``-1`` or ``len(tape)``; the step that moved it there is
    counted and its state is not halting. (A halting step may leave the head
    off the tape too; the caller grows the tape whenever the head is off it.)
    """
    n = tape.shape[0]
    steps = 0
    while steps < max_steps:
        i = state * k + tape[head]
        steps += 1
        a = action[i]
        if a == _UNDEFINED:
            return _UNDEFINED, head, state, steps
        tape[head] = write[i]
        head += move[i]
        state = nxt[i]
        if a == _HALTING_STATE:
            return _HALTING_STATE, head, state, steps
        if head < 0 or head >= n:
            return _OFF_TAPE, head, state, steps
    return _OUT_OF_STEPS, head, state, steps


def _grow(tape: np.ndarray, head: int, blank: int) -> tuple[np.ndarray, int]:
    """Double ``tape``, adding blanks on the side the head left by; return the tape and new head."""
    n = tape.shape[0]
    bigger = np.full(2 * n, blank, dtype=tape.dtype)
    offset = n if head < 0 else 0
    bigger[offset : offset + n] = tape
    return bigger, head + offset


def _configuration(tm: TuringMachine, tape: np.ndarray, head: int, state: int, blank: int) -> TMConfiguration:
    """The trimmed :class:`TMConfiguration` of a kernel tape (see its docs for the span)."""
    nonblank = np.flatnonzero(tape != blank)
    lo = min(int(nonblank[0]), head) if nonblank.size else head
    hi = max(int(nonblank[-1]), head) if nonblank.size else head
    symbols = np.array(tm.symbols)
    return TMConfiguration(tm.states[state], "".join(symbols[tape[lo : hi + 1]].tolist()), head - lo)


def run_tm_fast(tm: TuringMachine, word: str = "", *, head: int = 0, max_steps: int = 1_000_000) -> RunResult:
    """Run ``tm`` on ``word`` (head on index ``head``) with the Numba kernel.

    Same arguments, checks, step counting and result as
    :func:`turingrnn.machines.interpreter.run` for a Turing machine, except that no
    trace is kept (``trace`` is always ``None``).

    Args:
        tm: The machine.
        word: The input, written on a blank tape from index 0.
        head: The start index of the head, ``0 <= head <= len(word)``.
        max_steps: Step limit (reaching it is a result, status ``out-of-steps``).

    Returns:
        The run's :class:`~turingrnn.machines.interpreter.RunResult`.

    Raises:
        InputError: ``tm`` is not a Turing machine, ``word`` or ``head`` does not
            fit it, or ``max_steps`` is not a whole number ``>= 0``.
    """
    check_max_steps(max_steps)
    if not isinstance(tm, TuringMachine):
        raise InputError(f"expected a TuringMachine, got {type(tm).__name__}")
    check_tm_input(tm, word, head)
    t = _encode(tm)
    symbol_index = {a: i for i, a in enumerate(tm.symbols)}
    cells = [symbol_index[c] for c in word] or [t.blank]
    margin = max(_MIN_TAPE, len(cells))
    tape: np.ndarray = np.full(len(cells) + 2 * margin, t.blank, dtype=t.dtype)
    tape[margin : margin + len(cells)] = cells
    pos, state, count = margin + head, tm.states.index(tm.start), 0
    # _OFF_TAPE here means "not finished yet".
    code = _HALTING_STATE if tm.start in tm.halting_states else _OFF_TAPE
    while code == _OFF_TAPE or (code == _OUT_OF_STEPS and count < max_steps):
        budget = min(max_steps - count, _MAX_BUDGET)
        code, pos, state, taken = _run_kernel(t.write, t.move, t.next, t.action, t.k, tape, pos, state, budget)
        count += taken
        if not 0 <= pos < tape.shape[0]:
            tape, pos = _grow(tape, pos, t.blank)
    final = _configuration(tm, tape, pos, state, t.blank)
    return finish(tm, count, final, None if code == _OUT_OF_STEPS else _REASONS[code])
