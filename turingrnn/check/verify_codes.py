"""Lockstep verification by codes: a Turing machine's half-tapes compared as fixed-point integers.

:func:`~turingrnn.check.verify.verify` compares configurations, decoding every half-tape
from its code at every step: one big-integer ``divmod`` per cell, so a step costs time
quadratic in the tape's length (BB(5) would take hours). For a Turing machine whose
readout is of kind ``tape`` this module compares codes instead, with the same verdict:

* the interpreter's half-tapes are kept as codes over the network's own fixed-point scale
  ``S`` (an integer ``E`` per half-tape, the code being ``E / S``), updated at each step
  from the rule the reference interpreter applies: a pop is ``E = B E - d S``, a push
  ``E = (d S + E) / B`` (exact, or the network's scale cannot hold the code: a mismatch);
* at every readout the network's code ``sum(c_i X_i)`` (its neurons' fixed-point integers)
  must equal ``E``, and its state code the interpreter's state: both equalities of
  integers, each linear in the tape's length;
* every :data:`~turingrnn.check.verify.CHUNK_STEPS` steps, and at the end, the decoded
  configurations are compared too, which anchors the codes to the interpreter's words.

A code determines its word (trailing blanks aside, which configurations ignore too), so
equal codes and states at every step are equal configurations at every step.
"""

from __future__ import annotations

from typing import Any

from ..compile.encoding import base_of, digit_of, encode_word
from ..compile.network import Network
from ..errors import DecodeError
from ..machines.interpreter import _start as start_run
from ..machines.interpreter import _TMRun
from ..machines.model import TuringMachine


def eligible(net: Network) -> bool:
    """Whether ``net``'s readout can be compared by codes: a Turing machine's two half-tapes, integer weights."""
    readout = net.readout
    if not isinstance(net.machine, TuringMachine) or readout.kind != "tape":
        return False
    names = {s.name for s in readout.stacks}
    linears = [s.value for s in readout.stacks] + [readout.state_code]
    binary = dict(zip(net.labels, net.binary, strict=True))
    state_binary = all(binary.get(label, False) for label, _ in readout.state_code.terms)
    integral = all(c.denominator == 1 for lin in linears for _, c in lin.terms) and all(
        not lin.const for lin in linears
    )
    return names == {"L", "R"} and state_binary and integral and all(s.kind == "tape" for s in readout.stacks)


class _CodeMismatch(Exception):  # noqa: N818 - an internal signal, turned into a Mismatch by verify
    """The first step where a code or the state differs (internal: turned into a Mismatch by the caller)."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(what)
        self.step, self.what = step, what


class CodeRun:
    """The interpreter stepped beside the network, with its half-tapes as codes over the network's scale."""

    def __init__(self, net: Network, word: str, head: int) -> None:
        self.net, self.tm = net, net.machine
        run = start_run(self.tm, word, head, None)
        assert isinstance(run, _TMRun)  # eligible(): a Turing machine
        self.run = run
        index = {label: i for i, label in enumerate(net.labels)}
        readout = net.readout
        self.stacks = {s.name: [(index[k], int(c)) for k, c in s.value.terms] for s in readout.stacks}
        tape = next(s for s in readout.stacks if s.name == "R")
        self.base = base_of(tape.alphabet)
        self.digit = {a: digit_of(i, "tape") for i, a in enumerate(tape.alphabet)}
        self.state_terms = [(index[k], int(c)) for k, c in readout.state_code.terms]
        self.states = dict(readout.state_table)
        self.undefined = set(readout.undefined_codes)
        _, words = readout.initial(word, head)
        self.codes = {name: encode_word(words[name], tape.alphabet, "tape") for name in ("L", "R")}
        self.E: dict[str, int] | None = None
        self._pending: tuple[Any, str, str] | None = None
        self.S = 0

    def _network_state(self, row: tuple[int, ...]) -> str | None:
        code = sum(c * row[i] for i, c in self.state_terms)
        if code in self.undefined:
            return None
        return self.states.get(code, f"<state code {code}>")

    def _push(self, name: str, symbol: str, step: int) -> None:
        assert self.E is not None
        total = self.digit[symbol] * self.S + self.E[name]
        if total % self.base:
            raise _CodeMismatch(step, f"half-tape {name}: the code after a push needs a finer scale than the network's")
        self.E[name] = total // self.base

    def _pop(self, name: str, symbol: str) -> None:
        assert self.E is not None
        self.E[name] = self.base * self.E[name] - self.digit[symbol] * self.S

    def advance(self) -> None:
        """Apply the rule the interpreter takes now to the codes, then take the interpreter's step."""
        r = self.run
        read = r.cells[r.head]
        rule = self.tm.rule(r.state, read)
        self._pending = None if rule is None else (rule, read, r.cells[r.head - 1] if r.head > 0 else self.tm.blank)
        if rule is not None:
            r.step()

    def _apply(self, step: int) -> None:
        if self._pending is None:  # a missing transition: the interpreter's configuration stays as it was
            return
        rule, read, left = self._pending
        self._pop("R", read)
        if rule.move == "R":
            self._push("L", rule.write, step)
        elif rule.move == "L":
            self._pop("L", left)
            self._push("R", rule.write, step)
            self._push("R", left, step)
        else:
            self._push("R", rule.write, step)

    def check(self, step: int, S: int, row: tuple[int, ...], stepped: bool) -> None:
        """Compare the network's readout ``row`` (scale ``S``) at ``step`` with the interpreter there."""
        if self.E is None:
            self.S = S
            self.E = {}
            for name, code in self.codes.items():
                scaled = code * S
                if scaled.denominator != 1:
                    raise _CodeMismatch(
                        step, f"half-tape {name}: the start code needs a finer scale than the network's"
                    )
                self.E[name] = int(scaled)
        else:
            if S != self.S:  # the scale grew, or a resumed chunk started from its own: the codes move to it
                moved = {name: e * S for name, e in self.E.items()}
                if any(m % self.S for m in moved.values()):
                    raise _CodeMismatch(step, f"a half-tape's code does not fit the network's new scale {S}")
                self.E = {name: m // self.S for name, m in moved.items()}
                self.S = S
            if stepped:
                self._apply(step)
        state = self._network_state(row)
        if state != self.run.state:
            raise _CodeMismatch(step, f"state {state}, the interpreter's {self.run.state}")
        for name, terms in self.stacks.items():
            if sum(c * row[i] for i, c in terms) != self.E[name]:
                raise _CodeMismatch(step, f"half-tape {name}'s code differs")

    def configuration(self) -> Any:
        """The interpreter's configuration now."""
        return self.run.configuration()


def network_configuration(trace: Any, k: int) -> str:
    """The network's configuration at chunk step ``k``, as text (or why it does not decode)."""
    try:
        return str(trace.configuration(k))
    except DecodeError as e:
        return f"no configuration ({e})"


CodeSignal = _CodeMismatch
"""What :meth:`CodeRun.check` raises at the first difference (``step`` and ``what``)."""
