"""The compiled network: exact rational weights over named neurons.

A :class:`Network` computes, at every tick,

    x(t+1) = sigma(W x(t) + U u(t) + b),     sigma(z) = min(1, max(0, z)),

with ``W``, ``U`` and ``b`` exact :class:`~fractions.Fraction` s kept sparse.
Every neuron has a deterministic label (``state:q1``, ``top:R>=2@q1``,
``tape:R/L``, ...), a role, a phase and a flag saying whether it only ever takes
the values 0 and 1. Input lines are named too (``in:a``, ``in:end``).

The :class:`~.readout.Readout` says how a machine configuration is read from
the neuron values at a readout tick; :class:`~.readout.Preload` says how a
configuration is written into the initial state (``input_mode="preloaded"``).
Both live in :mod:`turingrnn.compile.readout` and are importable from here.

:meth:`Network.tick` is the slow, obviously correct reference step in exact
arithmetic; the fast engines are tested against it.

>>> b = NetworkBuilder()
>>> b.neuron("x", role="copy", inputs={"x": Fraction(1, 2)}, bias=Fraction(1, 4))
'x'
>>> net = b.build(ticks_per_step=1)
>>> net.tick({"x": Fraction(1)})["x"]
Fraction(3, 4)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CompileError, NetworkFileError
from .readout import Linear, Preload, Readout, StackReadout

__all__ = [
    "FORMAT_VERSION",
    "Built",
    "Linear",
    "Network",
    "NetworkBuilder",
    "NetworkFileError",
    "Preload",
    "Readout",
    "Sparse",
    "StackReadout",
    "sigma",
]

FORMAT_VERSION = 1
"""Version of the ``.npz`` network file layout."""


def sigma(z: Fraction) -> Fraction:
    """The saturated-linear activation ``min(1, max(0, z))``."""
    if z <= 0:
        return Fraction(0)
    if z >= 1:
        return Fraction(1)
    return z


Sparse = tuple[tuple[int, int, Fraction], ...]


@dataclass(frozen=True, kw_only=True)
class Network:
    """A saturated-linear recurrent network compiled from a machine.

    Attributes:
        labels: Neuron labels, in index order.
        roles: Each neuron's role (``state``, ``top``, ``detector``, ``copy``, ``tape``, ``stack``, ...).
        binary: Whether the construction guarantees the neuron is always 0 or 1.
        phase: The tick of the machine-step cycle in which the neuron may be
            nonzero (``-1``: any tick); ticks are numbered from the readout tick.
        W: Recurrent weights as sorted ``(row, column, weight)`` triples.
        U: Input weights as sorted ``(row, input line, weight)`` triples.
        b: Biases.
        inputs: Input line labels.
        ticks_per_step: Network ticks per machine step.
        readout: How configurations are read.
        preload: How a configuration is written at tick 0 (``None`` for streamed networks).
        stream_latency: Streamed networks: the first readout tick is ``len(word) + stream_latency``.
        machine: The machine compiled.
        construction: The construction's name.
        input_mode: ``"preloaded"`` or ``"streamed"``.
    """

    labels: tuple[str, ...]
    roles: tuple[str, ...]
    binary: tuple[bool, ...]
    phase: tuple[int, ...]
    W: Sparse
    U: Sparse
    b: tuple[Fraction, ...]
    inputs: tuple[str, ...]
    ticks_per_step: int
    readout: Readout
    preload: Preload | None = None
    stream_latency: int | None = None
    machine: Any = None
    construction: str = ""
    input_mode: str = "preloaded"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The readout carries what the engines need from the machine (see Readout.complete).
        start = self.preload if self.preload is not None else self.readout.start_preload
        readout = self.readout.complete(self.machine, start)
        object.__setattr__(self, "readout", readout)
        object.__setattr__(self, "_index", {label: i for i, label in enumerate(self.labels)})
        if len(self._index) != len(self.labels):
            raise CompileError("neuron labels are not unique")
        for name, m in (("W", self.W), ("U", self.U)):
            zero = next(((i, j) for i, j, w in m if w == 0), None)
            if zero is not None:
                raise CompileError(
                    f"{name} holds an explicit zero weight at (row, column) {zero}: a sparse triple must be nonzero"
                )

    # ------------------------------------------------------------ basic views

    @property
    def size(self) -> int:
        """The number of neurons (input lines not counted)."""
        return len(self.labels)

    def index(self, label: str) -> int:
        """The index of neuron ``label``; :class:`KeyError` names the label if it does not exist."""
        try:
            return self._index[label]
        except KeyError:
            raise KeyError(f"no neuron {label!r} in this network") from None

    @property
    def nonzeros(self) -> int:
        """Nonzero weights and biases."""
        return len(self.W) + len(self.U) + sum(1 for x in self.b if x != 0)

    def rows(self) -> list[list[tuple[int, Fraction]]]:
        """``W`` as one list of ``(column, weight)`` per neuron."""
        out: list[list[tuple[int, Fraction]]] = [[] for _ in self.labels]
        for i, j, w in self.W:
            out[i].append((j, w))
        return out

    def input_rows(self) -> list[list[tuple[int, Fraction]]]:
        """``U`` as one list of ``(input line, weight)`` per neuron."""
        out: list[list[tuple[int, Fraction]]] = [[] for _ in self.labels]
        for i, j, w in self.U:
            out[i].append((j, w))
        return out

    def info(self) -> dict[str, Any]:
        """Neurons by role, nonzeros, ticks per step, and where the network came from."""
        by_role: dict[str, int] = {}
        for r in self.roles:
            by_role[r] = by_role.get(r, 0) + 1
        return {
            "machine": getattr(self.machine, "name", ""),
            "construction": self.construction,
            "input_mode": self.input_mode,
            "neurons": self.size,
            "input_lines": len(self.inputs),
            "ticks_per_step": self.ticks_per_step,
            "nonzeros": self.nonzeros,
            "roles": dict(sorted(by_role.items())),
            "fingerprint": self.fingerprint(),
        }

    # ------------------------------------------------------------ the reference step

    def tick(
        self, values: Mapping[str, Fraction], inputs: Mapping[str, Fraction | int] | None = None
    ) -> dict[str, Fraction]:
        """One exact tick from neuron values by label (missing labels are 0); slow and obviously correct."""
        x = [Fraction(values.get(label, 0)) for label in self.labels]
        u = [Fraction((inputs or {}).get(line, 0)) for line in self.inputs]
        z = list(self.b)
        for i, j, w in self.W:
            z[i] += w * x[j]
        for i, j, w in self.U:
            z[i] += w * u[j]
        return {label: sigma(zi) for label, zi in zip(self.labels, z, strict=True)}

    # ------------------------------------------------------------ other views

    def as_float(self, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense ``(W, U, b)`` as float arrays (read-only)."""
        n = self.size
        W = np.zeros((n, n), dtype=dtype)
        U = np.zeros((n, len(self.inputs)), dtype=dtype)
        for i, j, w in self.W:
            W[i, j] = float(w)
        for i, j, w in self.U:
            U[i, j] = float(w)
        b = np.array([float(x) for x in self.b], dtype=dtype)
        for a in (W, U, b):
            a.setflags(write=False)
        return W, U, b

    def as_sympy(self) -> tuple[Any, Any, Any]:
        """``(W, U, b)`` as sympy matrices of exact rationals."""
        import sympy

        n = self.size
        W = sympy.zeros(n, n)
        U = sympy.zeros(n, len(self.inputs))
        for i, j, w in self.W:
            W[i, j] = sympy.Rational(w.numerator, w.denominator)
        for i, j, w in self.U:
            U[i, j] = sympy.Rational(w.numerator, w.denominator)
        b = sympy.Matrix([sympy.Rational(x.numerator, x.denominator) for x in self.b])
        return W, U, b

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph``: neurons and input lines are nodes, weights are edges ``j -> i``."""
        import networkx as nx

        g = nx.DiGraph(construction=self.construction, ticks_per_step=self.ticks_per_step)
        for label, role, bias, ph, binary in zip(self.labels, self.roles, self.b, self.phase, self.binary, strict=True):
            g.add_node(label, label=label, role=role, bias=str(bias), phase=ph, binary=binary)
        for line in self.inputs:
            g.add_node(line, label=line, role="input", bias="0", phase=-1, binary=True)
        for i, j, w in self.W:
            g.add_edge(self.labels[j], self.labels[i], weight=str(w), value=float(w))
        for i, j, w in self.U:
            g.add_edge(self.inputs[j], self.labels[i], weight=str(w), value=float(w))
        return g

    def to_graphml(self, path: str | Path) -> None:
        """Write the graph of :meth:`to_networkx` as GraphML."""
        import networkx as nx

        nx.write_graphml(self.to_networkx(), str(path))

    def to_dot(self) -> str:
        """The graph as Graphviz DOT text (weights as exact fractions)."""
        lines = [f'digraph "{self.construction}" {{', "  rankdir=LR;"]
        for label, role in zip(self.labels, self.roles, strict=True):
            lines.append(f'  "{label}" [shape={"box" if role in ("tape", "stack", "copy") else "ellipse"}];')
        for line in self.inputs:
            lines.append(f'  "{line}" [shape=plaintext];')
        for i, j, w in self.W:
            lines.append(f'  "{self.labels[j]}" -> "{self.labels[i]}" [label="{w}"];')
        for i, j, w in self.U:
            lines.append(f'  "{self.inputs[j]}" -> "{self.labels[i]}" [label="{w}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ save and load

    def _meta(self) -> dict[str, Any]:
        from ..machines.parsing import dump_toml

        return self._run_meta() | {"machine_toml": dump_toml(self.machine) if self.machine is not None else None}

    def _run_meta(self) -> dict[str, Any]:
        """The metadata the engines read: all but the machine (the readout carries what they need of it)."""
        return {
            "format_version": FORMAT_VERSION,
            "ticks_per_step": self.ticks_per_step,
            "readout": self.readout.to_json(),
            "preload": self.preload.to_json() if self.preload else None,
            "stream_latency": self.stream_latency,
            "construction": self.construction,
            "input_mode": self.input_mode,
        }

    def _start_meta(self) -> dict[str, Any]:
        """A streamed network's start preload (not fingerprinted: the machine and construction fix it)."""
        start = self.readout.start_preload
        return {"start_preload": start.to_json()} if start is not None and self.preload is None else {}

    def _digest(self, meta: dict[str, Any]) -> str:
        h = hashlib.sha256()
        for part in (
            self.labels,
            self.roles,
            self.binary,
            self.phase,
            [(i, j, str(w)) for i, j, w in self.W],
            [(i, j, str(w)) for i, j, w in self.U],
            [str(x) for x in self.b],
            self.inputs,
        ):
            h.update(json.dumps(part, default=list).encode())
        h.update(json.dumps(meta, sort_keys=True).encode())
        return h.hexdigest()

    def fingerprint(self) -> str:
        """A SHA-256 over the exact weights, labels and metadata: equal networks have equal fingerprints."""
        return self._digest(self._meta())

    def engine_key(self) -> str:
        """A SHA-256 over what the engines read: the weights, labels, metadata and the readout's action table.

        Unlike :meth:`fingerprint` it does not hash the machine itself, only what the
        readout carries of it, so that engines cache their kernels without reading the machine.
        """
        actions = sorted((code, int(action)) for code, action in self.readout.actions.items())
        return self._digest(self._run_meta() | {"actions": actions})

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` with labels, exact weights (numerators and denominators) and metadata."""
        from .netfile import save_network

        save_network(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a network written by :meth:`save`; :class:`NetworkFileError` if it is corrupted or mismatched."""
        from .netfile import load_network

        return load_network(path, cls)

    def with_machine(self, machine: Any) -> Network:
        """The same network with another machine attached (used by tests of mismatches)."""
        return replace(self, machine=machine)


# ---------------------------------------------------------------- building


@dataclass
class _Neuron:
    label: str
    role: str
    binary: bool
    phase: int
    bias: Fraction
    inputs: dict[str, Fraction]
    lines: dict[str, Fraction]


class NetworkBuilder:
    """Collects named neurons and their weights, then builds a :class:`Network`.

    Neurons may refer to neurons declared later (the network is recurrent);
    :meth:`build` resolves labels and raises :class:`CompileError` for unknown
    ones. Neurons keep the order in which they are declared, so a deterministic
    compiler gives bit-identical networks.
    """

    def __init__(self) -> None:
        self._neurons: dict[str, _Neuron] = {}
        self._lines: list[str] = []

    def line(self, label: str) -> str:
        """Declare an input line (idempotent)."""
        if label not in self._lines:
            self._lines.append(label)
        return label

    def neuron(
        self,
        label: str,
        *,
        role: str,
        inputs: Mapping[str, Fraction | int] | Linear | None = None,
        bias: Fraction | int = 0,
        lines: Mapping[str, Fraction | int] | None = None,
        binary: bool = False,
        phase: int = -1,
    ) -> str:
        """Declare neuron ``label`` computing ``sigma(sum(w * input) + bias + sum(w * line))``.

        ``inputs`` may be a :class:`Linear`, whose constant is added to the bias.
        """
        if label in self._neurons:
            raise CompileError(f"neuron {label!r} is declared twice")
        if isinstance(inputs, Linear):
            bias = Fraction(bias) + inputs.const
            weights = dict(inputs.terms)
        else:
            weights = {k: Fraction(v) for k, v in (inputs or {}).items()}
        for k in lines or {}:
            self.line(k)
        self._neurons[label] = _Neuron(
            label=label,
            role=role,
            binary=binary,
            phase=phase,
            bias=Fraction(bias),
            inputs={k: v for k, v in weights.items() if v != 0},
            lines={k: Fraction(v) for k, v in (lines or {}).items() if v != 0},
        )
        return label

    def __contains__(self, label: str) -> bool:
        return label in self._neurons

    def build(self, *, ticks_per_step: int, readout: Readout | None = None, **fields: Any) -> Network:
        """Resolve labels and return the :class:`Network`."""
        labels = tuple(self._neurons)
        index = {label: i for i, label in enumerate(labels)}
        lines = tuple(self._lines)
        line_index = {label: i for i, label in enumerate(lines)}
        W, U = [], []
        for i, n in enumerate(self._neurons.values()):
            for src, w in n.inputs.items():
                if src not in index:
                    raise CompileError(f"neuron {n.label!r} reads {src!r}, which is not a neuron")
                W.append((i, index[src], w))
            for src, w in n.lines.items():
                U.append((i, line_index[src], w))
        return Network(
            labels=labels,
            roles=tuple(n.role for n in self._neurons.values()),
            binary=tuple(n.binary for n in self._neurons.values()),
            phase=tuple(n.phase for n in self._neurons.values()),
            W=tuple(sorted(W)),
            U=tuple(sorted(U)),
            b=tuple(n.bias for n in self._neurons.values()),
            inputs=lines,
            ticks_per_step=ticks_per_step,
            readout=readout if readout is not None else Readout(kind="stack", state_code=Linear(), state_table=()),
            **fields,
        )


@dataclass(frozen=True)
class Built:
    """What a construction builds, before the compiler adds an input loader and resolves the labels.

    Attributes:
        builder: the named neurons and their weights.
        readout: how the engines read a configuration back from the neuron values.
        preload: the start values for a preloaded word.
        ticks_per_step: the network updates per machine step.
    """

    builder: NetworkBuilder
    readout: Readout
    preload: Preload
    ticks_per_step: int
