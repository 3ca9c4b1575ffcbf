"""Machine formats: TOML files, bbchallenge strings, bundled constructions.

* :func:`load_machine` takes a TOML path, a bundled construction name or a
  bbchallenge string and returns a validated machine.
* :func:`loads_toml` / :func:`dump_toml` read and write the TOML schema
  described in ``constructions/README.md``; ``loads_toml(dump_toml(m)) == m``.
* :func:`parse_bbchallenge` / :func:`dump_bbchallenge` read and write the
  bbchallenge standard text format (``1RB1LB_1LA---``, or with a ``Z``/``H``
  halt state).

Errors are :class:`~turingrnn.errors.ParseError` (malformed input) or the
machine's own :class:`~turingrnn.errors.SpecError`, with every problem
prefixed by ``file:line:column`` where it can be located.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ParseError, SpecError, UnknownMachineError, locate
from .model import (
    ANY,
    NOOP,
    Example,
    Machine,
    StackMachine,
    StackOp,
    StackRule,
    TMRule,
    TuringMachine,
)

# ---------------------------------------------------------------- bbchallenge

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


# ---------------------------------------------------------------- TOML

_TOP_KEYS = {
    "tm": (
        "kind",
        "name",
        "description",
        "symbols",
        "blank",
        "states",
        "start",
        "accept",
        "reject",
        "halt",
        "transitions",
        "bbchallenge",
        "examples",
    ),
    "stack": (
        "kind",
        "name",
        "description",
        "stacks",
        "input_stack",
        "states",
        "start",
        "accept",
        "reject",
        "halt",
        "transitions",
        "examples",
    ),
}
_TM_RULE_KEYS = ("state", "read", "write", "move", "next")
_STACK_RULE_KEYS = ("state", "read", "next", "ops")
_EXAMPLE_KEYS = ("input", "head", "max_steps", "expect")
_EXPECT_KEYS = {
    "tm": ("status", "steps", "state", "tape", "head", "nonblank"),
    "stack": ("status", "steps", "state", "stacks"),
}


class _Locator:
    """Finds the line and column of a key or of the i-th transition in TOML text (best effort)."""

    def __init__(self, text: str, file: str | None) -> None:
        self.text = text
        self.file = file

    def _position(self, offset: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column

    def key(self, name: str) -> tuple[int | None, int | None]:
        m = re.search(rf"^[ \t]*{re.escape(name)}[ \t]*=", self.text, re.MULTILINE)
        return self._position(m.start() + len(m.group(0)) - len(m.group(0).lstrip())) if m else (None, None)

    def item(self, array: str, index: int) -> tuple[int | None, int | None]:
        header = list(re.finditer(rf"^[ \t]*\[\[[ \t]*{array}[ \t]*\]\]", self.text, re.MULTILINE))
        if header:
            return self._position(header[index].start()) if index < len(header) else (None, None)
        m = re.search(rf"^[ \t]*{array}[ \t]*=[ \t]*\[", self.text, re.MULTILINE)
        if not m:
            return None, None
        # inline tables at depth 1 of the array, counted by brace depth
        depth, count, i = 0, -1, m.end()
        in_str: str | None = None
        while i < len(self.text):
            c = self.text[i]
            if in_str:
                if c == "\\" and in_str == '"':
                    i += 1
                elif c == in_str:
                    in_str = None
            elif c in "\"'":
                in_str = c
            elif c == "#":
                j = self.text.find("\n", i)
                i = len(self.text) if j < 0 else j
                continue
            elif c == "{":
                if depth == 0:
                    count += 1
                    if count == index:
                        return self._position(i)
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "]" and depth == 0:
                break
            i += 1
        return None, None

    def prefix(self, pos: tuple[int | None, int | None]) -> str:
        return locate(self.file, *pos)

    def for_problem(self, problem: str) -> tuple[int | None, int | None]:
        m = re.match(r"transitions? (\d+)", problem)
        if m:
            return self.item("transitions", int(m.group(1)))
        for key in ("start", "blank", "accept", "reject", "halt", "input_stack", "symbols", "states", "stacks"):
            if problem.startswith(key) or f"'{key}'" in problem or problem.startswith(key.replace("_", " ")):
                return self.key(key)
        return None, None


def _type_name(value: object) -> str:
    return {
        str: "a string",
        int: "an integer",
        list: "an array",
        dict: "a table",
        bool: "a boolean",
        float: "a float",
    }.get(type(value), type(value).__name__)


class _Reader:
    """Checks the shape of a parsed TOML document, collecting every problem."""

    def __init__(self, loc: _Locator) -> None:
        self.loc = loc
        self.problems: list[str] = []

    def problem(self, pos: tuple[int | None, int | None], message: str) -> None:
        prefix = self.loc.prefix(pos)
        self.problems.append(f"{prefix}: {message}" if prefix else message)

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], what: str, pos) -> None:
        for key in table:
            if key not in allowed:
                self.problem(pos, f"unknown key {key!r} in {what}; allowed keys: {', '.join(allowed)}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        what: str,
        pos,
        default: Any = ...,
        convert: Callable[[Any], Any] | None = None,
    ) -> Any:
        if key not in table:
            if default is ...:
                self.problem(pos, f"{what} is missing the required key {key!r}")
            return None if default is ... else default
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            names = " or ".join(_type_name(k()) for k in (kind if isinstance(kind, tuple) else (kind,)))
            self.problem(pos, f"{what}: {key!r} must be {names}, got {value!r}")
            return None if default is ... else default
        return convert(value) if convert else value

    def names(self, table: Mapping[str, Any], key: str, what: str, pos, default: Any = ...) -> Any:
        value = self.get(table, key, list, what, pos, default)
        if value is None:
            return None
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            self.problem(pos, f"{what}: {key!r} must be an array of strings, got {bad[0]!r}")
            return None
        return tuple(value)


def _tables(
    rd: _Reader, raw: Any, array: str, noun: str
) -> Iterator[tuple[int, tuple[int | None, int | None], str, dict[str, Any]]]:
    """The tables of a TOML array with their index, position and name; other items are reported."""
    for i, item in enumerate(raw or []):
        pos = rd.loc.item(array, i)
        what = f"{noun} {i}"
        if not isinstance(item, dict):
            rd.problem(pos, f"{what} must be a table, got {item!r}")
            continue
        yield i, pos, what, item


def _symbols(value: Any) -> Any:
    return tuple(value) if isinstance(value, str) else value


def _read_examples(doc: Mapping[str, Any], kind: str, rd: _Reader) -> tuple[Example, ...]:
    raw = doc.get("examples", [])
    if not isinstance(raw, list):
        rd.problem(rd.loc.key("examples"), f"'examples' must be an array of tables, got {raw!r}")
        return ()
    out = []
    for _, pos, what, ex in _tables(rd, raw, "examples", "example"):
        rd.check_keys(ex, _EXAMPLE_KEYS, what, pos)
        expect = rd.get(ex, "expect", dict, what, pos, {})
        rd.check_keys(expect or {}, _EXPECT_KEYS[kind], f"{what} expect", pos)
        status = rd.get(expect, "status", str, f"{what} expect", pos, None)
        if status is not None and status not in Example.STATUSES:
            rd.problem(pos, f"{what}: status {status!r} is not one of {', '.join(Example.STATUSES)}")
        stacks = rd.get(expect, "stacks", dict, f"{what} expect", pos, None)
        if stacks is not None and not all(isinstance(v, str) for v in stacks.values()):
            rd.problem(pos, f"{what}: expected stack contents must be strings (top first), got {stacks!r}")
            stacks = None
        out.append(
            Example(
                input=rd.get(ex, "input", str, what, pos, ""),
                head=rd.get(ex, "head", int, what, pos, 0),
                max_steps=rd.get(ex, "max_steps", int, what, pos, None),
                status=status,
                steps=rd.get(expect, "steps", int, f"{what} expect", pos, None),
                state=rd.get(expect, "state", str, f"{what} expect", pos, None),
                tape=rd.get(expect, "tape", str, f"{what} expect", pos, None) if kind == "tm" else None,
                final_head=rd.get(expect, "head", int, f"{what} expect", pos, None) if kind == "tm" else None,
                nonblank=rd.get(expect, "nonblank", int, f"{what} expect", pos, None) if kind == "tm" else None,
                stacks=stacks,
            )
        )
    return tuple(out)


def _read_tm(doc: Mapping[str, Any], rd: _Reader) -> dict[str, Any]:
    key = rd.loc.key
    fields = {
        "symbols": rd.get(doc, "symbols", (list, str), "machine", key("symbols"), convert=_symbols),
        "blank": rd.get(doc, "blank", str, "machine", key("blank")),
    }
    rules = []
    raw = rd.get(doc, "transitions", list, "machine", key("transitions"), [])
    for _, pos, what, t in _tables(rd, raw, "transitions", "transition"):
        rd.check_keys(t, _TM_RULE_KEYS, what, pos)
        vals = {k: rd.get(t, k, str, what, pos) for k in _TM_RULE_KEYS}
        if all(v is not None for v in vals.values()):
            rules.append(TMRule(**vals))
    fields["rules"] = tuple(rules)
    return fields


def _read_stack(doc: Mapping[str, Any], rd: _Reader) -> dict[str, Any]:
    key = rd.loc.key
    stacks_raw = rd.get(doc, "stacks", dict, "machine", key("stacks"), {})
    stacks = []
    for name, alphabet in (stacks_raw or {}).items():
        if isinstance(alphabet, str):
            alphabet = list(alphabet)
        if not isinstance(alphabet, list) or not all(isinstance(a, str) for a in alphabet):
            rd.problem(key("stacks"), f"stack {name!r}: alphabet must be an array of symbols, got {alphabet!r}")
            continue
        stacks.append((name, tuple(alphabet)))
    names = [n for n, _ in stacks]
    rules = []
    raw = rd.get(doc, "transitions", list, "machine", key("transitions"), [])
    for _, pos, what, t in _tables(rd, raw, "transitions", "transition"):
        rd.check_keys(t, _STACK_RULE_KEYS, what, pos)
        state = rd.get(t, "state", str, what, pos)
        nxt = rd.get(t, "next", str, what, pos)
        read = rd.get(t, "read", dict, what, pos, {})
        ops = rd.get(t, "ops", dict, what, pos, {})
        ok = state is not None and nxt is not None and read is not None and ops is not None
        for part, table in (("read", read or {}), ("ops", ops or {})):
            for stack, value in table.items():
                if stack not in names:
                    rd.problem(pos, f"{what}: {part} names stack {stack!r}; stacks are: {', '.join(map(repr, names))}")
                    ok = False
                elif not isinstance(value, str):
                    rd.problem(pos, f"{what}: {part} for stack {stack!r} must be a string, got {value!r}")
                    ok = False
        parsed_ops = []
        for n in names:
            try:
                parsed_ops.append(StackOp.parse((ops or {}).get(n, "noop")) if ok else NOOP)
            except SpecError as e:
                rd.problem(pos, f"{what}: stack {n!r}: {e}")
                ok = False
        if ok:
            rules.append(
                StackRule(
                    state=state, read=tuple((read or {}).get(n, ANY) for n in names), next=nxt, ops=tuple(parsed_ops)
                )
            )
    return {
        "stacks": tuple(stacks),
        "input_stack": rd.get(doc, "input_stack", str, "machine", key("input_stack"), None),
        "rules": tuple(rules),
    }


def loads_toml(text: str, *, file: str | None = None) -> Machine:
    """Read a machine from TOML text; ``file`` is used in error locations."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        if m:
            line, col = int(m.group(1)), int(m.group(2))
        else:  # "(at end of document)"
            line, col = text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1
        msg = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(e)) or "invalid TOML"
        raise ParseError(f"{locate(file, line, col)}: invalid TOML: {msg}", file=file, line=line, column=col) from None
    loc = _Locator(text, file)
    rd = _Reader(loc)
    kind = doc.get("kind")
    if kind not in _TOP_KEYS:
        rd.problem(loc.key("kind"), f'\'kind\' must be "tm" or "stack", got {kind!r}')
        raise ParseError(rd.problems, file=file, line=loc.key("kind")[0])
    rd.check_keys(doc, _TOP_KEYS[kind], "the machine", (None, None))
    if kind == "tm" and "bbchallenge" in doc:
        return _load_bbchallenge_key(doc, rd, file)
    common = {
        "name": rd.get(doc, "name", str, "machine", loc.key("name"), Path(file).stem if file else ""),
        "description": rd.get(doc, "description", str, "machine", loc.key("description"), ""),
        "states": rd.names(doc, "states", "machine", loc.key("states")),
        "start": rd.get(doc, "start", str, "machine", loc.key("start")),
        "accept": rd.names(doc, "accept", "machine", loc.key("accept"), ()),
        "reject": rd.names(doc, "reject", "machine", loc.key("reject"), ()),
        "halt": rd.names(doc, "halt", "machine", loc.key("halt"), ()),
    }
    fields = _read_tm(doc, rd) if kind == "tm" else _read_stack(doc, rd)
    examples = _read_examples(doc, kind, rd)
    cls = TuringMachine if kind == "tm" else StackMachine
    if rd.problems:
        # Also report what the model's own validation finds in the parts that did parse.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cls(**common, **fields, examples=examples)
        except SpecError as e:
            rd.problems += [p for p in _located(e, loc, file).problems if p not in rd.problems]
        except Exception:  # noqa: BLE001 - fields missing after shape errors; those are already reported
            pass
        raise _parse_error(rd.problems, file)
    try:
        return cls(**common, **fields, examples=examples)
    except SpecError as e:
        raise _located(e, loc, file) from None


def _located(e: SpecError, loc: _Locator, file: str | None) -> SpecError:
    """The same error with each problem prefixed by the file position it refers to."""
    located = []
    first_pos: tuple[int | None, int | None] = (None, None)
    for p in e.problems:
        pos = loc.for_problem(p)
        if first_pos == (None, None):
            first_pos = pos
        second = re.match(r"transitions \d+ .* and (\d+) ", p)
        if second:
            line = loc.item("transitions", int(second.group(1)))[0]
            if line is not None:
                p = p.replace(f" and {second.group(1)} ", f" and {second.group(1)} (line {line}) ", 1)
        prefix = loc.prefix(pos)
        located.append(f"{prefix}: {p}" if prefix else p)
    return type(e)(located, file=file, line=first_pos[0], column=first_pos[1])


def _parse_error(problems: list[str], file: str | None) -> ParseError:
    m = re.match(r".*?:(\d+):(\d+): ", problems[0])
    line, column = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return ParseError(problems, file=file, line=line, column=column)


_BB_EXCLUSIVE = ("symbols", "blank", "states", "start", "accept", "reject", "halt", "transitions")


def _load_bbchallenge_key(doc: Mapping[str, Any], rd: _Reader, file: str | None) -> TuringMachine:
    """A TM file that gives its table as ``bbchallenge = "1RB..."``."""
    loc = rd.loc
    pos = loc.key("bbchallenge")
    for key in _BB_EXCLUSIVE:
        if key in doc:
            rd.problem(loc.key(key), f"{key!r} cannot be combined with 'bbchallenge', which defines the whole table")
    text = rd.get(doc, "bbchallenge", str, "machine", pos)
    name = rd.get(doc, "name", str, "machine", loc.key("name"), Path(file).stem if file else text or "")
    description = rd.get(doc, "description", str, "machine", loc.key("description"), "")
    examples = _read_examples(doc, "tm", rd)
    tm = None
    if text is not None:
        try:
            tm = parse_bbchallenge(text)
        except ParseError as e:
            line, col = pos
            value_col = None
            if line is not None and col is not None:
                after_key = loc.text.splitlines()[line - 1][col - 1 :]
                value_col = col + len(re.match(r"bbchallenge\s*=\s*[\"']?", after_key).group(0))  # type: ignore[union-attr]
            for p in e.problems:
                m = re.match(r"<bbchallenge>(?::1:(\d+))?:?\s*(.*)", p)
                inner = int(m.group(1)) if m and m.group(1) else 1
                where = locate(file, line, value_col + inner - 1 if value_col else None)
                msg = m.group(2) if m else p
                rd.problems.append(f"{where}: bbchallenge {msg}" if where else f"bbchallenge {msg}")
    if rd.problems or tm is None:
        raise _parse_error(rd.problems, file)
    try:
        return dataclasses.replace(tm, name=name, description=description, examples=examples)
    except SpecError as e:
        raise _located(e, loc, file) from None


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


# ---------------------------------------------------------------- bundled constructions and load_machine


def constructions_dir() -> Path:
    """The folder of bundled construction files.

    An installed package carries them as ``turingrnn/_constructions``; a source
    checkout has them in ``constructions/`` beside the package.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "_constructions"
    return installed if installed.is_dir() else package.parent / "constructions"


def list_constructions(root: Path | None = None) -> dict[str, Path]:
    """Bundled constructions: name (file stem) → path; two files may not share a stem."""
    found: dict[str, Path] = {}
    for path in sorted((root or constructions_dir()).glob("*/*.toml")):
        if path.stem in found:
            raise SpecError(f"bundled constructions {found[path.stem]} and {path} share the name {path.stem!r}")
        found[path.stem] = path
    return found


def load_toml(path: str | Path) -> Machine:
    """Read a machine from a TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParseError(f"{path}: cannot read machine file: {e}", file=str(path)) from None
    return loads_toml(text, file=str(path))


def load_machine(source: str | Path) -> Machine:
    """Load a machine from a TOML path, a bundled construction name or a bbchallenge string.

    >>> load_machine("1RB1LB_1LA---").run().steps
    6
    """
    if isinstance(source, Path):
        return load_toml(source)
    if not isinstance(source, str):
        raise UnknownMachineError(f"a machine source is a path or a string, got {type(source).__name__}")
    path = Path(source)
    if source.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise UnknownMachineError(f"machine file {source!r} does not exist")
        return load_toml(path)
    bundled = list_constructions()
    name = source.split("/")[-1]
    if name in bundled:
        return load_toml(bundled[name])
    if looks_like_bbchallenge(source):
        return parse_bbchallenge(source)
    raise UnknownMachineError(
        f"unknown machine {source!r}: not a file, a bbchallenge string or a bundled construction; "
        f"bundled constructions: {', '.join(bundled) or '(none found)'}"
    )
