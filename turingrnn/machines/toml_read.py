"""Reading the TOML machine format.

:func:`loads_toml` reads TOML text, :func:`load_toml` a TOML file, into a
validated machine; the schema is described in ``constructions/README.md``.
Every problem is collected and reported at once, prefixed by
``file:line:column`` where it can be located. The writer is
:mod:`.toml_write`; both are also importable from :mod:`turingrnn.machines.parsing`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ParseError, SpecError, locate
from .bbchallenge import parse_bbchallenge
from .model import ANY, NOOP, Example, Machine, StackMachine, StackOp, StackRule, TMRule, TuringMachine

_HEAD_KEYS = ("kind", "name", "description")
_CONTROL_KEYS = ("states", "start", "accept", "reject", "halt", "transitions")
_TOP_KEYS = {
    "tm": (*_HEAD_KEYS, "symbols", "blank", *_CONTROL_KEYS, "bbchallenge", "examples"),
    "stack": (*_HEAD_KEYS, "stacks", "input_stack", *_CONTROL_KEYS, "examples"),
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
        for start, key in (("state name ", "states"), ("stack name ", "stacks"), ("stack '", "stacks")):
            if problem.startswith(start):
                return self.key(key)
        if problem.startswith("symbol "):
            return self.key("symbols")
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
        # a malformed read or ops (already reported) is left out, not read as "any" or "noop"
        ok = ok and isinstance(t.get("read", {}), dict) and isinstance(t.get("ops", {}), dict)
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
        missing = 'the key \'kind\' is missing: it must be "tm" or "stack"'
        rd.problem(loc.key("kind"), missing if kind is None else f'\'kind\' must be "tm" or "stack", got {kind!r}')
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


def load_toml(path: str | Path) -> Machine:
    """Read a machine from a TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParseError(f"{path}: cannot read machine file: {e}", file=str(path)) from None
    return loads_toml(text, file=str(path))
