"""A small progress reporter for long runs, without third-party packages.

An engine calls its ``progress`` callback with a :class:`Progress` snapshot
every few thousand machine steps, and once more with ``done=True`` when the
run ends (halted, out of steps, or interrupted). :class:`ProgressBar` is the
callback behind ``progress=True``: it rewrites one line on ``stderr`` at most
``interval`` seconds apart, with the steps done, the depth (decimal digits of
the fixed-point scale) and the current speed.

>>> import io
>>> out = io.StringIO()
>>> bar = ProgressBar(stream=out, interval=0.0)
>>> bar(Progress(steps=2_000, max_steps=4_000, ticks=4_000, seconds=0.5, scale_digits=1234.7))
>>> bar(Progress(steps=4_000, max_steps=4_000, ticks=8_000, seconds=1.0, scale_digits=1234.7, done=True))
>>> print(out.getvalue().replace(chr(13), chr(10)).strip())
[##########----------]  50.0%  2,000/4,000 steps  depth 1,235 digits  4,000 steps/s  0:00:00
[####################] 100.0%  4,000/4,000 steps  depth 1,235 digits  4,000 steps/s  0:00:01  done
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running simulation.

    Attributes:
        steps: Machine steps done so far.
        max_steps: The run's step limit.
        ticks: Network ticks done so far.
        seconds: Wall-clock seconds since the run started.
        scale_digits: The depth: decimal digits of the fixed-point scale (the
            finest value the run can hold is ``10 ** -scale_digits``).
        done: Whether the run has ended (the last call).
        interrupted: Whether the run ended by a ``KeyboardInterrupt`` (Ctrl-C).
    """

    steps: int
    max_steps: int
    ticks: int
    seconds: float
    scale_digits: float
    done: bool = False
    interrupted: bool = False

    @property
    def steps_per_second(self) -> float:
        """The average speed since the start."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0


ProgressCallback = Callable[[Progress], None]
"""What ``run_exact(..., progress=...)`` accepts besides ``True``."""


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class ProgressBar:
    """Print :class:`Progress` snapshots as one line, rewritten in place, at most every ``interval`` seconds.

    The speed shown is the one since the previous line (the average on the
    last line). The last snapshot (``done=True``) is always printed, followed
    by a newline.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25, width: int = 20) -> None:
        self.stream = stream
        self.interval = interval
        self.width = width
        self._last: tuple[float, int] | None = None  # (seconds, steps) of the last line printed

    def __call__(self, p: Progress) -> None:
        """Print ``p`` unless the last line is younger than ``interval`` seconds (``done`` always prints)."""
        if self._last is not None and not p.done and p.seconds - self._last[0] < self.interval:
            return
        since, before = self._last or (0.0, 0)
        rate = p.steps_per_second if p.done or p.seconds <= since else (p.steps - before) / (p.seconds - since)
        self._last = (p.seconds, p.steps)
        frac = min(1.0, p.steps / p.max_steps) if p.max_steps > 0 else 1.0
        full = round(frac * self.width)
        end = ("  interrupted" if p.interrupted else "  done") if p.done else ""
        line = (
            f"[{'#' * full}{'-' * (self.width - full)}] {100 * frac:5.1f}%  {p.steps:,}/{p.max_steps:,} steps  "
            f"depth {p.scale_digits:,.0f} digits  {rate:,.0f} steps/s  {_clock(p.seconds)}{end}"
        )
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write("\r" + line + ("\n" if p.done else ""))
        stream.flush()


def monotonic() -> float:
    """The clock the engines use for :attr:`Progress.seconds`."""
    return time.perf_counter()
