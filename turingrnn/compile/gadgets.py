"""Weight gadgets: the small neuron patterns every construction is built from.

Each gadget adds one neuron (or a few) to a :class:`~turingrnn.compile.network.NetworkBuilder`
and documents the identity it relies on. Values of analog neurons are codes in
``[0, 1)``; binary neurons are 0 or 1.

* :func:`threshold`: ``sigma(B x - c)``, a 0/1 test of a code's first digit.
* :func:`gated`: ``sigma(candidate + M (gate - 1))``: the candidate when the 0/1
  gate is 1, and 0 when it is 0, provided ``candidate <= M``.
* :func:`conjunction`: ``sigma(sum(conditions) - (m - 1))``: the AND of ``m`` 0/1 conditions.
* :func:`stream_loader`: input lines that write a word into a code, one symbol per tick.

>>> from fractions import Fraction
>>> from turingrnn.compile.network import Linear, NetworkBuilder
>>> b = NetworkBuilder()
>>> b.neuron("x", role="stack")
'x'
>>> threshold(b, "top:x>=1", Linear.of({"x": 1}), base=4, offset=2)
'top:x>=1'
>>> net = b.build(ticks_per_step=1)
>>> net.tick({"x": Fraction(3, 4)})["top:x>=1"], net.tick({"x": Fraction(1, 4)})["top:x>=1"]
(Fraction(1, 1), Fraction(0, 1))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .encoding import base_of, digit_of
from .network import Linear, NetworkBuilder


def scale(expr: Linear, factor: Fraction | int) -> Linear:
    """``factor * expr``."""
    f = Fraction(factor)
    return Linear(tuple((k, c * f) for k, c in expr.terms if c * f != 0), expr.const * f)


def add(*exprs: Linear) -> Linear:
    """The sum of linear expressions."""
    total: dict[str, Fraction] = {}
    const = Fraction(0)
    for e in exprs:
        for k, c in e.terms:
            total[k] = total.get(k, Fraction(0)) + c
        const += e.const
    return Linear.of(total, const)


def const(value: Fraction | int) -> Linear:
    """A constant expression."""
    return Linear((), Fraction(value))


def total(labels: Sequence[str], weight: Fraction | int = 1) -> Linear:
    """``weight * sum(labels)``."""
    return Linear.of({k: weight for k in labels})


def threshold(
    b: NetworkBuilder, label: str, x: Linear, *, base: int, offset: Fraction | int, phase: int = -1, role: str = "top"
) -> str:
    """``sigma(base * x - offset)``: 1 when the first digit of code ``x`` clears ``offset``.

    For a stack code (odd digits) ``offset = 2j`` tests "top index >= j"
    (``j = 0``: not empty); for a tape code (even digits) ``offset = 2j - 1``
    tests "scanned index >= j". The tail of a code is below 1, so the argument
    is ``>= 1`` or ``<= 0``: the neuron is binary.
    """
    return b.neuron(label, role=role, inputs=add(scale(x, base), const(-offset)), binary=True, phase=phase)


def gated(
    b: NetworkBuilder,
    label: str,
    candidate: Linear,
    gate: Linear,
    *,
    big: Fraction | int = 1,
    role: str,
    phase: int = -1,
    binary: bool = False,
) -> str:
    """``sigma(candidate + big * (gate - 1))``: the candidate if the 0/1 gate is 1, else 0.

    Correct when the candidate is at most ``big`` whenever the gate is 0, and
    in ``[0, 1]`` whenever the gate is 1.
    """
    return b.neuron(label, role=role, inputs=add(candidate, scale(gate, big), const(-big)), phase=phase, binary=binary)


def conjunction(b: NetworkBuilder, label: str, conditions: Sequence[Linear], *, role: str, phase: int = -1) -> str:
    """``sigma(sum(conditions) - (m - 1))``: 1 exactly when all ``m`` 0/1 conditions are 1."""
    return b.neuron(label, role=role, inputs=add(*conditions, const(-(len(conditions) - 1))), binary=True, phase=phase)


@dataclass(frozen=True)
class StreamHook:
    """Where a streamed input word enters a construction.

    ``stack`` names the stack (or half-tape) that receives the word's code,
    first symbol on top; the construction adds the neuron ``hand`` to that
    stack's value wherever it reads it, and gives the start state's units the
    input line ``end`` with weight 1. The code arrives at the tick after the
    ``end`` line is on, which is the first readout tick.
    """

    stack: str
    hand: str = "load:hand"
    end: str = "in:end"
    latency: int = 1


def stream_loader(b: NetworkBuilder, hook: StreamHook, alphabet: Sequence[str], kind: str) -> None:
    """Neurons that build the code of a word arriving one symbol per tick on lines ``in:<symbol>``.

    With ``B = 2k`` and ``d(a)`` the digit of symbol ``a``:

    * ``load:seen`` latches 1 after the first symbol (or the end line, for the empty word);
    * ``load:scale`` is ``B**-(t+1)`` at tick ``t + 1``: ``sigma(scale/B + (1 - seen)/B - end)``;
      the end line clears it and ``seen`` keeps it 0, so exact runs do not carry an ever finer scale;
    * ``load:digit:<a>`` is ``d(a) * B**-(t+1)`` at tick ``t + 1`` when symbol ``t`` is ``a``
      (a gated copy of the same expression), 0 otherwise;
    * ``load:acc`` sums the digits, and is cleared by the end line;
    * ``hook.hand`` carries the finished code for one tick, the tick after ``end``.
    """
    base = base_of(tuple(alphabet))
    lines = {a: b.line(f"in:{a}") for a in alphabet}
    end = b.line(hook.end)
    next_scale = Linear.of({"load:scale": Fraction(1, base), "load:seen": Fraction(-1, base)}, Fraction(1, base))
    b.neuron(
        "load:seen", role="load", inputs={"load:seen": 1}, lines=dict.fromkeys([*lines.values(), end], 1), binary=True
    )
    b.neuron("load:scale", role="load", inputs=next_scale, lines={end: -1})
    digits = []
    for i, a in enumerate(alphabet):
        d = digit_of(i, kind)
        if d == 0:
            continue
        label = f"load:digit:{a}"
        b.neuron(label, role="load", inputs=add(scale(next_scale, d), const(-1)), lines={lines[a]: 1})
        digits.append(label)
    arriving = add(Linear.of({"load:acc": 1}), total(digits))
    b.neuron("load:acc", role="load", inputs=arriving, lines={end: -1})
    b.neuron(hook.hand, role="load", inputs=add(arriving, const(-1)), lines={end: 1})


def with_hand(value: Linear, hook: StreamHook | None, stack: str) -> Linear:
    """A stack's value expression, plus the streamed code when ``stack`` receives the input."""
    if hook is None or hook.stack != stack:
        return value
    return add(value, Linear.of({hook.hand: 1}))


def start_lines(hook: StreamHook | None, units: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Input-line weights that switch the start state's units on with the end line."""
    if hook is None:
        return {}
    return {label: {hook.end: 1} for label, v in units.items() if v}
