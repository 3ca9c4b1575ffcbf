"""Input preparation: the start of a run, the same for every engine.

:func:`prepare` turns a network, a word and a head position into a
:class:`Start`: the neuron values at tick 0, the input lines at every tick,
and the first readout tick. It is the only place that knows the two input
modes, so that every engine (:mod:`.exact`, :mod:`.fast`, :mod:`.mp`) begins
a run from the same values:

* ``preloaded``: ``x(0)`` holds the machine's initial configuration, written by
  ``net.preload`` (:func:`start_values`); every input line is off; tick 0 is
  the first readout.
* ``streamed``: ``x(0) = 0``; the line ``in:<word[t]>`` is on at tick ``t <
  len(word)``, ``in:end`` at tick ``len(word)``, then none
  (:func:`stream_inputs`); the first readout is at ``len(word) +
  net.stream_latency``.

>>> import turingrnn as tr
>>> tm = tr.load_machine("bb2")
>>> net = tr.compile_machine(tm)
>>> start = prepare(net, "1")
>>> {label: value for label, value in zip(net.labels, start.values) if value}
{'tape:R/R': Fraction(1, 2), 'code:0': Fraction(1, 1)}
>>> start.first_readout, start.last_input, start.inputs(0)
(0, -1, ())
>>> streamed = tr.compile_machine(tm, input_mode="streamed")
>>> start = prepare(streamed, "1")
>>> streamed.inputs, start.first_readout, start.last_input, [start.inputs(t) for t in range(3)]
(('in:end', 'in:0', 'in:1'), 2, 1, [(0, 0, 1), (1, 0, 0), (0, 0, 0)])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from ..compile.encoding import encode_word
from ..compile.network import Network
from ..errors import InputError

INPUT_MODES = ("preloaded", "streamed")
"""How a network takes its word: written into ``x(0)``, or read one symbol per tick on its input lines."""

Inputs = Callable[[int], tuple[int, ...]]
"""The input lines' values (0 or 1, in ``net.inputs`` order) at a tick."""


@dataclass(frozen=True, eq=False)
class Start:
    """Where a run begins: what every engine needs to run ``net`` on ``word``.

    Attributes:
        word: The input word.
        head: The Turing machine head's start index in ``word``.
        values: ``x(0)``, one exact value per neuron (in ``net.labels`` order).
        inputs: The input lines at tick ``t`` (all off after ``last_input``).
        first_readout: The tick of the first readout (machine step 0).
        last_input: The last tick with an input line on (``-1``: none, a preloaded network).
    """

    word: str
    head: int
    values: tuple[Fraction, ...]
    inputs: Inputs
    first_readout: int
    last_input: int


def prepare(net: Network, word: str = "", head: int = 0) -> Start:
    """The :class:`Start` of a run of ``net`` on ``word``, for either input mode (see the module docs).

    Raises:
        InputError: The word or head does not fit the machine, or the network cannot take an input.
    """
    if net.input_mode == "streamed":
        inputs, first = stream_inputs(net, word, head)
        return Start(word, head, (Fraction(0),) * net.size, inputs, first, len(word))
    if net.input_mode == "preloaded":
        return Start(word, head, tuple(start_values(net, word, head)), no_inputs(net), 0, -1)
    raise InputError(f"input mode {net.input_mode!r} is unknown (allowed: {', '.join(INPUT_MODES)})")


def start_values(net: Network, word: str, head: int) -> list[Fraction]:
    """``x(0)`` of a preloaded network: the machine's initial configuration written by ``net.preload``."""
    readout, preload = net.readout, net.preload
    if preload is None:
        raise InputError("this preloaded network has no preload map (it cannot take an input)")
    state, words = readout.initial(word, head)
    values = [Fraction(0)] * net.size
    states = dict(preload.states)
    if state not in states:
        raise InputError(f"the network's preload has no values for state {state!r}")
    for label, v in states[state]:
        values[net.index(label)] = Fraction(v)
    codes = {s.name: s for s in readout.stacks}
    for name, label in preload.stacks:
        if name not in codes or name not in words:
            raise InputError(f"the preload writes stack {name!r}, which the readout or the machine does not have")
        s = codes[name]
        values[net.index(label)] = encode_word(words[name], s.alphabet, s.kind)
    for name, j, label in preload.tops:
        if name not in codes or name not in words:
            raise InputError(f"the preload reads the top of stack {name!r}, which the readout or the machine lacks")
        word = words[name]
        values[net.index(label)] = Fraction(int(bool(word) and codes[name].alphabet.index(word[0]) >= j))
    return values


def stream_inputs(net: Network, word: str, head: int) -> tuple[Inputs, int]:
    """The input lines of a streamed run, tick by tick, and the first readout tick."""
    if head != 0:
        raise InputError(f"a streamed network reads the word from its first symbol; head must be 0, got {head!r}")
    net.readout.check_input(word, 0)
    line = {label: k for k, label in enumerate(net.inputs)}
    for needed in [*(f"in:{c}" for c in dict.fromkeys(word)), "in:end"]:
        if needed not in line:
            raise InputError(f"the network has no input line {needed!r}; its lines are: {', '.join(net.inputs)}")
    if net.stream_latency is None:
        raise InputError("this streamed network has no stream_latency (its first readout tick is unknown)")
    zeros = (0,) * len(net.inputs)
    one_hot = {}
    for label, k in line.items():
        one_hot[label] = tuple(1 if j == k else 0 for j in range(len(net.inputs)))

    def inputs(t: int) -> tuple[int, ...]:
        if t < len(word):
            return one_hot[f"in:{word[t]}"]
        return one_hot["in:end"] if t == len(word) else zeros

    return inputs, len(word) + net.stream_latency


def no_inputs(net: Network) -> Inputs:
    """The input lines of a preloaded run: all off, at every tick."""
    zeros = (0,) * len(net.inputs)
    return lambda t: zeros
