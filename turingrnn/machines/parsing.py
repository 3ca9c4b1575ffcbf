"""Machine formats: TOML files, bbchallenge strings, bundled machines.

* :func:`load_machine` takes a TOML path, a bundled machine name or a
  bbchallenge string and returns a validated machine.
* :func:`loads_toml` / :func:`dump_toml` read and write the TOML schema
  described in ``constructions/README.md``; ``loads_toml(dump_toml(m)) == m``.
* :func:`parse_bbchallenge` / :func:`dump_bbchallenge` read and write the
  bbchallenge standard text format (``1RB1LB_1LA---``, or with a ``Z``/``H``
  halt state).

Errors are :class:`~turingrnn.errors.ParseError` (malformed input) or the
machine's own :class:`~turingrnn.errors.SpecError`, with every problem
prefixed by ``file:line:column`` where it can be located.

This module gathers the public names of the modules that implement them:
:mod:`.bbchallenge` (the bbchallenge format), :mod:`.toml_read` and
:mod:`.toml_write` (the TOML format), and :mod:`.bundled` (the bundled
machines in ``constructions/``: :func:`list_machines`, its old name
:func:`list_constructions`, and :func:`load_machine`).

Names: the ``constructions/`` folder holds machine files, while a
*construction* in the code is a compile recipe (``compact``, ``ss95``,
``realtime``, ``small``); see the glossary in ``docs/index.md``.
"""

from .bbchallenge import dump_bbchallenge, looks_like_bbchallenge, parse_bbchallenge
from .bundled import constructions_dir, list_constructions, list_machines, load_machine
from .toml_read import load_toml, loads_toml
from .toml_write import dump, dump_toml

__all__ = [
    "constructions_dir",
    "dump",
    "dump_bbchallenge",
    "dump_toml",
    "list_constructions",
    "list_machines",
    "load_machine",
    "load_toml",
    "loads_toml",
    "looks_like_bbchallenge",
    "parse_bbchallenge",
]
