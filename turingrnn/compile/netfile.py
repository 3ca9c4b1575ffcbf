"""Network files: a :class:`~turingrnn.compile.network.Network` as an ``.npz`` archive, and back.

The archive holds the labels, the exact weights (numerators and denominators
as strings), the metadata as JSON (the readout, the preload, the machine as
TOML) and the fingerprint, which :func:`load_network` checks. A streamed
network's start preload is stored beside the metadata; files written before it
was kept get it from their machine.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import NetworkFileError, TuringRNNError
from .network import FORMAT_VERSION, Network, Sparse
from .readout import Preload, Readout


def save_network(net: Network, path: str | Path) -> None:
    """Write ``net`` to ``path`` (see :meth:`~turingrnn.compile.network.Network.save`)."""

    def sparse(m: Sparse) -> dict[str, np.ndarray]:
        return {
            "rows": np.array([i for i, _, _ in m], dtype=np.int64),
            "cols": np.array([j for _, j, _ in m], dtype=np.int64),
            "num": np.array([str(w.numerator) for _, _, w in m], dtype=np.str_),
            "den": np.array([str(w.denominator) for _, _, w in m], dtype=np.str_),
        }

    arrays: dict[str, np.ndarray] = {
        "labels": np.array(net.labels, dtype=np.str_),
        "roles": np.array(net.roles, dtype=np.str_),
        "binary": np.array(net.binary, dtype=np.bool_),
        "phase": np.array(net.phase, dtype=np.int64),
        "inputs": np.array(net.inputs, dtype=np.str_),
        "b_num": np.array([str(x.numerator) for x in net.b], dtype=np.str_),
        "b_den": np.array([str(x.denominator) for x in net.b], dtype=np.str_),
        "meta": np.array(json.dumps(net._meta() | net._start_meta())),
        "fingerprint": np.array(net.fingerprint()),
    }
    for name, m in (("W", net.W), ("U", net.U)):
        arrays |= {f"{name}_{k}": v for k, v in sparse(m).items()}
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]


def load_network(path: str | Path, cls: type[Network] = Network) -> Network:
    """Read a network written by :func:`save_network`; :class:`NetworkFileError` if it is corrupted or mismatched."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except OSError as e:
        raise NetworkFileError(f"{path}: cannot read network file ({e})") from None
    except (ValueError, zipfile.BadZipFile, EOFError):
        raise NetworkFileError(f"{path}: not a network file (expected an .npz archive written by turingrnn)") from None
    try:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("format_version") != FORMAT_VERSION:
            raise NetworkFileError(
                f"{path}: network file format {meta.get('format_version')!r}; this turingrnn reads {FORMAT_VERSION}"
            )

        def frac(num: np.ndarray, den: np.ndarray) -> list[Fraction]:
            return [Fraction(int(n), int(d)) for n, d in zip(num.tolist(), den.tolist(), strict=True)]

        def sparse(name: str) -> Sparse:
            ws = frac(arrays[f"{name}_num"], arrays[f"{name}_den"])
            rows, cols = arrays[f"{name}_rows"].tolist(), arrays[f"{name}_cols"].tolist()
            return tuple(zip(rows, cols, ws, strict=True))

        from ..machines.parsing import loads_toml

        machine = loads_toml(meta["machine_toml"]) if meta["machine_toml"] else None
        readout = Readout.from_json(meta["readout"])
        if meta.get("start_preload"):
            readout = replace(readout, start_preload=Preload.from_json(meta["start_preload"]))
        elif meta["input_mode"] == "streamed" and machine is not None:  # written before start_preload was kept
            from .compiler import start_preload

            readout = replace(readout, start_preload=start_preload(machine, meta["construction"]))
        net = cls(
            labels=tuple(arrays["labels"].tolist()),
            roles=tuple(arrays["roles"].tolist()),
            binary=tuple(bool(x) for x in arrays["binary"].tolist()),
            phase=tuple(int(x) for x in arrays["phase"].tolist()),
            W=sparse("W"),
            U=sparse("U"),
            b=tuple(frac(arrays["b_num"], arrays["b_den"])),
            inputs=tuple(arrays["inputs"].tolist()),
            ticks_per_step=int(meta["ticks_per_step"]),
            readout=readout,
            preload=Preload.from_json(meta["preload"]) if meta["preload"] else None,
            stream_latency=meta["stream_latency"],
            machine=machine,
            construction=meta["construction"],
            input_mode=meta["input_mode"],
        )
        stored = str(arrays["fingerprint"])
    except NetworkFileError:
        raise
    except (KeyError, ValueError, TypeError, ZeroDivisionError, json.JSONDecodeError, TuringRNNError) as e:
        raise NetworkFileError(f"{path}: corrupted network file ({type(e).__name__}: {e})") from None
    if net.fingerprint() != stored:
        raise NetworkFileError(f"{path}: the weights do not match the file's fingerprint (corrupted or edited)")
    n = net.size
    if not (len(net.roles) == len(net.binary) == len(net.phase) == len(net.b) == n):
        raise NetworkFileError(f"{path}: per-neuron arrays disagree on the number of neurons")
    for name, m, width in (("W", net.W, n), ("U", net.U, len(net.inputs))):
        if any(not (0 <= i < n and 0 <= j < width) for i, j, _ in m):
            raise NetworkFileError(f"{path}: {name} has an index outside the network")
    return net
