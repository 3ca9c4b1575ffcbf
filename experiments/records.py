"""Question: how small are our universal networks beside the published ones, and do they run tag systems exactly?

Two parts, written to ``experiments/results/records.json`` (``--markdown`` prints the tables):

1. **Neuron counts** of Rogozhin's UTM(4,6) and Minsky's UTM(7,4) under every
   construction of the compiler (preloaded input), beside Siegelmann & Sontag 1995
   (886 neurons, universal net, real time), Carmantini et al. 2017 (2 + QG + G + 2QG^2
   at 3 ticks per step: 258 for Minsky's machine, from their code) and Chung &
   Siegelmann 2021, Theorem 1 (2G + ceil(log2 Q) + QG + 5 at 3 ticks per step).
   Counting rules (ours and the formulas alike): every unit of the recurrent layer is
   a neuron; input lines and the readout (linear combinations of neurons) are not.
2. **Tag systems through the network**: 2-tag systems in Rogozhin's form are written
   as tapes of UTM(4,6) (:func:`turingrnn.machines.tags.rogozhin_tape`), run through the
   compiled network in exact arithmetic and compared with the reference interpreter
   at every step (:func:`turingrnn.check.verify.verify`); the result decoded from the
   network's final tape must equal the tag system's own result. The systems:
   Rogozhin's minimal example (P(a1) = a1 a1, P(a2) = STOP, on a1 a1 a2), his larger
   worked example (P(a1) = a3 a3 a2 a1 a4, P(a2) = a3 a3 a1, P(a3) = a3 a3,
   P(a4) = STOP, on a2 a1 a1), and one of ours (P(a1) = a2 a2 a3, P(a2) = a2 a2,
   P(a3) = STOP, on a1 a1 a1 a1).
3. **Layout search** of the ``small`` construction (:func:`turingrnn.compile.small_tm.search`):
   per universal machine, the layouts scored, the rank bound (the fewest detectors
   any network of the family could have over those layouts), and the chosen
   layout's per-level ranks and detector counts.

Usage::

    python experiments/records.py [--out PATH] [--markdown] [--constructions compact ss95]
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path
from typing import Any

from _results import finish

import turingrnn as tr
from turingrnn.check.verify import verify
from turingrnn.compile.compiler import CONSTRUCTIONS, compile_machine
from turingrnn.engines.exact import run_exact
from turingrnn.errors import CompileError
from turingrnn.machines.tags import TagSystem, decode_rogozhin, rogozhin_tape, run_tag

DEFAULT_OUT = Path(__file__).parent / "results" / "records.json"
UTMS = {"rogozhin_4_6": (4, 6), "minsky_7_4": (7, 4)}  # (states Q, symbols G)

TAG_SYSTEMS = {
    "Rogozhin's minimal example": (
        TagSystem(letters=("a1", "a2"), productions={"a1": ("a1", "a1")}, halt=frozenset({"a2"})),
        ("a1", "a1", "a2"),
    ),
    "Rogozhin's worked example": (
        TagSystem(
            letters=("a1", "a2", "a3", "a4"),
            productions={"a1": ("a3", "a3", "a2", "a1", "a4"), "a2": ("a3", "a3", "a1"), "a3": ("a3", "a3")},
            halt=frozenset({"a4"}),
        ),
        ("a2", "a1", "a1"),
    ),
    "ours": (
        TagSystem(
            letters=("a1", "a2", "a3"),
            productions={"a1": ("a2", "a2", "a3"), "a2": ("a2", "a2")},
            halt=frozenset({"a3"}),
        ),
        ("a1", "a1", "a1", "a1"),
    ),
}


def carmantini(q: int, g: int) -> int:
    """Carmantini et al. (2017): 2 + QG + G + 2QG^2 neurons at 3 ticks per step."""
    return 2 + q * g + g + 2 * q * g * g


def chung_siegelmann(q: int, g: int) -> int:
    """Chung & Siegelmann (NeurIPS 2021), Theorem 1: 2G + ceil(log2 Q) + QG + 5 at 3 ticks per step."""
    return 2 * g + math.ceil(math.log2(q)) + q * g + 5


def counts(constructions: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, (q, g) in UTMS.items():
        machine = tr.load_machine(name)
        rows.append(
            {"machine": name, "network": "Siegelmann & Sontag 1995 (universal net)", "neurons": 886, "ticks": 1}
        )
        rows.append(
            {"machine": name, "network": "Carmantini et al. 2017 (formula)", "neurons": carmantini(q, g), "ticks": 3}
        )
        rows.append(
            {
                "machine": name,
                "network": "Chung & Siegelmann 2021 (formula)",
                "neurons": chung_siegelmann(q, g),
                "ticks": 3,
            }
        )
        for construction in constructions:
            try:
                net = compile_machine(machine, construction=construction)
            except CompileError as e:
                rows.append({"machine": name, "network": f"turingrnn {construction}", "error": str(e)})
                continue
            rows.append(
                {
                    "machine": name,
                    "network": f"turingrnn {construction}",
                    "neurons": net.size,
                    "ticks": net.ticks_per_step,
                }
            )
    return rows


def tag_runs(constructions: list[str], max_steps: int) -> list[dict[str, Any]]:
    machine = tr.load_machine("rogozhin_4_6")
    assert isinstance(machine, tr.TuringMachine)
    rows = []
    for title, (system, word) in TAG_SYSTEMS.items():
        expected = run_tag(system, word)
        tape, head = rogozhin_tape(system, word)
        reference = machine.run(tape, head=head, max_steps=max_steps)
        for construction in constructions:
            net = compile_machine(machine, construction=construction)
            start = time.perf_counter()
            report = verify(machine, [(tape, head)], net=net, max_steps=max_steps)
            trace = run_exact(net, tape, head=head, max_steps=max_steps, record="final")
            seconds = time.perf_counter() - start
            result = trace.decode()
            decoded = decode_rogozhin(system, result.tape) if result.status == tr.Status.HALTED else None
            rows.append(
                {
                    "system": title,
                    "word": " ".join(word),
                    "tag_result": " ".join(expected.word),
                    "tag_steps": expected.steps,
                    "tape_length": len(tape),
                    "construction": construction,
                    "neurons": net.size,
                    "tm_steps": trace.steps,
                    "reference_steps": reference.steps,
                    "verified_every_step": report.ok,
                    "network_result": None if decoded is None else " ".join(decoded),
                    "agrees": decoded == expected.word,
                    "seconds": seconds,
                }
            )
    return rows


def layouts() -> list[dict[str, Any]]:
    """The small construction's layout search per universal machine."""
    from turingrnn.compile.small_tm import search

    rows = []
    for name in UTMS:
        machine = tr.load_machine(name)
        t0 = time.perf_counter()
        found = search.__wrapped__(machine)  # uncached, so the seconds are the search time
        seconds = time.perf_counter() - t0
        net = compile_machine(machine, construction="small")
        rows.append(
            {
                "machine": name,
                "layouts_scored": found.layouts,
                "layouts_counted": found.covered,
                "rank_bound": found.bound,
                "detectors": len(found.plan.detectors),
                "level_ranks": list(found.ranks),
                "level_detectors": list(found.counts),
                "other_neurons": net.size - len(found.plan.detectors),
                "neurons": net.size,
                "digit_order": list(found.plan.symbols),
                "state_codes": dict(found.plan.codes),
                "seconds": round(seconds, 1),
            }
        )
    return rows


def markdown(out: dict[str, Any]) -> str:
    lines = ["| machine | network | neurons | ticks per TM step |", "| --- | --- | ---: | ---: |"]
    for r in out["counts"]:
        lines.append(f"| {r['machine']} | {r['network']} | {r.get('neurons', r.get('error'))} | {r.get('ticks', '')} |")
    lines += [
        "",
        "| tag system | word | tag result | construction | neurons | TM steps | verified every step | network result "
        "| seconds |",
        "| --- | --- | --- | --- | ---: | ---: | --- | --- | ---: |",
    ]
    for r in out["tags"]:
        lines.append(
            f"| {r['system']} | {r['word']} | {r['tag_result']} | {r['construction']} | {r['neurons']} | "
            f"{r['tm_steps']:,} | {r['verified_every_step']} | {r['network_result']} | {r['seconds']:.1f} |"
        )
    lines += [
        "",
        "| machine | layouts scored | exactly counted | rank bound | detectors | per level (rank / detectors) "
        "| other neurons | neurons | digit order | state codes | seconds |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- | ---: |",
    ]
    for r in out.get("layouts", []):
        levels = ", ".join(f"{a}/{b}" for a, b in zip(r["level_ranks"], r["level_detectors"], strict=True))
        codes = " ".join(f"{q}={c:b}" for q, c in r["state_codes"].items())
        lines.append(
            f"| {r['machine']} | {r['layouts_scored']:,} | {r['layouts_counted']} | {r['rank_bound']} | "
            f"{r['detectors']} | {levels} | {r['other_neurons']} | {r['neurons']} | {' '.join(r['digit_order'])} | "
            f"{codes} | {r['seconds']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--constructions", nargs="+", default=list(CONSTRUCTIONS), choices=list(CONSTRUCTIONS))
    parser.add_argument("--tag-constructions", nargs="+", default=["compact", "small"], choices=list(CONSTRUCTIONS))
    parser.add_argument("--max-steps", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {
        "question": "universal network sizes beside the published ones; tag systems run exactly through them",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "turingrnn_version": tr.__version__,
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
        "counts": counts(args.constructions),
        "tags": tag_runs(args.tag_constructions, args.max_steps),
        "layouts": layouts(),
    }
    out["table"] = markdown(out)
    return finish(out, args.out, show=args.markdown)


if __name__ == "__main__":
    main()
