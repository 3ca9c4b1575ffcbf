"""Question: do two extensions of the ``small`` layout family give fewer detectors for the universal machines?

The ``small`` construction (:mod:`turingrnn.compile.small_tm`) picks a digit order, a
binary state code and phase-1 detectors (threshold functions at level 0, faces
at level j). Its rank bound is the fewest detectors any choice of detectors
could reach over the layouts scored. This script measures two extensions, per
machine, without building networks (it counts detectors; the counts are what a
network would need):

1. **Free missing transitions.** A missing transition halts: the readout
   reports "undefined transition" from code 0 and never reads that step's tape,
   so the network may write and move anything there. For each layout the
   written symbol and move of every missing transition are chosen by
   coordinate descent (two passes) to lower the rank bound, starting from the
   ``--keep`` layouts with the lowest plain rank bound; then the best layouts
   (``--exact`` of them) get the exact detector count.
2. **Saturating detectors (sections).** A level-j detector
   ``sigma(B x_R - 2j + 1 + B (w . code - t))`` with ``w . code > t`` on some
   states is 1 there whatever the scanned symbol: it serves ``[w . code = t]`` at
   level j and adds ``[w . code > t]`` to level 0, which is free when that vector
   lies in the span of the chosen level-0 detectors. ``--sample`` random state
   codes per digit order (seed 0) get the exact count with sections allowed.

Usage::

    python experiments/layout_extensions.py [--machines minsky_7_4 rogozhin_4_6] [--exact 300] [--sample 150]
        [--keep 3000]

Writes ``experiments/results/layout_extensions.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _results import finish

import turingrnn as tr
from turingrnn.compile import small_tm
from turingrnn.compile.compact_tm import Plan, tape_alphabet
from turingrnn.machines.model import TuringMachine

DEFAULT_OUT = Path(__file__).parent / "results" / "layout_extensions.json"


def layout_values(
    tm: TuringMachine, order: tuple[str, ...], codes: dict[str, int], free: dict[tuple[str, str], tuple[str, str]]
) -> np.ndarray:
    """``[component, index, state]`` as in small_tm, with the missing transitions' writes and moves from ``free``."""
    nbits = len(tm.states).bit_length()
    working = [q for q in tm.states if q not in tm.halting_states]
    return small_tm.plan_values(tm, Plan(order, tuple(codes.items()), 0, nbits, ()), working, free)


def rank_bound(values: np.ndarray) -> int:
    return sum(small_tm._rank(part) for part in small_tm._level_parts(values))


def exact_count(tm: TuringMachine, codes: dict[str, int], values: np.ndarray, sections: bool) -> int:
    """Fewest detectors per level, summed; level-j options are faces, or sections when ``sections``."""
    nbits = len(tm.states).bit_length()
    working = [q for q in tm.states if q not in tm.halting_states]
    vecs = small_tm._bits([codes[q] for q in working], nbits)
    hull = small_tm._bits([0, *codes.values()], nbits)
    parts = small_tm._level_parts(values)
    level0 = [vec for vec, _ in small_tm._thresholds(vecs, nbits)]
    chosen = small_tm._fewest(parts[0], level0)
    total = len(chosen)
    if sections:
        span = np.array([level0[i] for i in chosen], dtype=np.float64).reshape(len(chosen), -1)
        options = list(dict.fromkeys(h for h, side in _sections(vecs, nbits) if _inside(span, side)))
    else:
        options = [vec for vec, _ in small_tm._faces(vecs, hull, nbits)]
    return total + sum(len(small_tm._fewest(part, options)) for part in parts[1:])


def _sections(vecs: np.ndarray, nbits: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    out = []
    for row in small_tm._weights(nbits) @ vecs.T:
        for t in range(0, int(row.max()) + 1):
            on = tuple(int(v == t) for v in row)
            if any(on):
                out.append((on, tuple(int(v > t) for v in row)))
    return out


def _inside(span: np.ndarray, side: tuple[int, ...]) -> bool:
    if not any(side):
        return True
    return len(span) > 0 and small_tm._rank(np.vstack([span, side])) == small_tm._rank(span)


def layouts(tm: TuringMachine) -> list[tuple[tuple[str, ...], dict[str, int]]]:
    base = tape_alphabet(tm)
    nbits = len(tm.states).bit_length()
    out = []
    for rest in itertools.permutations(base[1:]):
        for assignment in itertools.permutations(range(1, 2**nbits), len(tm.states)):
            out.append(((base[0], *rest), dict(zip(tm.states, assignment, strict=True))))
    return out


def free_missing(tm: TuringMachine, exact: int, keep: int) -> dict[str, Any]:
    """Coordinate descent over the missing transitions' writes and moves, on the ``keep`` layouts of lowest
    plain rank bound (all layouts when ``keep`` is 0)."""
    candidates = layouts(tm)
    if keep:
        plain = [rank_bound(layout_values(tm, order, codes, {})) for order, codes in candidates]
        candidates = [candidates[i] for i in sorted(range(len(candidates)), key=lambda i: (plain[i], i))[:keep]]
    working = [q for q in tm.states if q not in tm.halting_states]
    missing = [(q, a) for q in working for a in tm.symbols if tm.rule(q, a) is None]
    moves = ("R", "L", "S") if any(r.move == "S" for r in tm.rules) else ("R", "L")
    choices = list(itertools.product(tm.symbols, moves))
    scored = []
    for order, codes in candidates:
        free: dict[tuple[str, str], tuple[str, str]] = {}
        best = rank_bound(layout_values(tm, order, codes, free))
        for _ in range(2):
            for pair in missing:
                for choice in choices:
                    trial = {**free, pair: choice}
                    bound = rank_bound(layout_values(tm, order, codes, trial))
                    if bound < best:
                        best, free = bound, trial
        scored.append((best, order, codes, free))
    scored.sort(key=lambda r: r[0])
    fewest = None
    for bound, order, codes, free in scored[:exact]:
        if fewest is not None and bound >= fewest:
            break
        count = exact_count(tm, codes, layout_values(tm, order, codes, free), sections=False)
        fewest = count if fewest is None else min(fewest, count)
    return {
        "layouts": len(scored),
        "of": len(layouts(tm)),
        "rank_bound": scored[0][0],
        "counted": min(exact, len(scored)),
        "fewest": fewest,
    }


def with_sections(tm: TuringMachine, sample: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    all_layouts = layouts(tm)
    orders = sorted({order for order, _ in all_layouts})
    picked = []
    for order in orders:
        mine = [codes for o, codes in all_layouts if o == order]
        picked += [(order, mine[i]) for i in rng.permutation(len(mine))[:sample]]
    counts = [exact_count(tm, codes, layout_values(tm, order, codes, {}), sections=True) for order, codes in picked]
    return {"layouts": len(picked), "fewest": min(counts)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", nargs="+", default=["minsky_7_4", "rogozhin_4_6"])
    parser.add_argument("--exact", type=int, default=300)
    parser.add_argument("--sample", type=int, default=150)
    parser.add_argument(
        "--keep", type=int, default=3000, help="free missing transitions: descend from this many layouts (0: all)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = []
    for name in args.machines:
        tm = tr.load_machine(name)
        found = small_tm.search(tm)
        t0 = time.perf_counter()
        row = {
            "machine": name,
            "small_rank_bound": found.bound,
            "small_detectors": len(found.plan.detectors),
            "free_missing": free_missing(tm, args.exact, args.keep),
            "sections": with_sections(tm, args.sample),
        }
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = [
        "| machine | small: rank bound / detectors | free missing transitions: layouts, rank bound, fewest "
        "(exactly counted) | sections: layouts sampled, fewest | seconds |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for r in rows:
        f, s = r["free_missing"], r["sections"]
        lines.append(
            f"| {r['machine']} | {r['small_rank_bound']} / {r['small_detectors']} | "
            f"{f['layouts']:,} of {f['of']:,}, {f['rank_bound']}, {f['fewest']} ({f['counted']}) | "
            f"{s['layouts']:,}, {s['fewest']} | {r['seconds']} |"
        )
    out = {"config": {k: str(v) for k, v in vars(args).items()}, "rows": rows, "table": "\n".join(lines)}
    return finish(out, args.out)


if __name__ == "__main__":
    main()
