"""Pictures of a compiled network and its runs, for teaching: ``turingrnn plot orbit|activations|graph|depth``.

* :func:`orbit`: each stack's code over the ticks, on the Cantor set of its encoding (the
  intervals of the first digits drawn in), with each readout's top digit marked;
* :func:`activations`: a heatmap of every neuron's value over the ticks, labelled by neuron;
* :func:`graph`: the network drawn from :meth:`~turingrnn.compile.network.Network.to_networkx`,
  neurons grouped by role (Graphviz through networkx when pydot or pygraphviz is there, a
  networkx layout otherwise);
* :func:`depth`: each stack's depth and the significand bits it needs over the machine steps,
  with the float32 (24) and float64 (53) limits drawn in.

The values come from an exact run (:func:`turingrnn.engines.dispatch.run`); the figures are
drawn in floats. matplotlib is an optional extra (``pip install 'turingrnn[plot]'``); without it
each function raises :class:`PlotError` naming the extra.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .compile.encoding import base_of, decode_word, digit_of
from .compile.network import Network
from .engines.dispatch import run as run_engine
from .engines.trace import Trace
from .errors import PlotError

FLOAT_BITS = {"float32": 24, "float64": 53}
"""Significand bits of the float core's dtypes (the limits drawn by :func:`depth`)."""

KINDS = ("orbit", "activations", "graph", "depth")

MAX_LABELS = 150
"""The most neuron labels written beside an activations heatmap (a larger network shows every k-th)."""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or :class:`PlotError` naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise PlotError("pictures need matplotlib: pip install 'turingrnn[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _run(net: Network, word: str, head: int, max_steps: int, record: str) -> Trace:
    return run_engine(net, word, head=head, engine="exact", max_steps=max_steps, record=record)


def _stacks(net: Network) -> tuple[Any, ...]:
    if not net.readout.stacks:
        raise PlotError("the network's readout has no stack codes to draw")
    return tuple(net.readout.stacks)


def _save(fig: Any, path: str | Path) -> None:
    fig.savefig(str(path), dpi=110, bbox_inches="tight")
    pyplot().close(fig)


def orbit(net: Network, path: str | Path, word: str = "", *, head: int = 0, max_steps: int = 200) -> None:
    """Each stack's code at every tick on the Cantor set of its encoding, the readouts' top digits marked."""
    plt, stacks = pyplot(), _stacks(net)
    trace = _run(net, word, head, max_steps, "ticks")
    fig, axes = plt.subplots(len(stacks), 1, figsize=(9, 2.2 * len(stacks)), squeeze=False, sharex=True)
    ticks = range(trace.ticks + 1)
    readouts = [trace.readout_tick(k) for k in range(trace.steps + 1)]
    for ax, stack in zip(axes[:, 0], stacks, strict=True):
        base = base_of(stack.alphabet)
        digits = {digit_of(i, stack.kind): a for i, a in enumerate(stack.alphabet)}
        for d, symbol in digits.items():  # the first digit's interval and, inside it, the second digit's
            ax.axhspan(d / base, (d + 1) / base, color="0.9", zorder=0)
            ax.text(-0.5, (d + 0.5) / base, repr(symbol), ha="right", va="center", fontsize=8)
            for e in digits:
                low = d / base + e / base**2
                ax.axhspan(low, low + 1 / base**2, color="0.8", zorder=0)
        values = [float(stack.value.value(trace.values(t))) for t in ticks]
        ax.plot(list(ticks), values, color="0.5", linewidth=0.6, zorder=1)
        codes = [float(stack.value.value(trace.values(t))) for t in readouts]
        tops = [_top(stack.value.value(trace.values(t)), stack.alphabet, stack.kind) for t in readouts]
        ax.scatter(readouts, codes, s=12, color="C0", zorder=2)
        for t, code, top in zip(readouts, codes, tops, strict=True):
            ax.annotate(top, (t, code), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=6)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"{stack.name}\n(base {base}, {stack.kind})")
    axes[-1, 0].set_xlabel("tick (dots: readout ticks, with the top symbol)")
    fig.suptitle(f"{net.machine.name} on {word!r}: stack codes on the Cantor set ({net.construction})")
    _save(fig, path)


def _top(code: Any, alphabet: tuple[str, ...], kind: str) -> str:
    word = decode_word(code, alphabet, kind)
    return word[0] if word else ("ε" if kind == "stack" else alphabet[0])


def activations(net: Network, path: str | Path, word: str = "", *, head: int = 0, max_steps: int = 200) -> None:
    """A heatmap of every neuron's value at every tick, one row per neuron label."""
    plt = pyplot()
    trace = _run(net, word, head, max_steps, "ticks")
    labels = list(net.labels)
    rows = [[float(v) for v in trace[label]] for label in labels]
    shown = max(1, math.ceil(len(labels) / MAX_LABELS))  # every label up to MAX_LABELS, then every k-th
    fig, ax = plt.subplots(figsize=(min(4 + 0.08 * trace.ticks, 16), min(max(3.0, 0.16 * len(labels)), 24.0)))
    image = ax.imshow(rows, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(0, len(labels), shown))
    ax.set_yticklabels(labels[::shown], fontsize=max(3, min(8, 600 // min(len(labels), MAX_LABELS))))
    ax.set_xlabel("tick")
    fig.colorbar(image, ax=ax, label="value", fraction=0.03)
    ax.set_title(f"{net.machine.name} on {word!r}: {len(labels)} neurons, {trace.ticks} ticks ({net.construction})")
    _save(fig, path)


def graph(net: Network, path: str | Path) -> str:
    """The network graph, neurons grouped by role; returns the layout used (``graphviz`` or ``networkx``)."""
    import networkx as nx

    plt = pyplot()
    g = net.to_networkx()
    try:
        positions, layout = nx.nx_agraph.graphviz_layout(g, prog="dot"), "graphviz"
    except Exception:  # noqa: BLE001 - no pygraphviz (or no dot): try pydot, then a networkx layout
        try:
            positions, layout = nx.nx_pydot.graphviz_layout(g, prog="dot"), "graphviz"
        except Exception:  # noqa: BLE001
            positions, layout = _by_role(g), "networkx"
    roles = sorted({g.nodes[n].get("role", "input") for n in g.nodes})
    colours = {role: f"C{i % 10}" for i, role in enumerate(roles)}
    fig, ax = plt.subplots(figsize=(11, 7))
    nx.draw_networkx_edges(g, positions, ax=ax, arrows=True, arrowsize=6, width=0.4, edge_color="0.6")
    for role in roles:
        nodes = [n for n in g.nodes if g.nodes[n].get("role", "input") == role]
        nx.draw_networkx_nodes(g, positions, nodelist=nodes, node_size=60, node_color=colours[role], ax=ax, label=role)
    if g.number_of_nodes() <= 60:
        nx.draw_networkx_labels(g, positions, font_size=5, ax=ax)
    ax.legend(fontsize=7, loc="best", title="role")
    ax.set_title(f"{net.machine.name}: {net.size} neurons, {len(net.W)} weights ({net.construction}; {layout} layout)")
    ax.axis("off")
    _save(fig, path)
    return layout


def _by_role(g: Any) -> dict[str, tuple[float, float]]:
    """One column per role, the neurons of a role spread down it (a layout without Graphviz)."""
    columns: dict[str, list[str]] = {}
    for n in g.nodes:
        columns.setdefault(g.nodes[n].get("role", "input"), []).append(n)
    positions = {}
    for x, role in enumerate(sorted(columns, key=lambda r: (r != "input", r))):
        nodes = sorted(columns[role])
        for y, n in enumerate(nodes):
            positions[n] = (float(x), -(y + 0.5 * (x % 2)) / max(len(nodes), 1))
    return positions


def depth(net: Network, path: str | Path, word: str = "", *, head: int = 0, max_steps: int = 200) -> None:
    """Each stack's depth and the significand bits its code needs at every step, with float limits drawn in."""
    plt, stacks = pyplot(), _stacks(net)
    trace = _run(net, word, head, max_steps, "steps")
    steps = list(range(trace.steps + 1))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    need = [0.0] * len(steps)
    for i, stack in enumerate(stacks):
        per_symbol = math.log2(base_of(stack.alphabet))
        depths = [
            len(decode_word(stack.value.value(trace.values(trace.readout_tick(k))), stack.alphabet, stack.kind))
            for k in steps
        ]
        bits = [d * per_symbol for d in depths]
        need = [max(a, b) for a, b in zip(need, bits, strict=True)]
        top.step(steps, depths, where="post", label=stack.name, color=f"C{i % 10}")
        bottom.step(
            steps, bits, where="post", label=f"{stack.name}: {per_symbol:g} bits per symbol", color=f"C{i % 10}"
        )
    for name, bits_ in FLOAT_BITS.items():
        bottom.axhline(bits_, linestyle="--", color="k" if name == "float64" else "0.5", linewidth=0.8)
        bottom.text(steps[-1], bits_, f" {name} ({bits_} bits)", va="bottom", ha="right", fontsize=7)
    top.set_ylabel("depth (symbols)")
    bottom.set_ylabel("significand bits needed")
    bottom.set_xlabel("machine step")
    bottom.set_ylim(0, max(max(need) * 1.15, 60))
    top.legend(fontsize=7)
    bottom.legend(fontsize=7, loc="upper left")
    top.set_title(f"{net.machine.name} on {word!r}: depth and precision over time ({net.construction})")
    _save(fig, path)
