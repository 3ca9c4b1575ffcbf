"""How many neurons and ticks per step each construction needs, for every bundled machine.

Usage:
    python experiments/neuron_counts.py [--out experiments/results/neuron_counts.json] [--markdown]

Counts follow the papers: every unit of the recurrent layer is a neuron; input lines are not.
The universal machines are set beside the published figures (Siegelmann & Sontag 1995;
Carmantini et al. 2017; Chung & Siegelmann 2021, Theorem 1: 2G + ceil(log2 Q) + QG + 5).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path

import turingrnn as tr
from turingrnn.compile.compiler import INPUT_MODES, compile_machine, constructions_for
from turingrnn.errors import CompileError

PUBLISHED = {
    "minsky_7_4": {"Siegelmann & Sontag 1995 (universal net)": (886, 1), "Carmantini et al. 2017": (258, 3)},
    "rogozhin_4_6": {"Siegelmann & Sontag 1995 (universal net)": (886, 1)},
}


def chung_siegelmann(q: int, g: int) -> int:
    """Chung & Siegelmann (NeurIPS 2021), Theorem 1: 2G + ceil(log2 Q) + QG + 5, at 3 ticks per step."""
    return 2 * g + math.ceil(math.log2(q)) + q * g + 5


def count_all() -> list[dict[str, object]]:
    rows = []
    for name in sorted(tr.list_constructions()):
        machine = tr.load_machine(name)
        for construction in constructions_for(machine.kind):
            for mode in INPUT_MODES:
                try:
                    net = compile_machine(machine, construction=construction, input_mode=mode)
                except CompileError as e:
                    rows.append({"machine": name, "construction": construction, "input_mode": mode, "error": str(e)})
                    continue
                rows.append(
                    {
                        "machine": name,
                        "kind": machine.kind,
                        "construction": construction,
                        "input_mode": mode,
                        "neurons": net.size,
                        "ticks_per_step": net.ticks_per_step,
                        "nonzeros": net.nonzeros,
                    }
                )
    return rows


def utm_table(rows: list[dict[str, object]]) -> list[str]:
    lines = ["| machine | network | neurons | ticks per TM step |", "|---|---|---:|---:|"]
    for name in ("minsky_7_4", "rogozhin_4_6"):
        tm = tr.load_machine(name)
        q = len([s for s in tm.states if s not in tm.halting_states])
        g = len(tm.symbols)
        for label, (n, t) in PUBLISHED.get(name, {}).items():
            lines.append(f"| {name} | {label} | {n} | {t} |")
        lines.append(f"| {name} | Chung & Siegelmann 2021 formula (Q={q}, G={g}) | {chung_siegelmann(q, g)} | 3 |")
        for r in rows:
            if r["machine"] == name and r["input_mode"] == "preloaded" and "error" not in r:
                lines.append(f"| {name} | turingrnn `{r['construction']}` | {r['neurons']} | {r['ticks_per_step']} |")
    return lines


def all_table(rows: list[dict[str, object]]) -> list[str]:
    lines = [
        "| machine | kind | construction | preloaded neurons | streamed neurons | ticks per step |",
        "|---|---|---|---:|---:|---:|",
    ]
    by_key: dict[tuple[object, object], dict[object, dict[str, object]]] = {}
    for r in rows:
        by_key.setdefault((r["machine"], r["construction"]), {})[r["input_mode"]] = r
    for (machine, construction), modes in by_key.items():
        pre, stream = modes.get("preloaded", {}), modes.get("streamed", {})
        lines.append(
            f"| {machine} | {pre.get('kind', stream.get('kind', ''))} | {construction} | "
            f"{pre.get('neurons', 'n/a')} | {stream.get('neurons', 'n/a')} | {pre.get('ticks_per_step', 'n/a')} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="experiments/results/neuron_counts.json")
    parser.add_argument("--seed", type=int, default=0, help="unused: the counts are deterministic")
    args = parser.parse_args(argv)
    rows = count_all()
    result = {
        "command": "python experiments/neuron_counts.py",
        "turingrnn": tr.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(utm_table(rows)))
    print()
    print("\n".join(all_table(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
