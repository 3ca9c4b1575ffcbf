"""Question: does ``turingrnn run`` run a network of over 50,000 neurons on every engine, and at what cost?

The workload is the ring machine of ``tests/test_large_networks.py`` with ``--stacks``
stacks (state ``q<k>`` moves stack ``k`` onto stack ``k + 1``, symbol by symbol): with 8
stacks under ``ss95`` it compiles to 52,594 neurons and 1,084,881 recurrent weights. The
script writes the machine as TOML (``turingrnn.machines.toml_write.dump_toml``) into a
temporary directory, compiles it once with ``turingrnn compile`` to a ``.npz`` file, and then
runs ``turingrnn run NET.npz --input WORD --engine E --json`` for every engine, each in its own
process (timed wall clock, peak resident set from ``os.wait4``). It also runs the exact engine
from the TOML file, compile included. Every run must exit 0 with the interpreter's status,
steps and stacks; a failure must be one line on stderr, never a traceback. The workload is
deterministic (``--seed`` is recorded, not used).

Usage::

    python experiments/bench_large.py [--stacks 8] [--word ab] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import finish

import turingrnn as tr
from turingrnn.machines.toml_write import dump_toml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_large_networks import ring_machine  # noqa: E402  (the workload, shared with the test)

DEFAULT_OUT = Path(__file__).parent / "results" / "bench_large.json"
ENGINES = ("exact", "float64", "float32", "mp")


def timed(command: list[str]) -> dict[str, Any]:
    """Run ``command`` in a child process: exit code, wall seconds, peak RSS (MB, from ``os.wait4``), stdout, stderr."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "command": command,
            "exit": code,
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stdout": out.read(),
            "stderr": err.read(),
        }


def check(run: dict[str, Any], want: tr.RunResult) -> str:
    """``ok`` if the run's JSON holds the interpreter's result, else what is wrong (a traceback always is)."""
    if "Traceback" in run["stderr"]:
        return "traceback on stderr"
    if run["exit"] != 0:
        lines = run["stderr"].strip().splitlines()
        return f"exit {run['exit']}: " + (lines[-1] if len(lines) == 1 else f"{len(lines)} lines on stderr")
    got = json.loads(run["stdout"].strip().splitlines()[-1])
    expected = want.to_dict()
    found = {k: got.get(k) for k in expected}
    return "ok" if found == expected else f"got {found}, want {expected}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, write the JSON to ``--out`` and print a markdown table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument("--seed", type=int, default=0, help="recorded only: the workload is deterministic")
    parser.add_argument("--stacks", type=int, default=8, help="stacks of the ring machine")
    parser.add_argument("--word", default="ab", help="the input word (on stack s0)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    args = parser.parse_args(argv)

    machine = ring_machine(args.stacks)
    want = tr.run(machine, args.word)
    cli = [sys.executable, "-m", "turingrnn"]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        toml, npz = Path(tmp) / f"ring{args.stacks}.toml", Path(tmp) / f"ring{args.stacks}.npz"
        toml.write_text(dump_toml(machine))
        compiled = timed([*cli, "compile", str(toml), "--construction", "ss95", "-o", str(npz)])
        runs.append({"what": "compile to .npz", **compiled, "check": "ok" if compiled["exit"] == 0 else "failed"})
        word = ["--input", args.word, "--json"]
        for engine in args.engines:
            run = timed([*cli, "run", str(npz), *word, "--engine", engine])
            runs.append({"what": f"run .npz, {engine}", **run, "check": check(run, want)})
        run = timed([*cli, "run", str(toml), "--construction", "ss95", *word, "--engine", "exact"])
        runs.append({"what": "run .toml (compile included), exact", **run, "check": check(run, want)})
    for run in runs:
        shown = ["python", *run["command"][1:]]  # sys.executable, and the files of the temporary directory by name
        run["command"] = " ".join(Path(c).name if c.startswith(tmp) else c for c in shown)
        del run["stdout"]
    rows = [f"| {r['what']} | {r['seconds']:.1f} | {r['peak_rss_mb']:,.0f} | {r['check']} |" for r in runs]
    table = "\n".join(["| step | seconds | peak RSS (MB) | result |", "| --- | ---: | ---: | --- |", *rows])
    out = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "turingrnn_version": tr.__version__,
        "platform": {"python": platform.python_version(), "system": platform.platform(), "cpu_count": os.cpu_count()},
        "network": {"stacks": args.stacks, "construction": "ss95", "word": args.word, "interpreter_steps": want.steps},
        "runs": runs,
        "table": table,
    }
    return finish(out, args.out)


if __name__ == "__main__":
    main()
