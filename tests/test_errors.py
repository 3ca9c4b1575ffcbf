"""Every exception lives in turingrnn.errors, derives from TuringRNNError, and is exported."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import turingrnn as tr
import turingrnn.errors as errors

PACKAGE = Path(tr.__file__).parent


def _public_exceptions() -> dict[str, type]:
    return {
        n: c for n, c in vars(errors).items()
        if inspect.isclass(c) and issubclass(c, (Exception, Warning)) and c.__module__ == errors.__name__
    }  # fmt: skip


def test_every_exception_of_errors_is_exported_at_the_top_level():
    found = _public_exceptions()
    assert {"TuringRNNError", "DecodeError", "NetworkFileError", "ProofError", "NotRecordedError"} <= set(found)
    for name, cls in found.items():
        assert name in tr.__all__ and getattr(tr, name) is cls, name
        assert cls is errors.SpecWarning or issubclass(cls, errors.TuringRNNError), name


def test_no_other_module_defines_a_public_exception_class():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(b) for b in node.bases}
                assert not any(b.endswith(("Error", "Exception")) for b in bases), f"{path.name}: {node.name}"
