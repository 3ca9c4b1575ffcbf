"""Writing machines as text: the TOML format, and :func:`dump` for either format.

``loads_toml(dump_toml(m)) == m`` for every valid machine ``m``; a Turing
machine whose table has a bbchallenge form is written with the
``bbchallenge`` key. Also importable from :mod:`turingrnn.machines.parsing`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ParseError, SpecError
from .bbchallenge import dump_bbchallenge, parse_bbchallenge
from .model import ANY, NOOP, Machine, TMRule, TuringMachine
from .toml_read import _TM_RULE_KEYS


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def dump_toml(machine: Machine) -> str:
    """Write ``machine`` in the TOML schema; :func:`loads_toml` reads it back equal."""
    lines = [f"kind = {_toml_str(machine.kind)}"]
    if machine.name:
        lines.append(f"name = {_toml_str(machine.name)}")
    if machine.description:
        d = machine.description
        multiline_ok = "'''" not in d and not d.endswith("'") and all(c == "\n" or c.isprintable() for c in d)
        if "\n" in d and multiline_ok:
            lines.append(f"description = '''\n{d}'''")
        else:
            lines.append(f"description = {_toml_str(d)}")
    bb = _bbchallenge_or_none(machine)
    if bb is not None:
        lines.append(f"bbchallenge = {_toml_str(bb)}")
    elif isinstance(machine, TuringMachine):
        lines.append(f"symbols = {_toml_value(machine.symbols)}")
        lines.append(f"blank = {_toml_str(machine.blank)}")
    else:
        lines.append(f"stacks = {_toml_value({n: list(a) for n, a in machine.stacks})}")
        if machine.input_stack is not None:
            lines.append(f"input_stack = {_toml_str(machine.input_stack)}")
    if bb is None:
        _dump_table(machine, lines)
    _dump_examples(machine, lines)
    return "\n".join(lines) + "\n"


def _bbchallenge_or_none(machine: Machine) -> str | None:
    """The bbchallenge string of ``machine`` if parsing it gives back the same table."""
    if not isinstance(machine, TuringMachine):
        return None
    try:
        text = dump_bbchallenge(machine)
    except SpecError:
        return None
    same = parse_bbchallenge(text)
    return (
        text
        if dataclasses.replace(same, name=machine.name) == dataclasses.replace(machine, description="", examples=())
        else None
    )


def _dump_table(machine: Machine, lines: list[str]) -> None:
    lines.append(f"states = {_toml_value(machine.states)}")
    lines.append(f"start = {_toml_str(machine.start)}")
    for attr in ("accept", "reject", "halt"):
        values = [s for s in machine.states if s in getattr(machine, attr)]
        if values:
            lines.append(f"{attr} = {_toml_value(values)}")
    lines.append("transitions = [")
    for r in machine.rules:
        if isinstance(r, TMRule):
            row = {k: getattr(r, k) for k in _TM_RULE_KEYS}
        else:
            names = machine.stack_names  # type: ignore[union-attr]
            row = {
                "state": r.state,
                "read": {n: x for n, x in zip(names, r.read, strict=True) if x != ANY},
                "next": r.next,
                "ops": {n: str(op) for n, op in zip(names, r.ops, strict=True) if op != NOOP},
            }
        lines.append(f"  {_toml_value(row)},")
    lines.append("]")


def _dump_examples(machine: Machine, lines: list[str]) -> None:
    for ex in machine.examples:
        lines += ["", "[[examples]]", f"input = {_toml_str(ex.input)}"]
        if ex.head:
            lines.append(f"head = {ex.head}")
        if ex.max_steps is not None:
            lines.append(f"max_steps = {ex.max_steps}")
        expect: dict[str, Any] = {}
        for attr, key in (
            ("status", "status"),
            ("steps", "steps"),
            ("state", "state"),
            ("tape", "tape"),
            ("final_head", "head"),
            ("nonblank", "nonblank"),
        ):
            if getattr(ex, attr) is not None:
                expect[key] = getattr(ex, attr)
        if ex.stacks is not None:
            expect["stacks"] = dict(ex.stacks)
        lines.append(f"expect = {_toml_value(expect)}")


def dump(machine: Machine, format: str = "toml") -> str:  # noqa: A002
    """Write ``machine`` as ``"toml"`` or ``"bbchallenge"`` text."""
    if format == "toml":
        return dump_toml(machine)
    if format == "bbchallenge":
        return dump_bbchallenge(machine)  # type: ignore[arg-type]
    raise ParseError(f"unknown format {format!r}; allowed: 'toml', 'bbchallenge'")
