"""The float core: run a network in float64 or float32 with Numba, and never be silently wrong.

:func:`run_float` runs one word or many (in parallel over the cores) and
returns the same :class:`~turingrnn.engines.trace.Trace` as
:func:`~turingrnn.engines.exact.run_exact`, extended by ``diverged_at``: the first
machine step at which the float state could no longer be shown to hold the
exact run's configuration (``None`` if never). The run stops there. Every step
before it decodes to exactly the exact engine's configuration.

The check, a running error bound:
    Next to every float value ``v`` the kernel keeps a bound ``e`` with
    ``|v - x| <= e``, ``x`` the exact run's value (weights, biases and start
    values as exact rationals). A row's pre-activation ``z`` is a float sum,
    so ``|z - z_exact| <= sum |w| e_j + gamma_m (|b| + sum |w v_j|) +
    (rounding of the weights)``; sigma is 1-Lipschitz, so ``e' = that``, and
    ``e' = 0`` when ``z`` clears 0 or 1 by more than the bound (the exact
    value is clamped too). Two facts of the construction reset the bounds:

    * a neuron flagged binary is exactly 0 or 1 in the exact run, so once its
      bound is below ``BINARY_LIMIT`` (1/4, :mod:`turingrnn.config`) the exact
      value is ``round(v)``: the neuron is set to it, with bound 0; a larger
      bound, or ``v`` farther from ``round(v)`` than the bound, is a divergence;
    * a row whose inputs are all binary neurons, with weights on a grid that
      its float sum cannot leave, is computed exactly (bound 0, see
      ``_exact_row``);
    * at a readout tick every stack (half-tape) code is a multiple of
      ``1/B**n`` with ``n`` at most one more than the length read at the last
      step (a machine step changes a stack by at most one symbol; the first
      readout takes the start word's length). The kernel writes ``v B**n =
      N + r`` exactly (Dekker's product) and accepts ``N / B**n`` only when
      ``|r| + e B**n < 1`` (no other multiple lies within the bound) and
      ``|r| <= e B**n`` (this one does), and the top digit is a digit of the
      code. Then the exact code is ``N / B**n``; the new length is ``n`` less
      the trailing zero digits of ``N``, and the bound of the neuron holding
      the code becomes ``|r| / B**n``.

    The state code is read from the rounded binary neurons and must be in the
    state table. So a value that leaves the code is flagged at the readout of
    the step where it no longer determines one configuration, before any
    wrong configuration is decoded; the trace decodes the certified codes
    ``N / B**n``, which are the exact engine's.

Kernels:
    Private ``@njit`` kernels take only arrays and scalars: the rows as CSR
    arrays of float weights (``w``) and bound weights (``a``), one run per word
    over ``ticks_per_step`` value buffers, so that neurons idle outside their
    phase (:func:`turingrnn.engines.exact.idle_neurons`) are neither computed nor read
    there. A batch runs its words with ``numba.prange``; words stop at
    different steps.

>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.machines.parsing import load_machine
>>> from turingrnn.engines.exact import run_exact
>>> net = compile_machine(load_machine("bb4"))
>>> run = run_float(net, "")
>>> run.steps, run.diverged_at, run.first_divergence(run_exact(net, ""))
(107, None, None)
>>> [(t.steps, t.diverged_at) for t in run_float(net, ["", "1", "11"], dtype="float32", record="final")]
[(61, 61), (19, None), (59, 59)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numba
import numpy as np

from ..compile.encoding import DecodeError
from ..compile.network import Network
from ..config import BINARY_LIMIT
from ..errors import InputError, TuringRNNError
from ..machines.interpreter import check_max_steps
from .fast_kernels import (
    _BIN_OFF,
    _BIN_UNCERTAIN,
    _CODE_INVALID,
    _DIVERGED,
    _HALTED,
    _NET,
    _OUT_NAMES,
    _RUNNING,
    _STACK_DEEP,
    _STACK_DIGIT,
    _STACK_OFF,
    _STACK_WIDE,
    _UNDEFINED,
    _run_parallel,
    _run_serial,
)
from .fast_plan import _cached_plan, _Plan, _up, kernel_for
from .inputs import Start
from .trace import STOP_REASONS, Action, Getter, Trace

DTYPES = ("float32", "float64")
"""The float types the kernels run in."""

RECORD_MODES = ("steps", "final")
"""``steps``: float values at every readout tick; ``final``: the last two readouts only."""

_ONE_PLUS = 1.0 + 2.0**-50
"""Inflates a float64 bound past the rounding of the expression that computed it."""

_CHUNK_BYTES = 64 * 2**20
"""With ``record="steps"``, one kernel call records at most about this many bytes of values."""


# ---------------------------------------------------------------- the trace


class _FloatRecording:
    """Float values at readout ticks, with the certified stack codes ``N / B**n`` of each row.

    ``column`` gives the float values. ``getter`` gives exact fractions for
    decoding: binary neurons rounded, and the neurons of each stack readout
    summing to the certified code (the neuron holding the code carries it; the
    others, exactly 0 in the compiled constructions, keep their float value).
    The row of a divergence does not decode.
    """

    def __init__(
        self, plan: _Plan, values: np.ndarray, codes: np.ndarray, lengths: np.ndarray, bad_row: int | None, why: str
    ) -> None:
        self.plan, self.values, self.codes, self.lengths = plan, values, codes, lengths
        self.bad_row, self.why = bad_row, why

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def column(self, neuron: int) -> list[float]:
        return [float(x) for x in self.values[:, neuron]]

    def getter(self, row: int) -> Getter:
        if row < 0:
            row += len(self)
        if row == self.bad_row:
            raise DecodeError(self.why)
        net, vals = self.plan.net, self.values[row]
        exact: dict[int, Fraction] = {}
        for s, stack in enumerate(self.plan.stacks):
            if self.lengths[row, s] < 0:
                continue  # not read (an undefined transition's code)
            code = Fraction(int(self.codes[row, s]), stack.base ** int(self.lengths[row, s]))
            carrier = max(stack.terms, key=lambda t: abs(float(vals[t[0]])))
            rest = sum((c * Fraction(float(vals[j])) for j, c in stack.terms if j != carrier[0]), Fraction(0))
            exact |= {j: Fraction(float(vals[j])) for j, _ in stack.terms}
            exact[carrier[0]] = (code - stack.const - rest) / carrier[1]

        def get(label: str) -> Fraction:
            i = net.index(label)
            if i in exact:
                return exact[i]
            return Fraction(round(float(vals[i]))) if net.binary[i] else Fraction(float(vals[i]))

        return get


def _divergence_text(plan: _Plan, why: int, where: int) -> str:
    """What left the code (the step is said by the caller)."""
    net, kind = plan.net, plan.dtype.name
    if why in (_BIN_UNCERTAIN, _BIN_OFF):
        label = net.labels[where]
        if why == _BIN_UNCERTAIN:
            return f"{kind} left the code: binary neuron {label!r} has an error bound >= {BINARY_LIMIT}"
        return f"{kind} left the code: binary neuron {label!r} is farther from 0 and 1 than its bound"
    if why == _CODE_INVALID:
        return f"{kind} left the code: the state code is not in the state table"
    name = plan.stacks[where].name
    return (
        f"{kind} left the code: stack {name!r} "
        + {
            _STACK_WIDE: "is no longer pinned to one code by its error bound (precision exhausted)",
            _STACK_OFF: "holds no code of the expected depth within its error bound",
            _STACK_DEEP: "is deeper than the int64 lattice of the kernel",
            _STACK_DIGIT: "has a top digit that is not a digit of its code",
        }[why]
    )


# ---------------------------------------------------------------- the run


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return dt


def _check_words(words: object) -> list[str]:
    if isinstance(words, str):
        return [words]
    if not isinstance(words, list | tuple) or not all(isinstance(x, str) for x in words):
        raise InputError(f"words must be a str or a list of str; got {type(words).__name__}")
    return list(words)


def _depth(code: Fraction, base: int) -> int:
    """The number of base-``base`` digits of ``code`` (its last nonzero digit's position)."""
    n, power = 0, 1
    while power % code.denominator:
        n, power = n + 1, power * base
    return n


def _start(plan: _Plan, start: Start) -> tuple[np.ndarray, np.ndarray, list[int], int, list[int]]:
    """Values, bounds, input lines by tick, first readout tick, and bounds of the stack lengths at step 0.

    A stack's length at the first readout is at most the depth of its start code plus one symbol per input tick.
    """
    n, first = plan.net.size, start.first_readout
    v = np.zeros(n, plan.dtype)
    e = np.zeros(n, np.float64)
    for i, x in enumerate(start.values):
        if not x:  # most of x(0) is zero: nothing to round
            continue
        v[i] = float(x)  # int / int: correctly rounded to float64 (then to the dtype)
        rounded = float(v[i])
        if rounded.as_integer_ratio() != (x.numerator, x.denominator):  # both in lowest terms: equal iff exact
            e[i] = _up(abs(Fraction(rounded) - x))
    seq = [next((k for k, x in enumerate(start.inputs(t)) if x), -1) for t in range(first)]
    read = start.last_input + 1
    lengths = [_depth(_code(s, start.values), s.base) + read for s in plan.stacks]
    return v, e, seq, first, lengths


def _code(stack: Any, values: Sequence[Fraction]) -> Fraction:
    """A stack's code ``sum(c * x_j) + const`` at the start values (a single unit term, the usual case, directly)."""
    if len(stack.terms) == 1 and not stack.const and stack.terms[0][1] == 1:
        return values[stack.terms[0][0]]
    return sum((c * values[j] for j, c in stack.terms), stack.const)


def run_float(
    net: Network,
    words: str | Sequence[str] = "",
    *,
    dtype: Any = np.float64,
    max_steps: int = 1_000_000,
    head: int = 0,
    record: str = "steps",
    parallel: bool | None = None,
    kernel: str = "auto",
) -> Trace | list[Trace]:
    """Run ``net`` on one word or many in float arithmetic, flagging the step where a float state leaves the code.

    Args:
        net: A compiled network (``input_mode`` ``"preloaded"`` or ``"streamed"``).
        words: One input word (a trace is returned) or a list of them (a list of traces).
        dtype: ``float64`` or ``float32``.
        max_steps: The most machine steps per word.
        head: The Turing machine head's start index (preloaded networks), the same for every word.
        record: ``"steps"`` keeps the float values at every readout tick, ``"final"`` the last two.
        parallel: Spread the words over the cores (default: when there is more than one word).
        kernel: ``"generic"``, ``"generated"`` or ``"auto"`` (see :data:`KERNELS`); all three give the same
            results, bit for bit.

    Returns:
        A :class:`Trace` per word. Its configurations are the exact run's
        up to ``diverged_at`` (excluded), where the run stopped.

    Raises:
        InputError: A word, the head, ``dtype``, ``max_steps`` or ``record`` is invalid.
        TuringRNNError: The first readout holds the undefined-transition code.
    """
    dt = _check_options(dtype, max_steps, record, kernel)
    word_list = _check_words(words)
    plan = _cached_plan(net, dt)  # a network the kernels cannot run is refused before its words are read
    from .fast_batch import word_arrays

    starts = word_arrays(plan, word_list, head)
    parallel = len(word_list) > 1 if parallel is None else parallel
    traces = _run(plan, word_list, starts, max_steps, record, parallel, kernel)
    return traces[0] if isinstance(words, str) else traces


def run_starts(
    net: Network,
    starts: Sequence[Start],
    *,
    dtype: Any = np.float64,
    max_steps: int = 1_000_000,
    record: str = "steps",
    parallel: bool | None = None,
    kernel: str = "auto",
) -> list[Trace]:
    """:func:`run_float` from prepared :class:`~turingrnn.engines.inputs.Start` s, one trace each (the runner)."""
    plan = _cached_plan(net, _check_options(dtype, max_steps, record, kernel))
    parallel = len(starts) > 1 if parallel is None else parallel
    words = [start.word for start in starts]
    return _run(plan, words, _start_arrays(plan, starts), max_steps, record, parallel, kernel)


def _check_options(dtype: Any, max_steps: int, record: str, kernel: str) -> np.dtype:
    dt = _check_dtype(dtype)
    check_max_steps(max_steps)
    if record not in RECORD_MODES:
        raise InputError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    return dt


KERNELS = ("auto", "generic", "generated")
"""``generic``: CSR kernels shared by every network; ``generated``: the network's own straight-line kernel
(:mod:`turingrnn.engines.fastgen`, compiled once per network and cached on disk); ``auto``: the generated kernel
when this process has loaded it already (for the network, dtype, phase skipping and block width), else generic,
switching to generated when more than ``AUTO_WORK`` machine steps may remain after a first chunk."""

AUTO_WORK = 30_000_000
"""Machine steps (summed over the running words, to their step limit) above which ``auto`` generates a kernel.

Generating and compiling a kernel takes from about ten seconds (a ~40-neuron network, idle machine) to
minutes (a loaded machine), once per network, dtype and block width; Numba's cache keeps it afterwards.
The generic kernel does about 0.6M steps/s, so 30M steps is the better part of a minute of work."""

_AUTO_FIRST = 1 << 18
"""Machine steps (summed over the words) the generic kernel runs in ``auto`` mode before deciding."""

_GEN_CHUNK = 1 << 16
"""Machine steps per word per generated kernel call with ``record="final"`` (blocks are repacked between calls)."""


@dataclass
class _State:
    """The words' run state, per word (see ``_run_word``), and the recording ring."""

    V: np.ndarray
    E: np.ndarray
    seq: np.ndarray
    first: np.ndarray
    lens: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    cur: np.ndarray
    why: np.ndarray
    where: np.ndarray
    rec: tuple[np.ndarray, np.ndarray, np.ndarray]
    kept: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]

    def running(self, max_steps: int) -> np.ndarray:
        return (self.status == _RUNNING) & (self.steps < max_steps)

    def keep(self, before: np.ndarray) -> None:
        """Move the rows recorded since ``before`` out of the ring."""
        rec_V, rec_N, rec_L = self.rec
        R = rec_V.shape[1]
        for k in range(len(self.kept)):
            rows = np.arange(before[k] + 1, self.steps[k] + 1) % R
            self.kept[k].append((rec_V[k, rows].copy(), rec_N[k, rows].copy(), rec_L[k, rows].copy()))


def _run(
    plan: _Plan, words: list[str], starts: StartArrays, max_steps: int, record: str, parallel: bool, kernel: str
) -> list[Trace]:
    """Run the words from their start arrays: one trace each."""
    st, R = _execute(plan, starts, max_steps, record, parallel, kernel)
    traces = []
    if record == "final":  # the last two readouts of every word at once (one, for a word that took no step)
        kept = _final_rows(st, R)
    name = plan.dtype.name
    ends = zip(*(x.tolist() for x in (st.first, st.steps, st.status, st.why, st.where)), strict=True)
    for k, (first, count, status, why, where) in enumerate(ends):
        if record == "final":
            values, codes, lengths = (x[k, 1:] if count == 0 else x[k] for x in kept)
        else:
            values, codes, lengths = (np.concatenate([x[m] for x in st.kept[k]]) for m in range(3))
        traces.append(_trace(plan, name, words[k], first, count, status, why, where, values, codes, lengths))
    return traces


def _start_arrays(plan: _Plan, runs: Sequence[Start]) -> StartArrays:
    """The start arrays of prepared starts (:func:`_start` once per distinct start)."""
    distinct = {id(start): _start(plan, start) for start in runs}
    starts = [distinct[id(start)] for start in runs]
    W, n, S = len(runs), plan.net.size, len(plan.stacks)
    v0, e0 = np.zeros((W, n), plan.dtype), np.zeros((W, n), np.float64)
    seq = np.full((W, max((len(s[2]) for s in starts), default=0)), -1, np.int64)
    for k, (v, e, lines, _, _) in enumerate(starts):
        v0[k], e0[k] = v, e
        seq[k, : len(lines)] = lines
    first = np.array([s[3] for s in starts], np.int64)
    return v0, e0, seq, first, np.array([s[4] for s in starts], np.int64).reshape(W, S)


StartArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""The words' starts side by side: values ``(W, n)``, bounds ``(W, n)``, input lines by tick ``(W, F)`` (``-1``:
none), first readout ticks ``(W,)`` and bounds of the stack lengths at step 0 ``(W, S)``."""


def _final_rows(st: _State, R: int) -> tuple[np.ndarray, ...]:
    """The last two recorded readouts of every word (values, codes, lengths), from the ring of ``record="final"``."""
    W = len(st.steps)
    rows = (st.steps[:, None] + np.array([-1, 0])) % R
    return tuple(x[np.arange(W)[:, None], rows] for x in st.rec)


def _execute(
    plan: _Plan, starts: StartArrays, max_steps: int, record: str, parallel: bool, kernel: str = "auto"
) -> tuple[_State, int]:
    """Run the words from their start arrays to their ends: the final state and the ring's length."""
    net, A, kernel = plan.net, plan.arrays, kernel_for(plan, kernel)
    v0, e0, seq, first, lens = starts
    n, T, W = net.size, net.ticks_per_step, len(v0)
    NB = max(T, 2)
    V = np.zeros((W, NB, n), plan.dtype)
    E = np.zeros((W, NB, n), np.float64)
    V[:, 0], E[:, 0] = v0, e0
    skip = plan.skip_ok and not v0[:, plan.safe_off_phase].any()
    if record == "final":
        chunk, R = max_steps, 2
    else:
        chunk = int(min(4096, max(16, _CHUNK_BYTES // max(1, W * n * plan.dtype.itemsize))))
        R = chunk + 1
    S = len(plan.stacks)
    st = _State(
        V=V,
        E=E,
        seq=seq,
        first=first,
        lens=lens.copy(),  # the kernels update the length bounds in place
        status=np.zeros(W, np.int64),
        steps=np.full(W, -1, np.int64),
        cur=np.zeros(W, np.int64),
        why=np.zeros(W, np.int64),
        where=np.full(W, -1, np.int64),
        rec=(np.zeros((W, R, n), plan.dtype), np.zeros((W, R, S), np.int64), np.zeros((W, R, S), np.int64)),
        kept=[[] for _ in range(W)] if record == "steps" else [],
    )
    generic = _run_parallel if parallel else _run_serial
    model, out = tuple(A[k] for k in _NET), tuple(A[k] for k in _OUT_NAMES)

    def call_generic(steps_per_word: int) -> None:
        state = (V, E, seq, st.first, st.lens, st.status, st.steps, st.cur, st.why, st.where, max_steps,
                 steps_per_word, skip)  # fmt: skip
        before = st.steps.copy()
        generic(state, model, out, st.rec)
        if record == "steps":
            st.keep(before)

    if kernel != "generic":
        call_generic(0)  # step 0 (and the streamed input) in the generic kernel
    if kernel == "auto" and (skip, _lanes(plan, int(st.running(max_steps).sum()))) in plan.generated:
        kernel = "generated"  # this process has loaded the generated kernel already: it costs nothing to start
    elif kernel == "auto":
        call_generic(max(1, min(chunk, _AUTO_FIRST // max(W, 1))))
        remaining = int((max_steps - st.steps)[st.running(max_steps)].sum())
        kernel = "generated" if remaining > AUTO_WORK else "generic"
    if kernel == "generated":
        _run_generated(plan, st, skip, max_steps, record, chunk, parallel)
    while st.running(max_steps).any():
        call_generic(chunk)
    return st, R


def _lanes(plan: _Plan, words: int) -> int:
    """Words per generated block: a SIMD register's worth or two (one for a single word)."""
    if words == 1:
        return 1
    return 32


def _generated(plan: _Plan, skip: bool, lanes: int) -> Any:
    key = (skip, lanes)
    module = plan.generated.get(key)
    if module is None:
        from . import fastgen

        module = fastgen.load_kernels(fastgen.generate_source(plan.arrays, plan.dtype, skip, lanes))
        plan.generated[key] = module
    return module


def _to_blocks(words: np.ndarray, real: np.ndarray, blocks: int, L: int) -> np.ndarray:
    """Per-lane arrays ``(lane, buffer, neuron)`` as blocks of ``L`` lanes side by side (padding lanes are 0)."""
    words[~real] = 0
    flat = words.reshape(blocks, L, -1).transpose(0, 2, 1)
    return np.ascontiguousarray(flat).reshape(blocks, -1)


def _from_blocks(block: np.ndarray, real: np.ndarray, blocks: int, L: int, shape: tuple[int, int]) -> np.ndarray:
    """The real lanes of blocks, back as per-word arrays ``(word, buffer, neuron)``."""
    return block.reshape(blocks, shape[0] * shape[1], L).transpose(0, 2, 1).reshape(blocks * L, *shape)[real]


def _dealt(blocks: np.ndarray, threads: int) -> np.ndarray:
    """The blocks (sorted by length) dealt round the threads: ``prange`` hands each thread a contiguous share."""
    if threads <= 1 or len(blocks) <= threads:
        return blocks
    return blocks[np.concatenate([np.arange(t, len(blocks), threads) for t in range(threads)])]


def _run_generated(
    plan: _Plan, st: _State, skip: bool, max_steps: int, record: str, chunk: int, parallel: bool
) -> None:
    """Run the words still running in blocks of the generated kernel, repacking the blocks between calls."""
    n = plan.net.size
    NB = st.V.shape[1]
    L = _lanes(plan, int(st.running(max_steps).sum()))
    module = _generated(plan, skip, L)
    model = tuple(plan.arrays[k] for k in _NET)  # the generic tick diagnoses flagged lanes
    step_chunk = chunk if record == "steps" else min(chunk, _GEN_CHUNK)
    order = np.argsort(st.lens.sum(axis=1), kind="stable")  # words of like length share blocks (and finish together)
    while True:
        live = order[st.running(max_steps)[order]]
        if len(live) == 0:
            return
        blocks = -(-len(live) // L)
        wid = np.full(blocks * L, -1, np.int64)
        wid[: len(live)] = live
        wid = _dealt(wid.reshape(blocks, L), numba.get_num_threads() if parallel else 1).reshape(-1)
        real = wid >= 0
        live, src = wid[real], np.maximum(wid, 0)
        # Every word's current buffer becomes buffer 0; lanes side by side: (block, buffer, neuron, lane).
        idx = (st.cur[src, None] + np.arange(NB)[None, :]) % NB
        Vb, Eb = (_to_blocks(x[src[:, None], idx], real, blocks, L) for x in (st.V, st.E))
        before = st.steps.copy()
        run = module.run_parallel if parallel and blocks > 1 else module.run_serial
        rec_V, rec_N, rec_L = st.rec
        run(Vb, Eb, wid.reshape(blocks, L), st.status, st.steps, st.why, st.where, st.lens, max_steps, step_chunk,
            rec_V, rec_N, rec_L, record == "final", model)  # fmt: skip
        if record == "steps":
            st.keep(before)
        if not st.running(max_steps).any():
            return  # the values are in the recording; nothing runs on from them
        # Back to the per-word layout (current buffer 0).
        st.V[live] = _from_blocks(Vb, real, blocks, L, (NB, n))
        st.E[live] = _from_blocks(Eb, real, blocks, L, (NB, n))
        st.cur[live] = 0


def _trace(
    plan: _Plan,
    name: str,
    word: str,
    first: int,
    steps: int,
    status: int,
    why: int,
    where: int,
    values: np.ndarray,
    codes: np.ndarray,
    lengths: np.ndarray,
) -> Trace:
    T = plan.net.ticks_per_step
    if status == _UNDEFINED and steps == 0:
        raise TuringRNNError("the first readout holds the 'undefined transition' code: nothing ran before it")
    diverged = steps if status == _DIVERGED else None
    reason = _divergence_text(plan, why, where) if diverged is not None else None
    text = f"step {steps}: {reason}" if reason is not None else ""
    kept = len(values)
    recording = _FloatRecording(plan, values, codes, lengths, kept - 1 if diverged is not None else None, text)
    return Trace(
        network=plan.net,
        engine=name,
        record="final" if kept < steps + 1 else "steps",
        recording=recording,
        row_ticks=range(first + (steps - kept + 1) * T, first + steps * T + 1, T),
        first_readout=first,
        ticks=first + steps * T,
        steps=steps,
        stop={_HALTED: STOP_REASONS[Action.HALT], _UNDEFINED: STOP_REASONS[Action.UNDEFINED]}.get(status),
        info={"dtype": name, "word": word, "divergence": text or None},
        diverged_at=diverged,
        divergence=reason,
        prec=int(np.finfo(plan.dtype).nmant) + 1,
    )
