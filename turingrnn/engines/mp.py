"""Run a network in binary floating point of any precision, and detect when it leaves the code.

:func:`run_mp` runs a compiled network with every value a binary floating-point
number of ``prec`` significand bits (mpmath, round to nearest, ties to even),
from the same start values and with the same readout ticks and halting rules as
:func:`~turingrnn.engines.exact.run_exact`. At 53 bits this is IEEE float64 and at 24
bits float32 (the exponent range never matters: every value lies in ``[0, 1]``
or is a bounded pre-activation). It answers the question of issue 4: how deep
can a stack get before ``prec`` bits are not enough?

Arithmetic:
    Each weight and bias is rounded to ``prec`` bits once. A neuron's
    pre-activation is accumulated left to right, rounding after every
    operation: the bias, then the input lines and the binary (0/1) neurons,
    then the analog neurons, each term ``w * x`` rounded before it is added
    (terms whose value is 0 are exact and skipped). So the constant part of a
    row is summed before a stack code joins it, as the exact engine splits
    rows. ``sigma`` clamps to ``[0, 1]`` exactly. All of it happens in a
    private ``mpmath.MPContext``: mpmath's global precision is never touched.

Leaving the code (``diverged_at``):
    The run is checked at every tick and every machine step, and stops at the
    first failure, reporting that machine step as ``diverged_at``:

    * a neuron the network flags binary is not exactly 0 or 1 (checked every tick);
    * the state code is not an integer in the readout's table (every readout);
    * a stack value is not a valid code (every readout), see :func:`nearest_code`;
    * a preloaded stack code is not exactly representable at ``prec`` bits
      (step 0; only for bases that are powers of two, where codes are exact);
    * with ``check_rounding`` (the default): a value in ``(0, 1]`` that was
      rounded, of a neuron whose exact values are binary fractions (its
      weights are, and its analog inputs are such neurons).

    The first three are what a float core can check from the values alone.
    They miss one failure: a streamed input deeper than the precision is
    loaded with its bottom symbols rounded away, which is the valid code of a
    shorter word. The rounding check catches it at the tick it happens.

    In a base that is a power of two (binary stacks: base 4; four symbols:
    base 8) every code is a binary fraction, so a code is either held exactly
    or not at all, and stack values must decode exactly. In any other base
    (three symbols: base 6) no nonempty stack code is representable, so a
    stack value decodes to its :func:`nearest_code` when it lies within half
    the gap between codes. (Half-tapes of Turing machines must be exact in
    every base.) In such bases the run usually leaves the code within a few
    steps at *any* precision: a top detector ``sigma(B q - 2j)`` must be
    exactly 1 when ``q`` is a code whose tail is empty, and a code rounded
    down gives ``1 - 2**-prec``.

>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.engines.exact import run_exact
>>> from turingrnn.machines.parsing import load_machine
>>> net = compile_machine(load_machine("reverse_string"))
>>> exact = run_exact(net, "0110" * 7)
>>> run_mp(net, "0110" * 7, prec=64).first_divergence(exact) is None
True
>>> low = run_mp(net, "0110" * 7, prec=53)  # 28 symbols in base 4 need 56 bits
>>> low.diverged_at, low.first_divergence(exact)
(0, 0)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import mpmath
from mpmath import libmp

from ..compile.encoding import DecodeError, base_of, encode_word
from ..compile.network import Network, StackReadout
from ..errors import InputError, TuringRNNError
from ..machines.interpreter import check_max_steps
from .inputs import Start, prepare
from .trace import Getter, Trace, decode_configuration, read_state, stop_reason

BITS = 256
"""Default significand bits: comfortably exact for stacks of about 120 binary symbols."""

RECORD_MODES = ("steps", "final")
"""``steps``: the values at every readout tick; ``final``: the last two readouts only."""

_Raw = tuple[int, int, int, int]  # mpmath's raw mpf: (sign, mantissa, exponent, bit count)
_ZERO: _Raw = libmp.fzero
_ONE: _Raw = libmp.fone


class _Diverged(Exception):
    """The network left the code; ``message`` says where and how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- decoding approximate codes


def is_exact_base(alphabet: Sequence[str]) -> bool:
    """Whether the codes of this alphabet are binary fractions: the base ``2k`` is a power of two."""
    base = base_of(tuple(alphabet))
    return base & (base - 1) == 0


def nearest_code(value: Fraction, alphabet: tuple[str, ...], max_depth: int) -> Fraction:
    """The stack code nearest ``value``, when ``value`` is within half the gap around it; else :class:`DecodeError`.

    A stack code of depth ``n`` in base ``B`` is more than ``B**-(n+1)`` away
    from every other stack code, so a value within half of that of it holds
    that word and no other. Digits are peeled off exactly, ``r <- B r - d``
    with ``d`` the odd digit nearest below ``B r``: every digit must be valid,
    every remainder must lie in ``[0, 1)`` widened by ``1/(2B)``, and the
    peeling ends at the first depth whose remainder is within ``1/(2B)`` of 0
    (at most ``max_depth`` digits).

    >>> nearest_code(Fraction(1, 6) + Fraction(1, 10**9), ("a", "b", "c"), 10)
    Fraction(1, 6)
    >>> nearest_code(Fraction(1, 6) - Fraction(1, 50), ("a", "b", "c"), 10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    turingrnn.errors.DecodeError: code value 0.14666666666666667: the remainder after depth 1 is -0.12, ...
    """
    B = base_of(alphabet)
    N, D = value.numerator, value.denominator  # the remainder after j digits is N / D
    digits: list[int] = []
    if not 0 <= value < 1:
        raise DecodeError(f"code value {float(value)!r} is outside [0, 1)")
    while 2 * B * abs(N) >= D:  # not within half a gap of the code read so far
        if len(digits) == max_depth:
            raise DecodeError(f"code value {float(value)!r} is not within half a gap of a code of depth <= {max_depth}")
        x = B * N  # B r = x / D
        d = 2 * ((2 * x - D) // (4 * D)) + 1
        if not 1 <= d < B:
            raise DecodeError(
                f"code value {float(value)!r}: digit {d} at depth {len(digits) + 1} is not a stack digit of base {B}"
            )
        digits.append(d)
        N = x - d * D
        if not -D <= 2 * B * N < (2 * B + 1) * D:
            raise DecodeError(
                f"code value {float(value)!r}: the remainder after depth {len(digits)} is {float(Fraction(N, D))!r}, "
                f"outside [0, 1) widened by 1/{2 * B}"
            )
    return encode_word("".join(alphabet[d // 2] for d in digits), alphabet, "stack")


# ---------------------------------------------------------------- the recording


class _MPRecording:
    """The values at readout ticks as exact rationals (each binary float is a dyadic rational), one row per readout.

    ``column`` gives the values as computed. ``getter`` gives them for decoding: each stack value in a base
    that is not a power of two moved to its :func:`nearest_code` (as the run decoded it). The row of the step
    that left the code does not decode.
    """

    def __init__(self, net: Network, prec: int, final: bool) -> None:
        self.net, self.prec = net, prec
        self.rows: deque[tuple[Fraction, ...]] | list[tuple[Fraction, ...]] = deque(maxlen=2) if final else []
        self.recorded = 0  # rows recorded, kept or not
        self.bad_row: int | None = None
        self.why = ""

    def append(self, row: tuple[Fraction, ...]) -> None:
        self.rows.append(row)
        self.recorded += 1

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, neuron: int) -> list[Fraction]:
        return [row[neuron] for row in self.rows]

    def getter(self, row: int) -> Getter:
        if row < 0:
            row += len(self)
        if row == self.bad_row:
            raise DecodeError(self.why)
        return _corrected(self.net, _getter(self.net, self.rows[row]), self.prec)


MPRun = Trace
"""The result of :func:`run_mp` (a :class:`~turingrnn.engines.trace.Trace`; the name is kept for old imports)."""


# ---------------------------------------------------------------- the engine


def _check_prec(prec: object) -> int:
    if not isinstance(prec, int) or isinstance(prec, bool) or prec < 2:
        raise InputError(f"prec must be a whole number of significand bits >= 2, got {prec!r}")
    return prec


def _fraction(x: _Raw) -> Fraction:
    """The exact value of a raw mpf (a dyadic rational)."""
    sign, man, exp, _ = x
    value = Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)
    return -value if sign else value


def _show(v: Fraction) -> str:
    """A value for a message, with the distance to 0 or 1 when a float would print it as 0.0 or 1.0."""
    for part, prefix in ((v, ""), (1 - v, "1 - ")):
        if 0 < part < Fraction(1, 2**40):
            return f"about {prefix}2**{part.numerator.bit_length() - part.denominator.bit_length()}"
    return repr(float(v))


def binary_fraction_rows(net: Network) -> tuple[bool, ...]:
    """For each neuron, whether its exact value is always a binary fraction (so rounding it loses information).

    True for an analog neuron whose weights, bias and input-line weights are
    binary fractions and whose analog inputs are such neurons too (the largest
    such set); binary neurons are 0 or 1 and need no rounding check.
    """

    def dyadic(w: Fraction) -> bool:
        return w.denominator & (w.denominator - 1) == 0

    rows, lines = net.rows(), net.input_rows()
    keep = [not net.binary[i] for i in range(net.size)]
    changed = True
    while changed:
        changed = False
        for i in range(net.size):
            if keep[i] and (
                not dyadic(net.b[i])
                or not all(dyadic(w) for _, w in lines[i])
                or not all(dyadic(w) and (net.binary[j] or keep[j]) for j, w in rows[i])
            ):
                keep[i], changed = False, True
    return tuple(keep)


class _Ticker:
    """One network tick in ``prec``-bit arithmetic, with the binary neurons (and, if asked, rounding) checked."""

    def __init__(self, net: Network, ctx: Any, watched: Sequence[bool]) -> None:
        prec, rnd = ctx.prec, libmp.round_nearest

        def raw(w: Fraction) -> _Raw:
            return ctx.mpf(w.numerator)._mpf_ if w.denominator == 1 else (ctx.mpf(w.numerator) / w.denominator)._mpf_

        def rounded(exact: _Raw) -> _Raw:
            if exact[3] <= prec:  # the mantissa's bit count
                return exact
            self.rounded = True
            return libmp.mpf_pos(exact, prec, rnd)

        # watched rows round through rounded(), which notes whether it changed the value
        self.ops: list[tuple[Callable[[_Raw, _Raw], _Raw], Callable[[_Raw, _Raw], _Raw]]] = [
            (lambda a, b: rounded(libmp.mpf_add(a, b)), lambda a, b: rounded(libmp.mpf_mul(a, b)))
            if watch
            else (lambda a, b: libmp.mpf_add(a, b, prec, rnd), lambda a, b: libmp.mpf_mul(a, b, prec, rnd))
            for watch in watched
        ]
        self.rounded = False
        self.prec = prec
        self.net = net
        self.binary = net.binary
        self.bias = [raw(b) for b in net.b]
        rows, lines = net.rows(), net.input_rows()
        self.small = [[(j, raw(w)) for j, w in row if net.binary[j]] for row in rows]
        self.big = [[(j, raw(w)) for j, w in row if not net.binary[j]] for row in rows]
        self.lines = [[(k, raw(w)) for k, w in row] for row in lines]

    def start(self, values: Sequence[Fraction], ctx: Any) -> list[Any]:
        """Start values: ints for binary neurons, raw mpfs (rounded) for the others."""
        out: list[Any] = []
        for i, v in enumerate(values):
            if self.binary[i]:
                if v not in (0, 1):
                    raise TuringRNNError(f"binary neuron {self.net.labels[i]!r} starts at {v}, not 0 or 1")
                out.append(int(v))
            else:
                out.append(
                    ctx.mpf(v.numerator)._mpf_ if v.denominator == 1 else (ctx.mpf(v.numerator) / v.denominator)._mpf_
                )
        return out

    def tick(self, x: Sequence[Any], u: Sequence[int], t: int) -> list[Any]:
        out: list[Any] = []
        for i, bias in enumerate(self.bias):
            add, mul = self.ops[i]
            z, self.rounded = bias, False
            for k, w in self.lines[i]:
                if u[k]:
                    z = add(z, w)
            for j, w in self.small[i]:
                if x[j]:
                    z = add(z, w)
            for j, w in self.big[i]:
                if x[j] != _ZERO:
                    z = add(z, mul(w, x[j]))
            # a rounded sum that lands on 1 may stand for an exact value just below 1
            lost = self.rounded and not z[0] and z != _ZERO and libmp.mpf_le(z, _ONE)
            if z[0] or z == _ZERO:  # negative or zero
                z = _ZERO
            elif libmp.mpf_ge(z, _ONE):
                z = _ONE
            inside = z is not _ZERO and z != _ONE
            if self.binary[i]:
                if inside:
                    raise _Diverged(
                        f"binary neuron {self.net.labels[i]!r} took the value {_show(_fraction(z))} at tick {t + 1}"
                    )
                out.append(0 if z is _ZERO else 1)
                continue
            if lost:
                raise _Diverged(
                    f"neuron {self.net.labels[i]!r} was rounded at tick {t + 1}: its value needs more than "
                    f"{self.prec} significand bits"
                )
            out.append(z)
        return out


def _corrected(net: Network, get: Getter, prec: int) -> Getter:
    """The values ``get``, each inexact stack value moved to its :func:`nearest_code` (:class:`DecodeError` if none)."""
    corrections: dict[str, Fraction] = {}
    for s in net.readout.stacks:
        if s.kind == "stack" and not is_exact_base(s.alphabet) and s.value.terms:
            value = s.value.value(get)
            label, c = s.value.terms[0]
            max_depth = int(prec / math.log2(base_of(s.alphabet))) + 2
            corrections[label] = (nearest_code(value, s.alphabet, max_depth) - value) / c
    if not corrections:
        return get
    return lambda label: get(label) + corrections.get(label, 0)


def _separate(stacks: Sequence[StackReadout], state_terms: Sequence[tuple[str, Fraction]]) -> None:
    """The corrections of :func:`_decode` need stacks that share no neuron with each other or the state code."""
    seen = {label for label, _ in state_terms}
    for s in stacks:
        labels = {label for label, _ in s.value.terms}
        if labels & seen:
            raise InputError(f"stack {s.name!r} shares neurons with another readout value; run_mp cannot decode it")
        seen |= labels


def _getter(net: Network, row: tuple[Fraction, ...]) -> Getter:
    return lambda label: row[net.index(label)]


def run_mp(net: Network, word: str = "", *, head: int = 0, **options: Any) -> Trace:
    """Run ``net`` on ``word`` in ``prec``-bit binary floating point until it halts, leaves the code or hits the limit.

    Args:
        net: A compiled network (``input_mode`` ``"preloaded"`` or ``"streamed"``).
        word: The input word, checked against the machine's alphabet.
        head: The Turing machine head's start index in ``word`` (preloaded networks only).
        **options: ``prec``, ``max_steps``, ``record`` and ``check_rounding``, as for :func:`run_start`.

    Returns:
        The :class:`~turingrnn.engines.trace.Trace`. ``diverged_at`` is the first machine step at which
        the values left the code (see the module docs), ``divergence`` says how, and the run stops
        there; compare it with :func:`~turingrnn.engines.exact.run_exact` by
        ``run.first_divergence(trace)``. ``prec`` is the significand width.

    Raises:
        InputError: ``prec`` is not a whole number >= 2, or the word, head or
            ``max_steps`` do not fit.
    """
    return run_start(net, prepare(net, word, head), **options)


def run_start(
    net: Network,
    start: Start,
    *,
    prec: int = BITS,
    max_steps: int = 1_000_000,
    record: str = "steps",
    check_rounding: bool = True,
) -> Trace:
    """Run ``net`` from a prepared :class:`~turingrnn.engines.inputs.Start` (the mp engine's runner).

    Args:
        net: A compiled network.
        start: Its start for the input word (:func:`~turingrnn.engines.inputs.prepare`).
        prec: Significand bits (53: float64, 24: float32).
        max_steps: The most machine steps (readouts after the first) to take.
        record: ``"steps"`` keeps the values at every readout tick, ``"final"`` the last two.
        check_rounding: Also flag the first value in ``(0, 1]`` of a neuron
            whose exact values are binary fractions (:func:`binary_fraction_rows`)
            and whose row rounded: its exact value needs more than ``prec``
            bits, so information was lost. ``False`` keeps only the checks a
            float core can make from the values.

    Returns and raises as :func:`run_mp`.
    """
    prec = _check_prec(prec)
    check_max_steps(max_steps)
    if record not in RECORD_MODES:
        raise InputError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")
    values, inputs, first = start.values, start.inputs, start.first_readout
    ctx = mpmath.MPContext()
    ctx.prec = prec
    _separate(net.readout.stacks, net.readout.state_code.terms)
    ticker = _Ticker(net, ctx, binary_fraction_rows(net) if check_rounding else (False,) * net.size)
    x = ticker.start(values, ctx)
    recording = _MPRecording(net, prec, final=record == "final")
    steps, stop, diverged_at, divergence, t = 0, None, None, None, 0
    codes = {s.name: s for s in net.readout.stacks}
    try:
        for name, label in net.preload.stacks if net.preload else ():
            i = net.index(label)
            if values[i] and is_exact_base(codes[name].alphabet) and _fraction(x[i]) != values[i]:
                raise _Diverged(f"the start code of stack {name!r} needs more than {prec} significand bits")
        while t < first:
            x = ticker.tick(x, inputs(t), t)
            t += 1
        while True:
            row = tuple(Fraction(v) if isinstance(v, int) else _fraction(v) for v in x)
            recording.append(row)
            get = _getter(net, row)
            try:
                state = read_state(net, get)
                if state is not None:
                    decode_configuration(net, _corrected(net, get, prec))
            except DecodeError as e:
                recording.bad_row = len(recording) - 1
                raise _Diverged(str(e)) from None
            stop = stop_reason(net, state, steps)
            if stop is not None or steps >= max_steps:
                break
            steps += 1  # a tick that leaves the code belongs to the step it computes
            for _ in range(net.ticks_per_step):
                x = ticker.tick(x, inputs(t), t)
                t += 1
    except _Diverged as e:
        diverged_at, divergence, stop = steps, e.message, None
        recording.why = f"step {steps}: {divergence}"
    T, kept = net.ticks_per_step, len(recording)
    return Trace(
        network=net,
        engine="mp",
        record=record,
        recording=recording,
        row_ticks=range(first + (recording.recorded - kept) * T, first + recording.recorded * T, T),
        first_readout=first,
        ticks=first + steps * T,
        steps=steps,
        stop=stop,
        info={"prec": prec, "word": start.word},
        diverged_at=diverged_at,
        divergence=divergence,
        prec=prec,
    )
