"""The exact engine: run a network in exact rational arithmetic, fast.

:func:`run_exact` gives the same values as :meth:`Network.tick
<turingrnn.compile.network.Network.tick>` (the slow :class:`~fractions.Fraction`
reference) at every tick, and returns a :class:`~turingrnn.engines.trace.Trace`.

Fixed point:
    Every analog value is an integer ``X`` over one common scale ``S``, the
    value being ``X / S``. ``S`` is a product of powers of the primes of ``D``,
    the lcm of all weight and bias denominators (a network may mix bases, so
    each prime has its own exponent). Neurons the network flags as binary are
    kept as the small ints 0 and 1. For a row with denominators of lcm ``L``,
    ``T = sum((w L) X) + (b L) S`` is an integer and the new value is
    ``T / L``, clamped to ``[0, S]``. If ``L`` does not divide ``T`` the scale
    is too coarse for the exact value: the engine multiplies the exponents of
    the missing primes by 1.5, rescales every stored analog value exactly and
    redoes the tick. A value is never rounded; past ``max_digits`` decimal
    digits of ``S`` the run stops with :class:`~turingrnn.errors.PrecisionError`.

Code generation:
    Each network gets straight-line Python, compiled once and cached by the
    network's fingerprint: a kernel that runs whole machine steps (one loop
    iteration per step, its ticks unrolled) and a tick function for single
    ticks (streamed input, ``record="ticks"``, and the rest of a step after a
    precision growth). Each row splits into a small part (binary inputs, input
    lines and bias: machine ints) and a big part (analog inputs). When the
    small part alone forces sigma to 0 or 1 whatever the analog inputs in
    ``[0, 1]`` are, the big arithmetic is skipped; when only a few small values
    are left, each gets its own branch whose clamps are comparisons with
    constants. Small and big parts shared by several rows (after dividing out
    their gcd) are computed once per tick.

Huge networks:
    Python cannot compile the generated code of a network with about a
    million weights (it runs out of memory). A network with more than
    :data:`~turingrnn.engines.exact_engine.GENERATED_MAX_WEIGHTS` (200,000)
    recurrent weights therefore runs the generic kernel (``kernel="auto"``):
    the same fixed-point integers from sparse rows, the small parts of all rows
    in one numpy product (int64 when the coefficients are bounded, else Python
    ints), the rows that read analog neurons in Python ints. It gives the same
    values as the generated code at every tick, and the same growths and
    errors. ``kernel="generic"`` or ``"generated"`` forces either one.

Phases:
    A neuron of phase ``p`` whose inputs all have phase ``p - 1 (mod T)``, with
    no input lines and bias ``<= 0``, is zero outside the ticks of phase ``p``
    once it is zero there at a readout tick (induction over ticks). The kernel
    neither computes such neurons outside their phase nor reads them; it
    checks the induction's start whenever it is entered, and falls back to
    computing every neuron at every tick when the start does not hold.

>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.machines.parsing import load_machine
>>> tm = load_machine("bb4")
>>> run = run_exact(compile_machine(tm), "")
>>> run.steps, run.ticks, run.decode() == tm.run("")
(107, 214, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from ..compile.network import Network
from ..errors import InputError, PrecisionError
from ..machines.interpreter import check_max_steps
from ..progress import ProgressBar, ProgressCallback
from .exact_codegen import _Stop  # noqa: F401  (tests patch exact._Runner around it)
from .exact_engine import _engine, generated_source, idle_neurons
from .exact_runner import _getter, _Runner
from .inputs import Inputs, Start, no_inputs, prepare, start_values, stream_inputs
from .trace import Trace, read_state, stop_reason

__all__ = [
    "DEFAULT_MAX_DIGITS",
    "DEFAULT_MAX_MEMORY",
    "RECORD_MODES",
    "Inputs",
    "generated_source",
    "idle_neurons",
    "no_inputs",
    "run_exact",
    "run_start",
    "run_ticks",
    "start_values",
    "stream_inputs",
]

RECORD_MODES = ("steps", "ticks", "final")
"""``steps``: values at every readout tick; ``ticks``: at every tick; ``final``: the last readouts only."""

DEFAULT_MAX_DIGITS = 2_000_000
"""Largest fixed-point scale allowed by default, in decimal digits (about 830 KB per analog value)."""

DEFAULT_MAX_MEMORY = 4 * 2**30
"""Largest estimated size of the recorded values allowed by default, in bytes."""


class _Everything:
    """A container holding every state code (run ticks without readout checks)."""

    def __contains__(self, item: object) -> bool:
        return True


def _check_record(record: str) -> None:
    if record not in RECORD_MODES:
        raise InputError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")


def run_exact(net: Network, word: str = "", *, head: int = 0, **options: Any) -> Trace:
    """Run ``net`` on ``word`` in exact arithmetic until its machine halts or ``max_steps`` steps were taken.

    Args:
        net: A compiled network (``input_mode`` ``"preloaded"`` or ``"streamed"``).
        word: The input word, checked against the machine's alphabet.
        head: The Turing machine head's start index in ``word`` (preloaded networks only).
        **options: ``max_steps``, ``record``, ``max_digits``, ``max_memory``, ``progress`` and ``kernel``,
            as for :func:`run_start`, which runs from :func:`~turingrnn.engines.inputs.prepare`'s start.

    Returns:
        The :class:`~turingrnn.engines.trace.Trace`; ``trace.decode()`` is the interpreter's result.
        ``trace.info`` holds ``kernel`` (``generated`` or ``generic``), ``scale_digits``, ``growths``,
        ``phase_skipping``, ``interrupted`` and ``seconds``.

    Raises:
        InputError: The word or head does not fit the machine, or an argument is invalid.
        PrecisionError: The run needs more than ``max_digits`` digits or ``max_memory`` bytes, or memory ran out.
        TuringRNNError: A neuron flagged binary took a fractional value.
        DecodeError: A readout tick holds no valid state code.
    """
    return run_start(net, prepare(net, word, head), **options)


def run_start(
    net: Network,
    start: Start,
    *,
    max_steps: int = 1_000_000,
    record: str = "steps",
    max_digits: int = DEFAULT_MAX_DIGITS,
    max_memory: int = DEFAULT_MAX_MEMORY,
    progress: bool | ProgressCallback | None = None,
    kernel: str = "auto",
) -> Trace:
    """Run ``net`` from a prepared :class:`~turingrnn.engines.inputs.Start` (the exact engine's runner).

    Long runs: ``progress=True`` prints a progress line on ``stderr`` (steps,
    depth in digits of the scale, steps per second), at most four times a
    second; a callable gets every :class:`~turingrnn.progress.Progress`
    snapshot instead (every few thousand steps, and once with ``done=True``).
    Ctrl-C (a ``KeyboardInterrupt``, also one raised by the callback) does not
    raise: the run returns its trace up to the last readout tick it completed.
    Such a partial trace has ``trace.info["interrupted"] == True`` and the
    semantics of a step limit (``stop`` is ``None``, status ``out-of-steps``),
    and decodes like any other. An interrupt before the first readout tick
    (while a streamed network reads its word) is raised.

    Args:
        net: A compiled network.
        start: Its start for the input word (:func:`~turingrnn.engines.inputs.prepare`).
        max_steps: The most machine steps (readouts after the first) to take.
        record: ``"steps"`` keeps the values at every readout tick, ``"ticks"``
            at every tick, ``"final"`` only the last readouts (for long runs).
        max_digits: The largest fixed-point scale, in decimal digits, before
            :class:`~turingrnn.errors.PrecisionError`.
        max_memory: The largest estimated size of the recorded values, in
            bytes, before :class:`~turingrnn.errors.PrecisionError`.
        progress: ``True`` for a progress line on ``stderr``, or a callback taking
            :class:`~turingrnn.progress.Progress` snapshots.
        kernel: ``"generated"`` (the network's own Python code), ``"generic"`` (sparse rows, no
            generated code) or ``"auto"``: generated up to
            :data:`~turingrnn.engines.exact_engine.GENERATED_MAX_WEIGHTS` recurrent weights.
            Both give the same values at every tick.

    Returns and raises as :func:`run_exact`.
    """
    check_max_steps(max_steps)
    _check_record(record)
    engine = _engine(net, kernel)
    first, inputs = start.first_readout, start.inputs

    def reason_at(values: tuple[int, ...], step: int) -> str | None:
        return stop_reason(net, read_state(net, _getter(engine.labels, engine.binary, values, runner.scale.S)), step)

    report = ProgressBar() if progress is True else progress or None
    try:
        runner = _Runner(engine, start.values, record, first, max_digits, max_memory)
        while runner.t < first:
            runner.tick(inputs(runner.t))
        reason = runner.run_steps(max_steps, engine.cont, reason_at, inputs, start.last_input, report)
    except MemoryError:
        raise PrecisionError(
            f"memory ran out in an exact run of {net.size} neurons (record={record!r}); "
            "try record='final', fewer steps or a smaller max_digits"
        ) from None
    return Trace(
        network=net,
        engine="exact",
        record=record,
        recording=runner.recording,
        row_ticks=runner.row_ticks(),
        first_readout=first,
        ticks=runner.t,
        steps=runner.steps,
        stop=reason,
        info=runner.info(),
    )


def run_ticks(
    net: Network,
    start: Mapping[str, Fraction | int] | None = None,
    ticks: int = 1,
    *,
    inputs: Sequence[Mapping[str, int]] = (),
    record: str = "ticks",
    max_digits: int = DEFAULT_MAX_DIGITS,
    max_memory: int = DEFAULT_MAX_MEMORY,
    kernel: str = "auto",
) -> list[dict[str, Fraction]]:
    """Neuron values from ``start`` (tick 0) to tick ``ticks``, without any machine semantics.

    With ``record="ticks"`` every tick is returned, computed by the generated
    single-tick function; ``inputs[t]`` gives the input lines at tick ``t``.
    With ``record="steps"`` every ``ticks_per_step``-th tick is returned,
    computed by the generated step kernel (tick 0 counts as a readout tick;
    ``ticks`` must be a multiple of ``ticks_per_step``, and there are no inputs). ``kernel`` is as for
    :func:`run_start`.
    """
    _check_record(record)
    if record == "final":
        raise InputError("run_ticks records 'ticks' or 'steps'")
    engine = _engine(net, kernel)
    T = net.ticks_per_step
    values = [Fraction((start or {}).get(label, 0)) for label in net.labels]
    for label in start or {}:
        net.index(label)
    lines = {label: k for k, label in enumerate(net.inputs)}
    vectors = []
    for u in inputs:
        vec = [0] * len(net.inputs)
        for label, v in u.items():
            if label not in lines:
                raise InputError(f"no input line {label!r}; lines are: {', '.join(net.inputs)}")
            vec[lines[label]] = v
        vectors.append(tuple(vec))
    zeros = (0,) * len(net.inputs)

    def at(t: int) -> tuple[int, ...]:
        return vectors[t] if t < len(vectors) else zeros

    runner = _Runner(engine, values, record, 0, max_digits, max_memory)
    if record == "ticks":
        for _ in range(ticks):
            runner.tick(at(runner.t))
    else:
        if ticks % T or vectors:
            raise InputError(f"record='steps' needs no inputs and a multiple of {T} ticks; got {ticks} ticks")
        runner.run_steps(ticks // T, _Everything(), lambda values, step: None, at, -1)
    return [runner.recording.row_dict(k) for k in range(len(runner.recording))]
