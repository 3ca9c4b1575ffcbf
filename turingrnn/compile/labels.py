"""Neuron labels: the :class:`Neuron` type, its one string form, and the characters names may not use.

Every neuron of a compiled network has a label (``state:q1``, ``top:R>=2@q1``,
``gate:in/push a``, ``config:as/in=a,count=empty``, ``next:in>=2@o33/in=-``),
and so does every input line (``in:a``, ``in:end``). :class:`Neuron` is the
typed form of a label: a *role*, the *key* and, after ``@``, the *at*
qualifier, each a tuple of *parts*. The grammar is::

    label = role [ ":" key [ "@" at ] ]
    key   = part { "/" part }
    at    = part { "/" part }

A role is a lower-case word (``state``, ``top``, ``gate``, ``in``, ...). A part
is printable text without ``/``, ``@`` or ``;``, and without a space at either
end. Inside a part the names are joined by the inner separators, which
:func:`threshold`, :func:`reads` and :func:`joined` take apart:

* ``:`` after the role (``state:q``); inside a part it is text (``load:digit:a``);
* ``/`` between parts: stack and operation (``gate:S/push a``), half-tape and move
  (``tape:R/L``), state and reads (``config:q/S=v``, the rules of ``realtime``);
* ``@`` before the *at* qualifier: a phase of ss95 (``state:q@3``), the state of
  a detector (``top:S>=j@q``), the secondary reads of a compact gate or rule
  (``gate:S/pop@T=a``), the rule of a ``realtime`` top (``next:S>=j@q/S=v``);
* ``>=`` a threshold on the top (or scanned) symbol index of a stack (``top:S>=2``);
* ``=`` a read, a stack and a symbol or ``empty`` (``S=a``); ``,`` between reads;
* ``|`` joins Turing machine states (a ``small`` detector, ``state:q1|q4``), or a
  state and its scanned symbol (a state of the 2-stack reduction, ``state:q|a@3``);
* a space inside an operation (``push a``);
* ``;`` is never in a label: it separates labels in a list (``--neurons "a;b"``).

So that every label reads back unambiguously, state names, stack names and
symbols may not contain the characters of :data:`RESERVED` (``/ @ = , ; |``)
or whitespace; the machine model rejects them (:mod:`turingrnn.machines.model`).
The one exception is ``|`` in a stack machine's state names: the states of the
2-stack reduction are named ``q|s``. The constructions build their labels as
strings; each one is the rendering of its :class:`Neuron`, ``str(parse(x)) == x``
(``tests/test_labels.py`` checks every label of every bundled machine under
every construction).

>>> n = parse("config:as/in=a,count=empty")
>>> n
Neuron(role='config', key=('as', 'in=a,count=empty'), at=())
>>> reads(n.key[1])
(('in', 'a'), ('count', 'empty'))
>>> str(n) == "config:as/in=a,count=empty"
True
>>> parse("next:in>=2@o33/in=-")
Neuron(role='next', key=('in>=2',), at=('o33', 'in=-'))
>>> threshold("in>=2"), joined("q1|q4")
(('in', 2), ('q1', 'q4'))
>>> str(Neuron("state", "q0|a", at="3"))
'state:q0|a@3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ParseError
from ..machines.model import RESERVED

__all__ = [
    "AT_SEPARATOR",
    "LIST_SEPARATOR",
    "PART_SEPARATOR",
    "RESERVED",
    "ROLE_SEPARATOR",
    "Neuron",
    "joined",
    "parse",
    "reads",
    "threshold",
]

ROLE_SEPARATOR = ":"
"""Between the role and the key."""
PART_SEPARATOR = "/"
"""Between the parts of the key, and of the *at* qualifier."""
AT_SEPARATOR = "@"
"""Before the *at* qualifier."""
LIST_SEPARATOR = ";"
"""Between labels in a list (``turingrnn trace --neurons "a;b"``); no label contains it."""

_ROLE = re.compile(r"[a-z][a-z0-9_-]*")
_NOT_IN_PART = PART_SEPARATOR + AT_SEPARATOR + LIST_SEPARATOR


def _parts(value: str | tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    parts = (value,) if isinstance(value, str) else tuple(value)
    for part in parts:
        if not isinstance(part, str):
            raise ParseError(f"neuron label {what} part {part!r} is not a string")
        bad = [c for c in part if c in _NOT_IN_PART or not c.isprintable()]
        if not part or bad or part != part.strip(" "):
            why = f"contains {bad[0]!r}" if bad else "is empty" if not part else "starts or ends with a space"
            raise ParseError(
                f"neuron label {what} part {part!r} {why}: a part is printable text without "
                f"{', '.join(map(repr, _NOT_IN_PART))} and without a space at either end"
            )
    return parts


@dataclass(frozen=True)
class Neuron:
    """A neuron label: ``role[:key[@at]]``, the key and the qualifier as tuples of parts.

    A single string for ``key`` or ``at`` is one part. ``str(neuron)`` is the
    label (:meth:`render`); :func:`parse` reads it back.

    Attributes:
        role: What the neuron is (``state``, ``top``, ``gate``, ...; ``in`` for input lines).
        key: The parts before ``@``, joined by ``/`` (``("S", "push a")`` in ``gate:S/push a``).
        at: The parts after ``@``, joined by ``/`` (``("3",)`` in ``state:q@3``); empty without ``@``.
    """

    role: str
    key: tuple[str, ...] = ()
    at: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.role, str) or not _ROLE.fullmatch(self.role):
            raise ParseError(f"neuron label role {self.role!r} is not a lower-case word ([a-z][a-z0-9_-]*)")
        object.__setattr__(self, "key", _parts(self.key, "key"))
        object.__setattr__(self, "at", _parts(self.at, "at"))
        if self.at and not self.key:
            raise ParseError(f"neuron label {self.role!r} has an 'at' part {self.at!r} but no key")

    def render(self) -> str:
        """The label: ``role``, ``role:key`` or ``role:key@at``, parts joined by ``/``."""
        text = self.role
        if self.key:
            text += ROLE_SEPARATOR + PART_SEPARATOR.join(self.key)
        if self.at:
            text += AT_SEPARATOR + PART_SEPARATOR.join(self.at)
        return text

    __str__ = render

    @classmethod
    def parse(cls, label: str) -> Neuron:
        """The :class:`Neuron` whose rendering is ``label``; see :func:`parse`."""
        return parse(label)


def parse(label: str) -> Neuron:
    """The :class:`Neuron` whose rendering is ``label``.

    Raises:
        ParseError: ``label`` does not follow the grammar of the module docs.
    """
    if not isinstance(label, str):
        raise ParseError(f"a neuron label is a string, got {type(label).__name__}")
    role, colon, rest = label.partition(ROLE_SEPARATOR)
    if not colon:
        if not _ROLE.fullmatch(role):
            raise ParseError(f"neuron label {label!r} does not start with a role and ':' (as in 'state:q0')")
        return Neuron(role)
    key, has_at, at = rest.partition(AT_SEPARATOR)
    try:
        return Neuron(role, tuple(key.split(PART_SEPARATOR)), tuple(at.split(PART_SEPARATOR)) if has_at else ())
    except ParseError as e:
        raise ParseError(f"{label!r} is not a neuron label: {e}") from None


def threshold(part: str) -> tuple[str, int]:
    """``S>=j`` → ``("S", j)``: the stack (or half-tape) and the top symbol index it tests."""
    name, sep, j = part.partition("=")
    if not (sep and name.endswith(">") and len(name) > 1 and j.isdecimal()):
        raise ParseError(f"{part!r} is not a threshold 'S>=j' (a stack name, '>=', a number)")
    return name[:-1], int(j)


def reads(part: str) -> tuple[tuple[str, str], ...]:
    """``S=a,T=empty`` → ``(("S", "a"), ("T", "empty"))``: stacks and what is read on them."""
    out = []
    for item in part.split(","):
        name, sep, value = item.partition("=")
        if not (sep and name and value):
            raise ParseError(f"{part!r} is not a list of reads 'S=a,T=empty': {item!r} is not 'stack=read'")
        out.append((name, value))
    return tuple(out)


def joined(part: str) -> tuple[str, ...]:
    """``q1|q4`` → ``("q1", "q4")``: the Turing machine states of a ``small`` detector, or a pair state ``q|s``."""
    names = tuple(part.split("|"))
    if not all(names):
        raise ParseError(f"{part!r} is not names joined by '|': a name is empty")
    return names
