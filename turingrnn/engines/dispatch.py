"""The engine seam: one function runs a network on any engine, and a registry maps engine names to runners.

The contract (docs/simulation.md, "The engine contract"):

* :func:`~turingrnn.engines.inputs.prepare` gives the :class:`~turingrnn.engines.inputs.Start`
  of a run: ``x(0)``, the input lines at every tick, the first readout tick;
* a *runner* is called as ``runner(net, start, **options)`` and returns a
  :class:`~turingrnn.engines.trace.Trace` whose configurations are the
  machine's, up to ``diverged_at`` for an engine that rounds. Every runner
  takes ``max_steps`` and ``record`` (``"steps"`` or ``"final"``) and may take
  options of its own;
* a batch runner, if the engine has one, is called as ``batch(net, starts,
  **options)`` and returns one trace per start (the float core runs a batch
  over the cores at once);
* :func:`register` adds an engine under a name (:func:`unregister` removes it); :func:`run` and
  :func:`run_many` look it up.

>>> import turingrnn as tr
>>> net = tr.compile_machine(tr.load_machine("bb2"))
>>> [(name, run(net, "", engine=name).steps) for name in ENGINES]
[('exact', 6), ('float64', 6), ('float32', 6), ('mp', 6)]
>>> run(net, "", engine="fraction")
Traceback (most recent call last):
turingrnn.errors.InputError: unknown engine 'fraction'; engines are: exact, float64, float32, mp
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..compile.network import Network
from ..errors import InputError
from .inputs import Start, prepare
from .trace import Trace

Runner = Callable[..., Trace]
"""``runner(net, start, **options) -> Trace``."""

BatchRunner = Callable[..., list[Trace]]
"""``batch(net, starts, **options) -> list[Trace]``, one trace per start."""


@dataclass(frozen=True)
class Engine:
    """A registered engine: its runner, its batch runner (``None``: one run after another) and a summary."""

    name: str
    runner: Runner
    batch: BatchRunner | None = None
    summary: str = ""


_REGISTRY: dict[str, Engine] = {}


def register(name: str, runner: Runner, *, batch: BatchRunner | None = None, summary: str = "") -> Engine:
    """Add (or replace) the engine ``name``; :func:`run` then runs it. Returns the registered :class:`Engine`."""
    if not isinstance(name, str) or not name:
        raise InputError(f"an engine name is a nonempty string; got {name!r}")
    engine = Engine(name, runner, batch, summary)
    _REGISTRY[name] = engine
    return engine


def unregister(name: str) -> None:
    """Remove the engine ``name`` (:class:`InputError` if there is none)."""
    lookup(name)
    del _REGISTRY[name]


def engine_names() -> tuple[str, ...]:
    """The registered engines' names, in the order they were registered."""
    return tuple(_REGISTRY)


def lookup(name: str) -> Engine:
    """The engine registered as ``name``; :class:`InputError` names it and the engines there are."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown engine {name!r}; engines are: {', '.join(_REGISTRY)}") from None


def run(net: Network, word: str = "", *, head: int = 0, engine: str = "exact", **options: Any) -> Trace:
    """Run ``net`` on ``word`` on the engine ``engine``: its runner from :func:`~.inputs.prepare`'s start.

    ``options`` go to the runner: ``max_steps`` and ``record`` for every engine, and the engine's own
    (``exact``: ``max_digits``, ``max_memory``, ``progress``, ``kernel``; ``float64`` and ``float32``: ``kernel``;
    ``mp``: ``prec``, ``check_rounding``).
    """
    found = lookup(engine)
    return found.runner(net, prepare(net, word, head), **options)


def run_many(
    net: Network, words: Sequence[str], *, head: int = 0, engine: str = "exact", **options: Any
) -> list[Trace]:
    """Run ``net`` on every word of ``words`` (one trace each), in one batch where the engine has a batch runner."""
    lookup(engine)  # an unknown engine is refused before the words are read
    distinct = {word: prepare(net, word, head) for word in dict.fromkeys(words)}
    return run_starts(net, [distinct[word] for word in words], engine=engine, **options)


def run_starts(net: Network, starts: Sequence[Start], *, engine: str = "exact", **options: Any) -> list[Trace]:
    """Run ``net`` from every prepared start (one trace each), in one batch where the engine has a batch runner."""
    found = lookup(engine)
    if found.batch is not None:
        return found.batch(net, starts, **options) if starts else []
    return [found.runner(net, start, **options) for start in starts]


def run_chunks(
    net: Network,
    word: str = "",
    *,
    head: int = 0,
    chunk_steps: int,
    max_steps: int,
    **options: Any,
) -> Iterator[tuple[int, Trace]]:
    """Run ``net`` on the exact engine ``chunk_steps`` machine steps at a time: ``(steps before, chunk's trace)``.

    Each chunk starts from the exact values the previous one ended with (no re-encoding), so a run of
    any length holds one chunk of readouts at a time. A chunk's step 0 is the previous chunk's last step.
    The chunks end where the run ends: at a stop, at ``max_steps`` in all, or at an interrupt (Ctrl-C),
    whose chunk has ``info["interrupted"]``. ``options`` go to the exact runner (``record``, ``progress``, ...).
    Only the exact engine resumes exactly, so it is the only one here.
    """
    from .inputs import no_inputs

    if not isinstance(chunk_steps, int) or chunk_steps < 1:
        raise InputError(f"chunk_steps must be an integer >= 1; got {chunk_steps!r}")
    runner = lookup("exact").runner
    start, offset = prepare(net, word, head), 0
    while True:
        trace = runner(net, start, max_steps=min(chunk_steps, max_steps - offset), **options)
        yield offset, trace
        offset += trace.steps
        if trace.stop is not None or offset >= max_steps or trace.steps == 0 or trace.info.get("interrupted"):
            return
        last = trace.values(trace.readout_tick(trace.steps))
        start = Start(word, head, tuple(last(label) for label in net.labels), no_inputs(net), 0, -1)


# ---------------------------------------------------------------- the engines of this package


def _exact(net: Network, start: Start, **options: Any) -> Trace:
    from .exact import run_start

    return run_start(net, start, **options)


def _float(dtype: str) -> tuple[Runner, BatchRunner]:
    def batch(net: Network, starts: Sequence[Start], **options: Any) -> list[Trace]:
        from .fast import run_starts

        return run_starts(net, starts, dtype=dtype, **options)

    def one(net: Network, start: Start, **options: Any) -> Trace:
        return batch(net, [start], **options)[0]

    return one, batch


def _mp(net: Network, start: Start, **options: Any) -> Trace:
    from .mp import run_start

    return run_start(net, start, **options)


register("exact", _exact, summary="exact rational arithmetic (the oracle)")
for _dtype in ("float64", "float32"):
    _one, _batch = _float(_dtype)
    register(_dtype, _one, batch=_batch, summary=f"the Numba float core in {_dtype}, with certified error bounds")
register("mp", _mp, summary="mpmath binary floating point of prec significand bits")

ENGINES = engine_names()
"""The engines of this package: ``exact``, ``float64``, ``float32`` and ``mp`` (see :func:`engine_names`)."""
