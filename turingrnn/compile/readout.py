"""How a machine configuration is read from a network's neuron values, and written into its start values.

:class:`Linear` is a linear expression over neuron labels. A :class:`Readout`
reads a configuration at a readout tick: the state is
``state_table[state_code]`` and every stack (or half-tape) is the word whose
code is its :class:`StackReadout` value. A :class:`Preload` writes a
configuration into the values at tick 0 (``input_mode="preloaded"``). All of
them are frozen values with a JSON form, stored in network files
(:meth:`turingrnn.compile.network.Network.save`).

>>> Linear.of({"x": 2, "y": 0}, const=1).value(lambda label: Fraction(1, 4))
Fraction(3, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Linear:
    """A linear expression ``sum(c * neuron) + const`` over neuron labels."""

    terms: tuple[tuple[str, Fraction], ...] = ()
    const: Fraction = Fraction(0)

    @classmethod
    def of(cls, terms: Mapping[str, Fraction | int] | None = None, const: Fraction | int = 0) -> Linear:
        """Build from a mapping, dropping zero coefficients and sorting by label."""
        items = tuple(sorted((k, Fraction(v)) for k, v in (terms or {}).items() if v != 0))
        return cls(items, Fraction(const))

    def value(self, get: Callable[[str], Fraction]) -> Fraction:
        """Evaluate with neuron values from ``get(label)``."""
        return sum((c * get(k) for k, c in self.terms), self.const)

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files."""
        return {"terms": [[k, str(c)] for k, c in self.terms], "const": str(self.const)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Linear:
        """Read the JSON form written by ``to_json``."""
        return cls(tuple((k, Fraction(c)) for k, c in data["terms"]), Fraction(data["const"]))


@dataclass(frozen=True, kw_only=True)
class StackReadout:
    """How one stack (or half-tape) is read: its code value, alphabet and digit kind."""

    name: str
    value: Linear
    alphabet: tuple[str, ...]
    kind: str  # "stack" (odd digits, empty = 0) or "tape" (even digits, blank = 0)


@dataclass(frozen=True, kw_only=True)
class Readout:
    """How a machine configuration is read from the neuron values at a readout tick.

    ``kind`` is ``"stack"`` (a stack machine configuration), ``"tape"`` (a
    Turing machine from half-tapes ``L`` and ``R``, the scanned cell on top of
    ``R``) or ``"reduced"`` (the 2-stack machine of
    :func:`turingrnn.machines.reduction.tm_to_stack_machine`, mapped back to the Turing
    machine). The state is ``state_table[state_code]``; a code in
    ``undefined_codes`` means the machine halted on a missing transition, so the
    configuration is the one read at the previous readout tick.
    """

    kind: str
    state_code: Linear
    state_table: tuple[tuple[int, str], ...]
    undefined_codes: tuple[int, ...] = ()
    stacks: tuple[StackReadout, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files."""
        return {
            "kind": self.kind,
            "state_code": self.state_code.to_json(),
            "state_table": [list(x) for x in self.state_table],
            "undefined_codes": list(self.undefined_codes),
            "stacks": [
                {"name": s.name, "value": s.value.to_json(), "alphabet": list(s.alphabet), "kind": s.kind}
                for s in self.stacks
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Readout:
        """Read the JSON form written by ``to_json``."""
        return cls(
            kind=data["kind"],
            state_code=Linear.from_json(data["state_code"]),
            state_table=tuple((int(c), str(s)) for c, s in data["state_table"]),
            undefined_codes=tuple(int(c) for c in data["undefined_codes"]),
            stacks=tuple(
                StackReadout(
                    name=s["name"], value=Linear.from_json(s["value"]), alphabet=tuple(s["alphabet"]), kind=s["kind"]
                )
                for s in data["stacks"]
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Preload:
    """How a configuration is written into the state at tick 0 (``input_mode="preloaded"``).

    ``states`` maps a machine state to the neuron values (0/1) that encode it;
    ``stacks`` maps a stack (or half-tape) name to the neuron that receives its
    code; ``tops`` lists ``(stack, j, neuron)``: the neuron receives 1 when the
    stack's top symbol index is ``>= j`` (``j = 0``: the stack is not empty),
    else 0 (used by the ``realtime`` construction). All other neurons start at 0.
    """

    states: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    stacks: tuple[tuple[str, str], ...]
    tops: tuple[tuple[str, int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in network files (``tops`` only when there are any)."""
        out: dict[str, Any] = {
            "states": [[s, [list(a) for a in v]] for s, v in self.states],
            "stacks": [list(x) for x in self.stacks],
        }
        if self.tops:
            out["tops"] = [list(x) for x in self.tops]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Preload:
        """Read the JSON form written by ``to_json``."""
        return cls(
            states=tuple((s, tuple((str(k), int(v)) for k, v in vals)) for s, vals in data["states"]),
            stacks=tuple((str(a), str(b)) for a, b in data["stacks"]),
            tops=tuple((str(a), int(j), str(n)) for a, j, n in data.get("tops", [])),
        )
