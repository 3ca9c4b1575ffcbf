"""The certificate :func:`~turingrnn.check.prove.prove` returns: its cases, verdict, JSON view and report.

A :class:`Case` is one claim (a readout, the preload or the stream protocol, or
one step class) and whether it was shown; :func:`_run_case` turns a check that
returns or raises a :class:`~turingrnn.check.symbolic._Failure` into a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .symbolic import _Failed


@dataclass(frozen=True, kw_only=True)
class Case:
    """One claim of a certificate.

    Attributes:
        kind: ``readout`` (a state's encoding reads back), ``preload``, ``stream``
            (the input protocol), ``step`` (one configuration class) or ``budget``.
        configuration: The configuration class (or the stream situation).
        claim: What was shown (or was to be shown).
        ok: Whether it was shown.
        neuron: On failure, the neuron whose argument left its regime or whose value is wrong.
        tick: On failure, the tick (from the case's readout tick) where that happened.
        detail: On failure, why.
    """

    kind: str
    configuration: str
    claim: str
    ok: bool
    neuron: str | None = None
    tick: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class Certificate:
    """The result of :func:`prove`: every case, and whether all of them were shown.

    A certificate whose cases would exceed the budget holds no proved cases and is not ok.
    """

    machine: str
    construction: str
    input_mode: str
    neurons: int
    ticks_per_step: int
    cases: tuple[Case, ...]
    needed: int
    max_cases: int
    linear: int = 0
    saturated: int = 0
    seconds: float = 0.0

    @property
    def budget_exceeded(self) -> bool:
        """Whether the proof needed more cases than allowed (and was not attempted)."""
        return self.needed > self.max_cases

    @property
    def ok(self) -> bool:
        """Whether every case was shown (never true when the budget was exceeded)."""
        return not self.budget_exceeded and bool(self.cases) and all(c.ok for c in self.cases)

    @property
    def failures(self) -> tuple[Case, ...]:
        """The cases not shown."""
        return tuple(c for c in self.cases if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {
            "ok": self.ok,
            "machine": self.machine,
            "construction": self.construction,
            "input_mode": self.input_mode,
            "neurons": self.neurons,
            "ticks_per_step": self.ticks_per_step,
            "needed": self.needed,
            "max_cases": self.max_cases,
            "budget_exceeded": self.budget_exceeded,
            "linear": self.linear,
            "saturated": self.saturated,
            "seconds": round(self.seconds, 3),
            "cases": [c.to_dict() for c in self.cases],
        }

    def report(self, *, limit: int | None = None) -> str:
        """A human-readable report: the verdict, what it covers, then one line per case (``limit`` lines at most)."""
        head = (
            f"certificate for {self.machine!r}: construction {self.construction}, input {self.input_mode}, "
            f"{self.neurons} neurons, {self.ticks_per_step} ticks per step"
        )
        lines = [head]
        if self.budget_exceeded:
            lines.append(
                f"NOT PROVED: the proof needs {self.needed} cases, more than the budget of {self.max_cases} "
                "(raise --max-cases); nothing was checked"
            )
            return "\n".join(lines)
        failed = len(self.failures)
        verdict = "PROVED" if self.ok else f"NOT PROVED: {failed} of {len(self.cases)} cases fail"
        lines += [
            f"{verdict}: {len(self.cases)} cases, {self.linear} neuron updates in the linear regime and "
            f"{self.saturated} saturated, {self.seconds:.2f} s",
            "A class [a b|r_S] is a stack with a, b on top of the rest r_S (its code, over every word); "
            "[] is an empty stack.",
            "Each step case: from the class's encoding, one macro-step gives the successor's encoding "
            "for every value of the rests.",
        ]
        shown = sorted(self.cases, key=lambda c: c.ok)  # failures first
        for c in shown[:limit] if limit is not None else shown:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"{mark} {c.kind:<7} {c.configuration}: {c.claim}")
            if not c.ok:
                where = f"neuron {c.neuron}" if c.neuron else "readout"
                at = f" at tick {c.tick}" if c.tick is not None else ""
                lines.append(f"       {where}{at}: {c.detail}")
        if limit is not None and len(shown) > limit:
            lines.append(f"... {len(shown) - limit} more cases")
        return "\n".join(lines)


def _run_case(kind: str, configuration: str, claim: str, body: Any) -> Case:
    try:
        failure = body()
    except _Failed as e:
        failure = e.failure
    if failure is None:
        return Case(kind=kind, configuration=configuration, claim=claim, ok=True)
    return Case(
        kind=kind,
        configuration=configuration,
        claim=claim,
        ok=False,
        neuron=failure.neuron,
        tick=failure.tick,
        detail=failure.detail,
    )
