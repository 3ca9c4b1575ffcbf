"""The exact engine's runner: the fixed-point scale, the recording, and the loop over machine steps.

:class:`_Scale` is ``S = extra * prod(p ** e_p)``, one exponent per prime of
the network's denominators; it grows when a value is finer than ``S``, and
every stored value is rescaled exactly. :class:`_Recording` keeps the values
at the recorded ticks in segments of one scale each. :class:`_Runner` drives
an :class:`~.exact_engine._Engine` from its start values: single ticks
(streamed input, ``record="ticks"``, the rest of a step after a growth) and
chunks of machine steps in the step kernel, with checkpoints so that Ctrl-C
returns the run up to the last completed readout.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import InputError, PrecisionError, TuringRNNError
from ..progress import Progress, ProgressCallback, monotonic
from .exact_codegen import _Fractional, _Generated, _Stop
from .exact_engine import _Engine, _factor
from .inputs import Inputs
from .trace import Getter

_CHUNK = 4096
"""The kernel runs at most this many steps per call, so the recording's size is checked between calls."""

_GROWTH = (3, 2)
"""Precision growth factor: a prime's exponent grows to about 3/2 of itself."""


# ---------------------------------------------------------------- the scale


def _valuation(d: int, p: int) -> int:
    """The exponent of prime ``p`` in ``d > 0``, fast for huge ``d`` (one gcd instead of a division per power)."""
    if p == 2:
        return (d & -d).bit_length() - 1
    power = math.gcd(d, p ** (d.bit_length() // max(1, p.bit_length() - 1)))
    e = round(math.log(power, p)) if power > 1 else 0
    while p**e > power:
        e -= 1
    while power % p ** (e + 1) == 0:
        e += 1
    return e


class _Scale:
    """``S = extra * prod(p ** e_p)``: each prime of ``D`` with its own exponent."""

    def __init__(self, primes: Mapping[int, int], denominators: Sequence[int], max_digits: int) -> None:
        self.primes = dict(primes)
        self.max_digits = max_digits
        need = {p: 0 for p in primes}
        extra = 1
        for d in denominators:
            for p in primes:
                e = _valuation(d, p)
                d //= p**e
                need[p] = max(need[p], e)
            extra = math.lcm(extra, d)
        self.extra = extra  # denominators of start values with primes outside D (they never need to grow)
        self.exps = {p: need[p] + 8 * v for p, v in primes.items()}
        self.S = extra * math.prod(p**e for p, e in self.exps.items())
        self._check("for the start values")

    def digits(self, exps: Mapping[int, int]) -> float:
        return math.log10(self.extra) + sum(e * math.log10(p) for p, e in exps.items())

    def _check(self, where: str, exps: Mapping[int, int] | None = None) -> None:
        digits = self.digits(self.exps if exps is None else exps)
        if digits > self.max_digits:
            raise PrecisionError(
                f"exact values need a fixed-point scale of {digits:,.0f} decimal digits ({where}), more than "
                f"max_digits={self.max_digits:,}; raise max_digits (and memory) to go on"
            )

    def grow(self, L: int, num: int, where: str) -> int:
        """Grow the exponents of the primes that ``num / L`` lacks; return the factor ``S`` was multiplied by."""
        lacking = L // math.gcd(num, L)
        exps = dict(self.exps)
        for p, e in self.exps.items():
            if lacking % p == 0:
                exps[p] = max(e * _GROWTH[0] // _GROWTH[1], e + _factor(L)[p])
        self._check(where, exps)
        factor = math.prod(p ** (exps[p] - e) for p, e in self.exps.items())
        self.exps = exps
        self.S *= factor
        return factor


# ---------------------------------------------------------------- recording


@dataclass
class _Recording:
    """Rows of fixed-point values in segments of one scale each (a scale changes when precision grows)."""

    labels: tuple[str, ...]
    binary: tuple[bool, ...]
    final: bool
    segments: list[tuple[int, deque[tuple[int, ...]] | list[tuple[int, ...]]]] = field(default_factory=list)

    def start(self, S: int) -> None:
        self.segments.append((S, deque(maxlen=2) if self.final else []))

    def rescale(self, S: int, factor: int) -> None:
        """Precision grew: keep the last rows (``final``) or open a new segment."""
        if self.final:
            rows = self.segments[-1][1]
            self.segments[-1] = (S, deque((_rescaled(row, self.binary, factor) for row in rows), maxlen=2))
        else:
            self.start(S)

    def __len__(self) -> int:
        return sum(len(rows) for _, rows in self.segments)

    def _locate(self, row: int) -> tuple[int, tuple[int, ...]]:
        if row < 0:
            row += len(self)
        for S, rows in self.segments:
            if row < len(rows):
                return S, rows[row]
            row -= len(rows)
        raise IndexError("row out of range")

    def raw(self, row: int) -> tuple[int, tuple[int, ...]]:
        """Row ``row`` as it is kept: the scale ``S`` and the fixed-point integers (binary neurons unscaled)."""
        return self._locate(row)

    def column(self, neuron: int) -> list[Fraction]:
        if self.binary[neuron]:
            return [Fraction(row[neuron]) for _, rows in self.segments for row in rows]
        return [Fraction(row[neuron], S) for S, rows in self.segments for row in rows]

    def getter(self, row: int) -> Getter:
        S, values = self._locate(row)
        return _getter(self.labels, self.binary, values, S)

    def row_dict(self, row: int) -> dict[str, Fraction]:
        get = self.getter(row)
        return {label: get(label) for label in self.labels}


def _rescaled(values: Sequence[int], binary: Sequence[bool], factor: int) -> tuple[int, ...]:
    return tuple(v if b else v * factor for v, b in zip(values, binary, strict=True))


# ---------------------------------------------------------------- the run


class _Runner:
    """Advance a network from fixed-point start values, growing precision and recording as asked."""

    def __init__(
        self, engine: _Engine, start: Sequence[Fraction], record: str, first: int, max_digits: int, max_memory: int
    ) -> None:
        self.engine = engine
        self.record = record
        self.first = first
        self.max_memory = max_memory
        self.scale = _Scale(engine.primes, [v.denominator for v in start], max_digits)
        self.growths = 0
        self.phase_skipping = False
        self.interrupted = False
        self.started = monotonic()
        S = self.scale.S
        values = []
        for i, v in enumerate(start):
            if not v:
                values.append(0)
                continue
            if not 0 <= v <= 1:
                raise InputError(f"start value of neuron {engine.labels[i]!r} is {v}, outside [0, 1]")
            if engine.binary[i]:
                if v not in (0, 1):
                    raise TuringRNNError(f"binary neuron {engine.labels[i]!r} starts at {v}, not 0 or 1")
                values.append(int(v))
            else:
                values.append(v.numerator * (S // v.denominator))
        self.vals = tuple(values)
        self.t = 0
        self.steps = 0
        self.recording = _Recording(engine.labels, engine.binary, final=record == "final")
        self.recording.start(S)
        self._consts: dict[int, tuple[int, ...]] = {}
        if record == "ticks":
            self._keep()

    def _keep(self) -> None:
        self.recording.segments[-1][1].append(self.vals)

    def consts(self, gen: _Generated) -> tuple[int, ...]:
        key = id(gen)
        if key not in self._consts:
            self._consts[key] = gen.consts.values(self.scale.S)
        return self._consts[key]

    def _signal(self, e: _Stop, tick: int) -> None:
        """Handle a signal from generated code while computing tick ``tick + 1`` from tick ``tick``."""
        label = self.engine.labels[e.row]
        if isinstance(e, _Fractional):
            raise TuringRNNError(
                f"binary neuron {label!r} took the value {Fraction(e.num, e.den)} at tick {tick + 1}; "
                "the network flags it as always 0 or 1"
            )
        factor = self.scale.grow(e.den, e.num, f"for neuron {label!r} at tick {tick + 1}")
        self.growths += 1
        self.vals = _rescaled(self.vals, self.engine.binary, factor)
        self.recording.rescale(self.scale.S, factor)
        self._consts.clear()

    def tick(self, u: tuple[int, ...]) -> None:
        """One tick with the single-tick function, growing precision as often as needed."""
        while True:
            try:
                vals = self.engine.tick.fn(self.vals, u, self.consts(self.engine.tick))
                break
            except _Stop as e:
                self._signal(e, self.t)
        self.vals = vals
        self.t += 1
        if self.record == "ticks":
            self._keep()

    def readout(self) -> None:
        """Record the values at a readout tick (``record="ticks"`` has them already)."""
        if self.record != "ticks":
            self._keep()

    def run_steps(
        self,
        max_steps: int,
        cont: Any,
        stop_reason: Callable[[tuple[int, ...], int], str | None],
        inputs: Inputs,
        last_input: int,
        progress: ProgressCallback | None = None,
    ) -> str | None:
        """From the first readout tick, take machine steps until ``stop_reason`` names one or ``max_steps``.

        ``progress`` is called between chunks of steps (and once more at the end, with ``done=True``). A
        ``KeyboardInterrupt`` raised anywhere (Ctrl-C, or by ``progress``) ends the run at the last readout
        tick that was completed and checked: ``interrupted`` is set and the reason is ``None``.
        """
        T = self.engine.ticks_per_step
        self.readout()
        reason = stop_reason(self.vals, self.steps)
        chunk = _CHUNK
        saved = self._checkpoint()
        try:
            while reason is None and self.steps < max_steps:
                saved = self._checkpoint()
                began = monotonic()
                if progress is not None:
                    progress(self.progress(max_steps))
                reason = self._advance(max_steps, chunk, cont, stop_reason, inputs, last_input, T)
                # keep chunks short enough for progress reports and Ctrl-C (a few per second at any depth)
                took = monotonic() - began
                chunk = max(64, chunk // 2) if took > 0.1 else min(_CHUNK, chunk * 2) if took < 0.02 else chunk
        except KeyboardInterrupt:
            self._restore(saved)
            self.interrupted = True
            reason = None
        if progress is not None:
            progress(self.progress(max_steps, done=True))
        return reason

    def _advance(
        self,
        max_steps: int,
        chunk: int,
        cont: Any,
        stop_reason: Callable[[tuple[int, ...], int], str | None],
        inputs: Inputs,
        last_input: int,
        T: int,
    ) -> str | None:
        """Up to ``chunk`` machine steps (at least one); returns the stop reason or ``None``."""
        if self.record == "ticks" or self.t <= last_input:
            self._check_memory()
            for _ in range(min(chunk, max_steps - self.steps)):
                for _ in range(T):
                    self.tick(inputs(self.t))
                self.steps += 1
                self.readout()
                reason = stop_reason(self.vals, self.steps)
                if reason is not None or (self.record != "ticks" and self.t > last_input):
                    return reason  # the kernel takes over once the input is read
            return None
        skip = self.engine.respects_phases(self.vals)
        self.phase_skipping |= skip and any(self.engine.safe) and self.engine.generated
        final = self.record == "final"
        kernel = self.engine.kernel(skip, final)
        rec = self.recording.segments[-1][1].append
        self._check_memory()
        left = min(max_steps - self.steps, chunk)
        status, done, signal, vals, last = kernel.fn(self.vals, self.consts(kernel), left, rec, cont)
        if final and done:
            if last[0] is not None:
                rec(last[0])
            rec(last[1])
        self.steps += done
        self.t += done * T
        self.vals = vals
        if status == 2:
            return None
        if status == 0:
            return stop_reason(vals, self.steps)
        # a signal in sub-tick `sub`: finish this step tick by tick from the values before it
        self.t += signal.sub - 1
        self._signal(signal, self.t)
        for _ in range(T - signal.sub + 1):
            self.tick(inputs(self.t))
        self.steps += 1
        self.readout()
        return stop_reason(self.vals, self.steps)

    def _checkpoint(self) -> tuple[Any, ...]:
        """What :meth:`_restore` needs to go back to this readout tick."""
        segments = self.recording.segments
        last = segments[-1][1]
        kept = tuple(last) if self.recording.final else len(last)
        return (self.vals, self.t, self.steps, self.growths, dict(self.scale.exps), self.scale.S, len(segments), kept)

    def _restore(self, saved: tuple[Any, ...]) -> None:
        """Go back to a checkpoint (after an interrupt that may have come in the middle of anything)."""
        self.vals, self.t, self.steps, self.growths, exps, S, n, kept = saved
        self.scale.exps, self.scale.S = exps, S
        self._consts.clear()
        segments = self.recording.segments
        del segments[n:]
        rows = segments[-1][1]
        if isinstance(rows, deque):
            segments[-1] = (S, deque(kept, maxlen=2))
        else:
            del rows[kept:]

    def progress(self, max_steps: int, done: bool = False) -> Progress:
        """A :class:`~turingrnn.progress.Progress` snapshot of the run."""
        return Progress(
            steps=self.steps,
            max_steps=max_steps,
            ticks=self.t,
            seconds=monotonic() - self.started,
            scale_digits=self.scale.digits(self.scale.exps),
            done=done,
            interrupted=self.interrupted,
        )

    def _check_memory(self) -> None:
        """Raise :class:`PrecisionError` when the recorded rows would pass ``max_memory`` (estimated from the last)."""
        rows = len(self.recording)
        if self.record == "final" or rows < _CHUNK:
            return
        per_row = 64 + 8 * len(self.vals) + sum(28 + v.bit_length() // 8 for v in self.vals if v > 1)
        if (rows + _CHUNK) * per_row > self.max_memory:
            raise PrecisionError(
                f"the recorded values would take more than max_memory={self.max_memory:,} bytes after step "
                f"{self.steps:,} ({rows:,} rows of about {per_row:,} bytes); run with record='final' or fewer steps"
            )

    def info(self) -> dict[str, Any]:
        """Statistics for :attr:`Trace.info <turingrnn.engines.trace.Trace.info>`."""
        return {
            "kernel": "generated" if self.engine.generated else "generic",
            "scale_digits": round(self.scale.digits(self.scale.exps), 1),
            "growths": self.growths,
            "phase_skipping": self.phase_skipping,
            "interrupted": self.interrupted,
            "seconds": round(monotonic() - self.started, 6),
        }

    def row_ticks(self) -> Sequence[int]:
        """The tick of every recorded row (the run ends at a readout tick)."""
        if self.record == "ticks":
            return range(self.t + 1)
        T, kept = self.engine.ticks_per_step, len(self.recording)
        return range(self.t - (kept - 1) * T, self.t + 1, T)


def _getter(labels: Sequence[str], binary: Sequence[bool], values: Sequence[int], S: int) -> Getter:
    """Fixed-point ``values`` over the scale ``S`` as exact fractions, by label."""
    index = {label: i for i, label in enumerate(labels)}

    def get(label: str) -> Fraction:
        i = index[label]
        return Fraction(values[i]) if binary[i] else Fraction(values[i], S)

    return get
