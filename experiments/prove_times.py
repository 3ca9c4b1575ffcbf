"""Question: how long does ``prove`` take, per machine and construction, and how many cases does it check?

Compiles each machine under every construction that fits its kind (preloaded
input), then times :func:`turingrnn.check.prove.prove` alone (compile time excluded).
A network whose case count is above ``--max-cases`` is not proved here: its
row says how many cases it would need.

Usage::

    python experiments/prove_times.py [--machines bb5 minsky_7_4 ...] [--max-cases 5000] [--markdown]

Writes ``experiments/results/prove_times.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

from _results import finish

import turingrnn as tr
from turingrnn.check.prove import count_cases, prove
from turingrnn.compile.compiler import compile_machine, constructions_for

DEFAULT_OUT = Path(__file__).parent / "results" / "prove_times.json"
MACHINES = ["bb5", "minsky_7_4", "rogozhin_4_6", "binary_addition", "modular_arithmetic_brackets"]


def measure(name: str, construction: str, max_cases: int) -> dict[str, Any]:
    machine = tr.load_machine(name)
    net = compile_machine(machine, construction=construction)
    cases = count_cases(machine, net)
    row: dict[str, Any] = {"machine": name, "construction": construction, "neurons": net.size, "cases": cases}
    if cases > max_cases:
        row["proved"] = f"not run: {cases} cases > --max-cases {max_cases}"
        return row
    t0 = time.perf_counter()
    cert = prove(machine, net, max_cases=max_cases)
    row["seconds"] = round(time.perf_counter() - t0, 2)
    row["proved"] = cert.ok
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| machine | construction | neurons | cases | proved | seconds |", "|---|---|---:|---:|---|---:|"]
    for r in rows:
        lines.append(
            f"| {r['machine']} | {r['construction']} | {r['neurons']} | {r['cases']} | {r['proved']} | "
            f"{r.get('seconds', '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", nargs="+", default=MACHINES)
    parser.add_argument("--max-cases", type=int, default=5000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = []
    for name in args.machines:
        for construction in constructions_for(tr.load_machine(name).kind):
            rows.append(measure(name, construction, args.max_cases))
            print(json.dumps(rows[-1]), flush=True)
    out = {
        "config": {k: str(v) for k, v in vars(args).items()},
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
        "rows": rows,
        "table": markdown(rows),
    }
    return finish(out, args.out, show=args.markdown)


if __name__ == "__main__":
    main()
