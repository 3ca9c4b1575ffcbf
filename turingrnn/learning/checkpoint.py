"""Checkpoints of trained models: the parameter arrays and a JSON header, in one ``.npz`` file.

The header names the model (cell, sizes, options: the arguments of
:func:`~.models.make_model`), the task and the training settings,
the package version and the git commit the code was at, so that a checkpoint
says how it was made. :func:`load_checkpoint` rebuilds the model and checks
every array against it.

>>> import tempfile, pathlib
>>> from turingrnn.learning.models import make_model
>>> model = make_model("gru", 3, 4, 2, seed=1)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.npz"
>>> _ = save_checkpoint(model, path, meta={"task": "parity"})
>>> again = load_checkpoint(path)
>>> again.model.name, again.meta["task"], bool((again.model.params["weight_hh"] == model.params["weight_hh"]).all())
('gru', 'parity', True)
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError, TuringRNNError
from .cells import SequenceModel

FORMAT = "turingrnn-checkpoint"
VERSION = 1
_HEADER = "__header__"
_PREFIX = "param:"


def git_commit(path: Path | None = None) -> dict[str, Any]:
    """The commit the package's source is at and whether ``turingrnn/`` has uncommitted changes (``None``: no git)."""
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "."], cwd=where, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}
    return {"commit": commit.stdout.strip(), "modified": bool(status.stdout.strip())}


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the model with its trained parameters, and the header's ``meta`` and provenance."""

    model: SequenceModel
    meta: dict[str, Any]
    header: dict[str, Any]


def save_checkpoint(model: SequenceModel, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s parameters and a header (its config, ``meta``, version, commit) to ``path``.

    Raises:
        CheckpointError: the model has no config (it was not built by ``make_model``), or ``meta`` is not JSON.
    """
    from .. import __version__

    if not model.config:
        raise CheckpointError(f"the {model.name} model has no config to rebuild it from; build it with make_model")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "model": model.config,
        "meta": meta or {},
        "turingrnn": __version__,
        "source": git_commit(),
    }
    try:
        text = json.dumps(header)
    except TypeError as e:
        raise CheckpointError(f"checkpoint meta is not JSON: {e}") from None
    out = Path(path)
    if out.suffix != ".npz":
        raise CheckpointError(f"checkpoint path {str(out)!r} must end in .npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {_PREFIX + k: v for k, v in model.params.items()}
    with out.open("wb") as f:
        np.savez(f, **{_HEADER: np.array(text)}, **arrays)  # type: ignore[arg-type]
    return out


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of the checkpoint at ``path``."""
    return _open(Path(path))[0]


def _open(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{str(path)!r} is not a checkpoint (.npz) file: {e}") from None
    if _HEADER not in files:
        raise CheckpointError(f"{str(path)!r} has no turingrnn checkpoint header (is it a compiled network file?)")
    try:
        header = json.loads(str(files.pop(_HEADER)))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{str(path)!r}: the checkpoint header is not JSON: {e}") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise CheckpointError(
            f"{str(path)!r}: format {header.get('format')!r} version {header.get('version')!r}; "
            f"this turingrnn reads {FORMAT!r} version {VERSION}"
        )
    return header, {k.removeprefix(_PREFIX): v for k, v in files.items()}


def load_checkpoint(path: str | Path, *, cell: str | None = None) -> Checkpoint:
    """The model saved at ``path``, rebuilt with :func:`~.models.make_model` and its trained parameters.

    Args:
        path: A file written by :func:`save_checkpoint`.
        cell: If given, the cell the checkpoint must hold.

    Raises:
        CheckpointError: the file is missing or malformed, holds another cell
            than ``cell``, or its arrays do not fit the model its header names.
    """
    from .models import make_model

    where = Path(path)
    header, arrays = _open(where)
    config = header.get("model") or {}
    name = config.get("cell")
    if not isinstance(name, str):
        raise CheckpointError(f"{str(where)!r} does not say which model it holds (no model.cell in its header)")
    if cell is not None and name != cell:
        raise CheckpointError(f"{str(where)!r} holds a {name!r} model, not a {cell!r} one")
    try:
        model = make_model(
            name, config["input_size"], config["hidden_size"], config["output_size"], dtype=config["dtype"],
            readout=config.get("readout", "linear"), layers=config.get("layers", 1),
            bidirectional=config.get("bidirectional", False), **config.get("options", {}),
        )  # fmt: skip
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{str(where)!r}: the header's model config is incomplete ({e})") from None
    except TuringRNNError as e:
        raise CheckpointError(f"{str(where)!r}: its model cannot be rebuilt: {e}") from None
    if set(arrays) != set(model.params):
        missing, extra = sorted(set(model.params) - set(arrays)), sorted(set(arrays) - set(model.params))
        raise CheckpointError(
            f"{str(where)!r}: arrays do not fit a {name} model (missing {missing}, unexpected {extra})"
        )
    for k, p in model.params.items():
        if arrays[k].shape != p.shape:
            raise CheckpointError(f"{str(where)!r}: {k} has shape {arrays[k].shape}, a {name} model needs {p.shape}")
        p[...] = arrays[k]
    return Checkpoint(model=model, meta=header.get("meta", {}), header=header)
