"""Batches of distinct words on the float core: starts encoded side by side, results kept as arrays.

:func:`run_batch` runs many words in one call and returns a :class:`FloatBatch`:
the words' steps, stops and flags as numpy arrays, and a word's
:class:`~turingrnn.engines.trace.Trace` (its last two readouts) only when asked
for. :func:`run_float` on a list of words builds every trace from the same run.

Both begin with :func:`word_arrays`, which encodes every word's start at once
instead of one :class:`~turingrnn.engines.inputs.Start` (and its exact
fractions) per word:

* the symbols of all words become one matrix of alphabet indices (a word with
  a symbol outside the alphabet, or a bad head, goes to
  :func:`~turingrnn.engines.inputs.prepare`, which names it);
* a preloaded network's stack (or half-tape) codes ``N / B**m`` come from
  Horner's rule over the matrix's columns, in int64; when ``N`` and ``B**m``
  are exact in float64 (``B**m <= 2**53``), the quotient is correctly rounded,
  and its rounding error ``N/B**m - v`` is ``((N - p) - q) / B**m`` with ``p +
  q = v B**m`` exactly (Dekker's product): the residual of a correctly rounded
  quotient is a float, so it comes out exactly, and the bound is the one
  :func:`turingrnn.engines.fast._start` takes from exact fractions, bit for bit;
* a streamed network's input lines are a lookup of the same matrix.

Words whose codes do not fit (``B**m > 2**53``) and networks outside these
cases (reduced readouts, readouts that are not one neuron per stack) take the
per-word path. ``tests/test_fast_batch.py`` checks that both give the same
arrays, bit for bit.

>>> import turingrnn as tr
>>> net = tr.compile_machine(tr.load_machine("parity"))
>>> batch = run_batch(net, ["0110", "1", "111"])
>>> batch.steps.tolist(), batch.stops, batch.flagged.tolist()
([5, 2, 4], ['halting state', 'halting state', 'halting state'], [False, False, False])
>>> batch.trace(0).decode().configuration.state, batch.trace(2).decode().configuration.state
('accept', 'reject')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compile.encoding import base_of, digit_of
from ..compile.network import Network
from ..errors import InputError
from ..machines.interpreter import StackMachine, TuringMachine
from .fast import _check_options, _execute, _final_rows, _start_arrays, _trace
from .fast_kernels import _DIVERGED, _HALTED, _UNDEFINED
from .fast_plan import _cached_plan, _Plan
from .inputs import prepare
from .trace import STOP_REASONS, Action, Trace

EXACT_LIMIT = 2**53
"""A code ``N / B**m`` is encoded side by side when ``B**m`` is at most this (then ``N`` and ``B**m`` are floats)."""

_ONE_PLUS = 1.0 + 2.0**-50  # as fast._up: a float64 bound inflated past its own rounding
_SPLIT = 134217729.0  # 2**27 + 1: Dekker's split of a float64


@dataclass(frozen=True)
class _Segment:
    """Where a stack's start word lies in the input word, and how it is encoded.

    ``forward``: from the head on (else back from it); ``neuron`` receives the code; ``digits`` gives the digit of
    each input symbol, by its number in the layout.
    """

    neuron: int
    kind: str
    base: int
    forward: bool
    digits: tuple[int, ...]


def word_arrays(plan: _Plan, words: Sequence[str], heads: int | Sequence[int] = 0) -> Any:
    """The start arrays (see :data:`turingrnn.engines.fast.StartArrays`) of ``words``, side by side.

    Raises:
        InputError: A word or head does not fit the machine (named by :func:`~turingrnn.engines.inputs.prepare`).
    """
    net, W = plan.net, len(words)
    head = _heads(heads, W)
    layout = _layout(plan)
    if layout is None or W == 0:
        return _start_arrays(plan, [prepare(net, w, int(h)) for w, h in zip(words, head.tolist(), strict=True)])
    allowed, kind, segments = layout
    lengths = np.fromiter(map(len, words), np.int64, W)
    symbols = _symbol_matrix(words, lengths, allowed)
    bad = (symbols == -2).any(axis=1) | (head < 0) | (head > lengths)
    if kind != "tape":
        bad |= head != 0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        prepare(net, words[k], int(head[k]))  # raises, naming the word's fault
        raise InputError(f"word {words[k]!r} (head {int(head[k])}) cannot be encoded")  # pragma: no cover
    if net.input_mode == "streamed":
        return _streamed(plan, symbols, lengths)
    v0, e0, lens, slow = _preloaded(plan, segments, symbols, lengths, head)
    if slow.any():  # codes too long to be floats: the per-word setup, exact fractions and all
        idx = np.flatnonzero(slow)
        sv, se, _, _, sl = _start_arrays(plan, [prepare(net, words[k], int(head[k])) for k in idx.tolist()])
        v0[idx], e0[idx], lens[idx] = sv, se, sl
    return v0, e0, np.full((W, 0), -1, np.int64), np.zeros(W, np.int64), lens


def _heads(heads: int | Sequence[int], W: int) -> np.ndarray:
    """One head per word, from one for all or a list of them."""
    if isinstance(heads, int) and not isinstance(heads, bool):
        return np.full(W, heads, np.int64)
    if isinstance(heads, str) or not isinstance(heads, Sequence) or len(heads) != W:
        raise InputError(f"heads must be an integer or a list of {W} integers (one per word); got {heads!r}")
    if not all(isinstance(h, int) and not isinstance(h, bool) for h in heads):
        raise InputError(f"every head must be an integer; got {next(h for h in heads if not isinstance(h, int))!r}")
    return np.array(heads, np.int64)


def _layout(plan: _Plan) -> tuple[dict[str, int], str, dict[int, _Segment]] | None:
    """The symbols a word may hold (by index), the readout kind and the segments, or ``None``: the per-word path.

    The segments are :func:`_segments`'s (empty for a streamed network).

    A symbol is allowed when the one-symbol word passes the interpreter's own check, so that the side-by-side path
    accepts exactly the words :func:`~turingrnn.engines.inputs.prepare` accepts.
    """
    net, readout = plan.net, plan.net.readout
    if readout.reduction is not None or readout.kind not in ("tape", "stack"):
        return None
    machine = readout.machine
    tape = readout.kind == "tape" and isinstance(machine, TuringMachine)
    stack = readout.kind == "stack" and isinstance(machine, StackMachine) and machine.input_stack is not None
    if not (tape or stack):
        return None
    candidates = _candidates(plan)
    if net.input_mode == "streamed":
        if net.stream_latency is None or "in:end" not in plan.lines:
            return None
        candidates = tuple(c for c in candidates if f"in:{c}" in plan.lines)
        return {c: plan.lines[f"in:{c}"] for c in candidates if _accepted(plan, c)}, "streamed", {}
    segments = _segments(plan, candidates) if net.input_mode == "preloaded" else None
    if segments is None:
        return None
    return {c: k for k, c in enumerate(candidates) if _accepted(plan, c)}, readout.kind, segments


def _accepted(plan: _Plan, symbol: str) -> bool:
    try:
        plan.net.readout.check_input(symbol, 0)
    except InputError:
        return False
    return len(symbol) == 1


def _candidates(plan: _Plan) -> tuple[str, ...]:
    machine = plan.net.readout.machine
    if isinstance(machine, TuringMachine):
        return tuple(machine.symbols)
    assert isinstance(machine, StackMachine) and machine.input_stack is not None
    return tuple(machine.alphabet(machine.input_stack))


def _segments(plan: _Plan, candidates: tuple[str, ...]) -> dict[int, _Segment] | None:
    """For each readout stack (by plan index), the neuron its start code is written to and where its word lies.

    ``None`` unless every readout stack is a sum of neurons (coefficients 1) of which the preload writes the code
    to one, and the others start at 0 for every word (so the stack's code at the start is the word's).
    """
    net, readout, preload = plan.net, plan.net.readout, plan.net.preload
    if preload is None or readout.machine is None:
        return None
    written = dict(preload.stacks)
    start_state = readout.machine.start
    nonzero = {net.index(label) for state, bits in preload.states if state == start_state for label, b in bits if b}
    nonzero |= {net.index(label) for _, _, label in preload.tops}
    out = {}
    for s, (stack, spec) in enumerate(zip(plan.stacks, readout.stacks, strict=True)):
        if any(c != 1 for _, c in stack.terms) or stack.const or spec.name not in written:
            return None
        neuron = net.index(written[spec.name])
        others = {j for j, _ in stack.terms} - {neuron}
        if len(others) == len(stack.terms) or others & (nonzero | {net.index(x) for x in written.values()}):
            return None
        if readout.kind == "tape":
            forward = spec.name == "R"
            if spec.name not in ("L", "R"):
                return None
        else:
            forward = spec.name == readout.machine.input_stack  # type: ignore[union-attr]
        if forward or readout.kind == "tape":
            if not set(candidates) <= set(spec.alphabet):
                return None
            table = tuple(digit_of(spec.alphabet.index(c), spec.kind) for c in candidates)
        else:
            table = ()
        out[s] = _Segment(neuron, spec.kind, base_of(spec.alphabet), forward, table)
    if set(written) - {spec.name for spec in readout.stacks}:
        return None
    return out


def _symbol_matrix(words: Sequence[str], lengths: np.ndarray, allowed: dict[str, int]) -> np.ndarray:
    """``(W, max length)`` symbol numbers (in ``allowed``'s order); ``-1`` pads a row, ``-2`` marks a bad symbol."""
    W, M = len(words), int(lengths.max(initial=0))
    out = np.full((W, M), -1, np.int64)
    if not M:
        return out
    joined = "".join(words)
    try:  # one byte per symbol, looked up in a table of 256
        points = np.frombuffer(joined.encode("latin-1"), np.uint8)
        table = np.full(256, -2, np.int64)
        for c, k in allowed.items():
            if ord(c) < 256:
                table[ord(c)] = k
        flat = table[points]
    except UnicodeEncodeError:  # wider symbols: code points, looked up in the sorted allowed ones
        wide = np.frombuffer(joined.encode("utf-32-le"), np.uint32).astype(np.int64)
        keys = np.array(sorted(ord(c) for c in allowed), np.int64)
        number = np.array([allowed[chr(k)] for k in keys.tolist()] or [-2], np.int64)
        at = np.clip(np.searchsorted(keys, wide), 0, max(len(keys) - 1, 0))
        flat = np.where(keys[at] == wide, number[at], -2) if len(keys) else np.full(len(wide), -2, np.int64)
    out[np.arange(M)[None, :] < lengths[:, None]] = flat  # row-major order is the words' order
    return out


def _streamed(plan: _Plan, symbols: np.ndarray, lengths: np.ndarray) -> Any:
    """Zero start values; line ``in:<symbol>`` at tick ``t < len``, ``in:end`` at ``len``, none after."""
    net = plan.net
    W, n, S = len(lengths), net.size, len(plan.stacks)
    latency = int(net.stream_latency)  # type: ignore[arg-type]
    first = lengths + latency
    seq = np.full((W, int(first.max(initial=0))), -1, np.int64)
    seq[:, : symbols.shape[1]] = symbols  # already line numbers (the layout maps symbols to lines)
    if seq.shape[1]:
        inside = lengths < seq.shape[1]
        seq[np.flatnonzero(inside), lengths[inside]] = plan.lines["in:end"]
    lens = np.repeat((lengths + 1)[:, None], S, axis=1)
    return np.zeros((W, n), plan.dtype), np.zeros((W, n), np.float64), seq, first, lens


def _preloaded(
    plan: _Plan, segments: dict[int, _Segment], symbols: np.ndarray, lengths: np.ndarray, head: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values, bounds and length bounds of every word's start, and the words left to the per-word path."""
    net, readout = plan.net, plan.net.readout
    preload = net.preload
    assert preload is not None
    W, n, S = len(lengths), net.size, len(plan.stacks)
    v0 = np.zeros((W, n), plan.dtype)
    e0 = np.zeros((W, n), np.float64)
    lens = np.zeros((W, S), np.int64)
    slow = np.zeros(W, np.bool_)
    states = dict(preload.states)
    start_state = readout.machine.start  # type: ignore[union-attr]
    if start_state not in states:
        raise InputError(f"the network's preload has no values for state {start_state!r}")
    for label, bit in states[start_state]:
        v0[:, net.index(label)] = float(bit)
    tops: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s, seg in segments.items():
        digits, count = _stack_digits(symbols, lengths, head, seg)
        tops[readout.stacks[s].name] = (digits[:, 0] if digits.shape[1] else np.zeros(W, np.int64), count)
        fits = _fits(seg.base, count)
        slow |= ~fits
        value, bound = _codes(digits, count, fits, seg.base, plan.dtype)
        v0[:, seg.neuron], e0[:, seg.neuron] = value, bound
        if seg.kind == "stack":  # odd digits: the depth is the count
            lens[:, s] = count
        elif digits.shape[1]:  # a tape code's depth: the position of its last nonzero digit
            nonzero = digits != 0
            lens[:, s] = np.where(nonzero.any(axis=1), digits.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)
    for name, j, label in preload.tops:
        digit, count = tops[name]
        kind = next(spec.kind for spec in readout.stacks if spec.name == name)
        top = (digit - (1 if kind == "stack" else 0)) // 2
        v0[:, net.index(label)] = ((count > 0) & (top >= j)).astype(plan.dtype)
    return v0, e0, lens, slow


def _stack_digits(
    symbols: np.ndarray, lengths: np.ndarray, head: np.ndarray, seg: _Segment
) -> tuple[np.ndarray, np.ndarray]:
    """The digits of a stack's start word, top first (``(W, C)``, zero-padded), and each word's symbol count.

    A stack machine's input stack holds the word and its other stacks nothing; a Turing machine's half-tape ``R``
    holds the word from the head on, and ``L`` the symbols left of the head, nearest first.
    """
    W = len(lengths)
    if seg.kind == "tape":
        count = lengths - head if seg.forward else head.copy()
    else:
        count = lengths.copy() if seg.forward else np.zeros(W, np.int64)
    C = int(count.max(initial=0))
    if not C:
        return np.zeros((W, 0), np.int64), count
    table = np.array([*seg.digits, 0], np.int64)  # the padding's -1 reads the last entry: digit 0
    if seg.forward and (seg.kind == "stack" or not head.any()):
        return table[symbols[:, :C]], count
    j = np.arange(C)[None, :]
    cols = head[:, None] - 1 - j if not seg.forward else head[:, None] + j
    picked = symbols[np.arange(W)[:, None], np.clip(cols, 0, symbols.shape[1] - 1)]
    return np.where(j < count[:, None], table[picked], 0), count


def _fits(base: int, count: np.ndarray) -> np.ndarray:
    """Whether ``base**count <= 2**53`` (then the code's numerator and denominator are floats)."""
    return count <= _most_digits(base)


def _most_digits(base: int) -> int:
    most, power = 0, base
    while power <= EXACT_LIMIT:
        most, power = most + 1, power * base
    return most


def _codes(
    digits: np.ndarray, count: np.ndarray, fits: np.ndarray, base: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's code ``N / B**count`` rounded to ``dtype``, and a float64 bound of its rounding error.

    Rows that do not fit (see :func:`_fits`) get 0 (the per-word path fills them in). The digits after a row's
    ``count`` are 0, so Horner's rule over the first ``C`` columns gives ``N * B**(C - count)``.
    """
    W = len(count)
    C = min(int(count[fits].max(initial=0)), digits.shape[1])
    power = np.array([base**k for k in range(C + 1)], np.int64)
    full = (digits[:, :C] * fits[:, None]) @ power[::-1][1:] if C else np.zeros(W, np.int64)
    shift = np.where(fits, C - np.minimum(count, C), C)
    N = full // power[shift]
    D = power[np.where(fits, count, 0)]
    Nf, Df = N.astype(np.float64), D.astype(np.float64)
    value = (Nf / Df).astype(dtype)
    v = value.astype(np.float64)
    p, q = _two_product(v, Df)
    residual = np.abs((Nf - p) - q)
    bound = np.where(residual != 0, residual / Df * _ONE_PLUS + 2.0**-1070, 0.0)
    return value, bound


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``p + q = a * b`` exactly (Dekker), elementwise."""
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# ---------------------------------------------------------------- the batch


@dataclass(frozen=True, eq=False)
class FloatBatch(Sequence[Trace]):
    """The words of one :func:`run_batch` call, their results as arrays, and each word's trace on demand.

    Attributes:
        net: The network.
        dtype: ``"float64"`` or ``"float32"``.
        words: The input words, in order.
        heads: Each word's head (``(W,)`` int64).
        steps: Machine steps taken (``(W,)`` int64); for a flagged word, the step that left the code.
        diverged_at: The step that left the code, ``-1`` where none did (``(W,)`` int64).
    """

    net: Network
    dtype: str
    words: tuple[str, ...]
    heads: np.ndarray
    steps: np.ndarray
    diverged_at: np.ndarray
    _status: np.ndarray
    _ends: tuple[np.ndarray, ...]
    _rows: tuple[np.ndarray, ...]
    _plan: _Plan

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self) -> Iterator[Trace]:
        return (self.trace(k) for k in range(len(self)))

    def __getitem__(self, k: int) -> Trace:  # type: ignore[override]  # no slices
        return self.trace(k)

    @property
    def flagged(self) -> np.ndarray:
        """Where the float state left the code (``(W,)`` bool)."""
        return self.diverged_at >= 0

    @property
    def stops(self) -> list[str | None]:
        """Each word's stop: ``"halting state"``, ``"undefined transition"``, ``"flagged"``, ``None`` (out of steps)."""
        names = {_HALTED: STOP_REASONS[Action.HALT], _UNDEFINED: STOP_REASONS[Action.UNDEFINED], _DIVERGED: "flagged"}
        return [names.get(x) for x in self._status.tolist()]

    def trace(self, k: int) -> Trace:
        """Word ``k``'s trace, holding its last two readouts (as :func:`run_float` with ``record="final"``)."""
        if not -len(self) <= k < len(self):
            raise InputError(f"word index {k} is outside the batch of {len(self)} words")
        k %= len(self)
        first, steps, status, why, where = (int(x[k]) for x in self._ends)
        values, codes, lengths = (x[k, 1:] if steps == 0 else x[k] for x in self._rows)
        return _trace(self._plan, self.dtype, self.words[k], first, steps, status, why, where, values, codes, lengths)

    def summary(self) -> dict[str, Any]:
        """Words, machine steps in all, and how many halted, were flagged or ran out of steps."""
        stops = self.stops
        return {
            "words": len(self),
            "machine_steps": int(self.steps.sum()),
            "halted": sum(s is not None and s != "flagged" for s in stops),
            "flagged": int(self.flagged.sum()),
            "out_of_steps": stops.count(None),
        }


def run_batch(
    net: Network,
    words: Sequence[str],
    *,
    heads: int | Sequence[int] = 0,
    dtype: Any = np.float64,
    max_steps: int = 1_000_000,
    parallel: bool | None = None,
    kernel: str = "auto",
) -> FloatBatch:
    """Run ``net`` on every word in float arithmetic; the results as arrays (see :class:`FloatBatch`).

    The same run as :func:`~turingrnn.engines.fast.run_float` with ``record="final"``, bit for bit, without a
    trace per word.

    Raises:
        InputError: A word, a head, ``dtype``, ``max_steps`` or ``kernel`` is invalid.
    """
    dt = _check_options(dtype, max_steps, "final", kernel)
    if isinstance(words, str) or not all(isinstance(w, str) for w in words):
        raise InputError(f"words must be a list of str; got {type(words).__name__}")
    plan = _cached_plan(net, dt)
    word_list = list(words)
    starts = word_arrays(plan, word_list, heads)
    parallel = len(word_list) > 1 if parallel is None else parallel
    st, R = _execute(plan, starts, max_steps, "final", parallel, kernel)
    diverged = np.where(st.status == _DIVERGED, st.steps, -1)
    head = _heads(heads, len(word_list))
    ends = (st.first, st.steps, st.status, st.why, st.where)
    rows = _final_rows(st, R)
    return FloatBatch(net, dt.name, tuple(word_list), head, st.steps, diverged, st.status, ends, rows, plan)
