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
from .inputs import Start, prepare
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
    _cached_plan(net, dt)  # a network the kernels cannot run is refused before its words are read
    distinct = {word: prepare(net, word, head) for word in dict.fromkeys(word_list)}  # the setup is per distinct word
    options: dict[str, Any] = {"max_steps": max_steps, "record": record, "parallel": parallel, "kernel": kernel}
    traces = run_starts(net, [distinct[word] for word in word_list], dtype=dt, **options)
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
    return _run(plan, list(starts), max_steps, record, parallel, kernel)


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
(:mod:`turingrnn.engines.fastgen`, compiled once per network and cached on disk); ``auto``: generic, switching to
generated when more than ``AUTO_WORK`` machine steps may remain after a first chunk."""

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
    plan: _Plan, runs: list[Start], max_steps: int, record: str, parallel: bool, kernel: str = "auto"
) -> list[Trace]:
    net, A, kernel = plan.net, plan.arrays, kernel_for(plan, kernel)
    n, T, W, S = net.size, net.ticks_per_step, len(runs), len(plan.stacks)
    distinct = {id(start): _start(plan, start) for start in runs}  # the setup is per distinct start
    starts = [distinct[id(start)] for start in runs]
    NB = max(T, 2)
    V = np.zeros((W, NB, n), plan.dtype)
    E = np.zeros((W, NB, n), np.float64)
    seq = np.full((W, max((len(s[2]) for s in starts), default=0)), -1, np.int64)
    for k, (v, e, lines, _, _) in enumerate(starts):
        V[k, 0], E[k, 0] = v, e
        seq[k, : len(lines)] = lines
    skip = plan.skip_ok and not V[:, 0, plan.safe_off_phase].any()
    if record == "final":
        chunk, R = max_steps, 2
    else:
        chunk = int(min(4096, max(16, _CHUNK_BYTES // max(1, W * n * plan.dtype.itemsize))))
        R = chunk + 1
    st = _State(
        V=V,
        E=E,
        seq=seq,
        first=np.array([s[3] for s in starts], np.int64),
        lens=np.array([s[4] for s in starts], np.int64).reshape(W, S),
        status=np.zeros(W, np.int64),
        steps=np.full(W, -1, np.int64),
        cur=np.zeros(W, np.int64),
        why=np.zeros(W, np.int64),
        where=np.full(W, -1, np.int64),
        rec=(np.zeros((W, R, n), plan.dtype), np.zeros((W, R, S), np.int64), np.zeros((W, R, S), np.int64)),
        kept=[[] for _ in range(W)],
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

    if kernel == "generated":
        call_generic(0)  # step 0 (and the streamed input) in the generic kernel
    elif kernel == "auto":
        call_generic(max(1, min(chunk, _AUTO_FIRST // W)))
        remaining = int((max_steps - st.steps)[st.running(max_steps)].sum())
        kernel = "generated" if remaining > AUTO_WORK else "generic"
    if kernel == "generated":
        _run_generated(plan, st, skip, max_steps, record, chunk, parallel)
    while st.running(max_steps).any():
        call_generic(chunk)
    traces = []
    if record == "final":  # the last two readouts of every word at once (one, for a word that took no step)
        rows = (st.steps[:, None] + np.array([-1, 0])) % R
        kept = tuple(x[np.arange(W)[:, None], rows] for x in st.rec)
    name = plan.dtype.name
    ends = zip(*(x.tolist() for x in (st.first, st.steps, st.status, st.why, st.where)), strict=True)
    for k, (first, count, status, why, where) in enumerate(ends):
        if record == "final":
            values, codes, lengths = (x[k, 1:] if count == 0 else x[k] for x in kept)
        else:
            values, codes, lengths = (np.concatenate([x[m] for x in st.kept[k]]) for m in range(3))
        traces.append(_trace(plan, name, runs[k].word, first, count, status, why, where, values, codes, lengths))
    return traces


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


def _to_blocks(words: np.ndarray, blocks: int, L: int) -> np.ndarray:
    """Per-word arrays ``(word, buffer, neuron)`` as blocks of ``L`` lanes side by side (padding lanes are 0)."""
    padded = np.zeros((blocks * L, *words.shape[1:]), words.dtype)
    padded[: len(words)] = words
    flat = padded.reshape(blocks, L, -1).transpose(0, 2, 1)
    return np.ascontiguousarray(flat).reshape(blocks, -1)


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
    while True:
        live = np.flatnonzero(st.running(max_steps))
        if len(live) == 0:
            return
        blocks = -(-len(live) // L)
        wid = np.full(blocks * L, -1, np.int64)
        wid[: len(live)] = live
        # Every word's current buffer becomes buffer 0; lanes side by side: (block, buffer, neuron, lane).
        idx = (st.cur[live, None] + np.arange(NB)[None, :]) % NB
        Vb, Eb = (_to_blocks(x[live[:, None], idx], blocks, L) for x in (st.V, st.E))
        before = st.steps.copy()
        run = module.run_parallel if parallel and blocks > 1 else module.run_serial
        rec_V, rec_N, rec_L = st.rec
        run(Vb, Eb, wid.reshape(blocks, L), st.status, st.steps, st.why, st.where, st.lens, max_steps, step_chunk,
            rec_V, rec_N, rec_L, record == "final", model)  # fmt: skip
        if record == "steps":
            st.keep(before)
        # Back to the per-word layout (current buffer 0).
        st.V[live] = Vb.reshape(blocks, NB * n, L).transpose(0, 2, 1).reshape(blocks * L, NB, n)[: len(live)]
        st.E[live] = Eb.reshape(blocks, NB * n, L).transpose(0, 2, 1).reshape(blocks * L, NB, n)[: len(live)]
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
