"""The bundled machines and :func:`load_machine`.

The bundled machine files live in the top-level ``constructions/`` folder
(installed as ``turingrnn/_constructions``). The folder's name is historical:
its files are *machines*, while a *construction* in the code is a compile
recipe (``compact``, ``ss95``, ``realtime``, ``small``;
:data:`turingrnn.compile.compiler.CONSTRUCTIONS`). :func:`list_machines` lists
the bundled machines (:func:`list_constructions` is its old name, kept as an
alias); :func:`load_machine` loads a TOML path, a bundled machine name or a
bbchallenge string. Also importable from :mod:`turingrnn.machines.parsing`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError, UnknownMachineError
from .bbchallenge import looks_like_bbchallenge, parse_bbchallenge
from .model import Machine
from .toml_read import load_toml


def constructions_dir() -> Path:
    """The folder of bundled machine files (named ``constructions/`` for historical reasons).

    An installed package carries them as ``turingrnn/_constructions``; a source
    checkout has them in ``constructions/`` beside the package.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "_constructions"
    return installed if installed.is_dir() else package.parent / "constructions"


def list_machines(root: Path | None = None) -> dict[str, Path]:
    """The bundled machines: name (file stem) → path of its TOML file; two files may not share a stem.

    ``root`` defaults to :func:`constructions_dir`; the files are ``root/*/*.toml``.

    >>> machines = list_machines()
    >>> "bb2" in machines and "anbn" in machines
    True
    """
    found: dict[str, Path] = {}
    for path in sorted((root or constructions_dir()).glob("*/*.toml")):
        if path.stem in found:
            raise SpecError(f"bundled machines {found[path.stem]} and {path} share the name {path.stem!r}")
        found[path.stem] = path
    return found


list_constructions = list_machines
"""The old name of :func:`list_machines`, kept for existing code.

It lists *machines* (the files of the ``constructions/`` folder), not
constructions: the compile recipes are :data:`turingrnn.compile.compiler.CONSTRUCTIONS`.
"""


def load_machine(source: str | Path) -> Machine:
    """Load a machine from a TOML path, a bundled machine name (see :func:`list_machines`) or a bbchallenge string.

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
    bundled = list_machines()
    name = source.split("/")[-1]
    if name in bundled:
        return load_toml(bundled[name])
    if looks_like_bbchallenge(source):
        return parse_bbchallenge(source)
    raise UnknownMachineError(
        f"unknown machine {source!r}: not a file, a bbchallenge string or a bundled machine; "
        f"bundled machines: {', '.join(bundled) or '(none found)'}"
    )
