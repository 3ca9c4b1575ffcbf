"""The bbchallenge standard text format of Turing machines.

``1RB1LB_1LA---``: one ``_``-separated group per state (``A``, ``B``, ...),
three characters per read symbol (written symbol, move, next state); ``---``
is an undefined transition, and a next state ``Z`` or ``H`` beyond the
defined states is a halting state. :func:`parse_bbchallenge` reads it,
:func:`dump_bbchallenge` writes it. Also importable from
:mod:`turingrnn.machines.parsing`.
"""

from __future__ import annotations

import re

from ..errors import ParseError, SpecError
from .model import TMRule, TuringMachine

_BB_GROUPS = re.compile(r"^[0-9A-Za-z\-]+(_[0-9A-Za-z\-]+)*$")
_HALT_LETTERS = ("Z", "H")


def looks_like_bbchallenge(text: str) -> bool:
    """Whether ``text`` has the shape of a bbchallenge string (groups joined by ``_``)."""
    return bool(_BB_GROUPS.match(text)) and ("_" in text or len(text) % 3 == 0) and any(c in "LR-" for c in text)


def parse_bbchallenge(text: str) -> TuringMachine:
    """Read a bbchallenge standard string such as ``1RB1LB_1LA---``.

    States are ``A``, ``B``, ... (one ``_``-separated group each); symbols are
    ``0 .. k-1`` with blank ``0``, where ``3k`` is the group length. ``---``
    is an undefined transition (the machine halts there). A next state ``Z``
    or ``H`` beyond the defined states is a halting state.

    >>> tm = parse_bbchallenge("1RB1LB_1LA1RZ")
    >>> tm.states, tm.symbols, sorted(tm.halt)
    (('A', 'B', 'Z'), ('0', '1'), ['Z'])
    """
    where = "<bbchallenge>"
    if not isinstance(text, str):
        raise ParseError(f"a bbchallenge machine is a string, got {type(text).__name__}")
    text = text.strip()
    groups = text.split("_")
    n = len(groups)
    if not text:
        raise ParseError(f"{where}: empty string; expected groups like '1RB1LB_1LA---'")
    k, rem = divmod(len(groups[0]), 3)
    if rem or k < 2:
        raise ParseError(
            f"{where}:1:1: group 1 {groups[0]!r} has {len(groups[0])} characters; "
            "a group has 3 characters per symbol and at least 2 symbols"
        )
    if k > 10:
        raise ParseError(f"{where}:1:1: {k} symbols per group; the bbchallenge format allows 2 to 10 (digits 0-9)")
    if n > 26:
        raise ParseError(f"{where}: {n} states; state letters allow at most 26")
    letters = [chr(ord("A") + i) for i in range(n)]
    problems: list[str] = []
    rules = []
    halts: set[str] = set()
    column = 1
    for i, g in enumerate(groups):
        if len(g) != 3 * k:
            problems.append(
                f"{where}:1:{column}: group {i + 1} {g!r} has {len(g)} characters; expected {3 * k} "
                f"(3 per symbol, {k} symbols as in group 1)"
            )
            column += len(g) + 1
            continue
        for j in range(k):
            cell = g[3 * j : 3 * j + 3]
            col = column + 3 * j
            if cell == "---":
                continue
            write, move, nxt = cell[0], cell[1], cell[2]
            bad = []
            if write not in "0123456789"[:k]:
                bad.append(f"written symbol {write!r} is not one of 0-{k - 1}")
            if move not in "LR":
                bad.append(f"move {move!r} is not 'L' or 'R'")
            if nxt not in letters:
                if nxt in _HALT_LETTERS:
                    halts.add(nxt)
                else:
                    bad.append(f"next state {nxt!r} is not one of {letters[0]}-{letters[-1]}, 'Z' or 'H'")
            if bad:
                problems.append(
                    f"{where}:1:{col}: transition {cell!r} (state {letters[i]}, read {j}): " + "; ".join(bad)
                )
                continue
            rules.append(TMRule(state=letters[i], read=str(j), write=write, move=move, next=nxt))
        column += len(g) + 1
    if problems:
        first_column = int(problems[0].split(":")[2]) if problems[0].count(":") >= 3 else None
        raise ParseError(problems, file=where, line=1, column=first_column)
    return TuringMachine(
        name=text,
        states=tuple(letters) + tuple(sorted(halts)),
        symbols=tuple(str(j) for j in range(k)),
        blank="0",
        start="A",
        halt=frozenset(halts),
        rules=tuple(rules),
    )


def dump_bbchallenge(tm: TuringMachine) -> str:
    """Write ``tm`` as a bbchallenge string; raise :class:`SpecError` if it cannot be expressed."""
    if not isinstance(tm, TuringMachine):
        raise SpecError(f"only Turing machines have a bbchallenge form, not {type(tm).__name__}")
    k = len(tm.symbols)
    reasons = []
    if tm.symbols != tuple(str(j) for j in range(k)) or tm.blank != "0" or not 2 <= k <= 10:
        reasons.append(f"symbols must be '0'..'{k - 1}' with blank '0', got {tm.symbols} with blank {tm.blank!r}")
    working = [s for s in tm.states if s not in tm.halting_states]
    letters = [chr(ord("A") + i) for i in range(len(working))]
    if working != letters or tm.start != "A":
        reasons.append(f"non-halting states must be A, B, C, ... in order with start 'A', got {working}")
    for s in tm.halting_states:
        if s not in _HALT_LETTERS or s in letters:
            reasons.append(f"halting state {s!r} must be 'Z' or 'H'")
    if tm.accept or tm.reject:
        reasons.append("accepting and rejecting states have no bbchallenge form")
    if any(r.move == "S" for r in tm.rules):
        reasons.append("the stay move 'S' has no bbchallenge form")
    if reasons:
        raise SpecError([f"machine {tm.name!r} cannot be written in bbchallenge form: {r}" for r in reasons])
    groups = []
    for s in working:
        cells = []
        for a in tm.symbols:
            r = tm.rule(s, a)
            cells.append("---" if r is None else f"{r.write}{r.move}{r.next}")
        groups.append("".join(cells))
    return "_".join(groups)
