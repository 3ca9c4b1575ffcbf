"""Does a trained network navigate the cycle, or count? Accuracy on cycle navigation by walk excursion.

Usage:
    turingrnn train cycle_navigation --cell lstm --hidden 64 --steps 20000 --batch 128 --dtype float32 \\
        --readout relu --option forget_bias=1 --backend torch -o lstm.npz
    python experiments/cycle_probe.py lstm.npz relu.npz [--lengths 40,100,200,500] [--n 1024] [--json out.json]
        [--figure docs/figures/cycle_probe.png] [--docs docs/results.md]

Cycle navigation asks for the net number of +1 moves less -1 moves, modulo 5. A network can answer
it two ways that agree on the training lengths (1-40): as a five-state automaton (rotate a
state at every move; any length), or by keeping the running count in an analogue variable and
reading its residue at the end (right only while the count stays in the range it was trained
on). The two predict different things on long walks: an automaton's accuracy does not depend
on how far the walk strays, a counter's falls once the walk's *excursion* (the largest absolute
running count, ``max_t |sum_{s<=t} move_s|``) leaves the training range, at every length alike.
Measured on 20,000 random walks each (numpy, seed 0): training walks (lengths uniform over 1-40)
have an excursion of 11 or less in 99 % of cases and 15 or less in 99.9 %; walks of 500 moves
have a median excursion of 20 and a 90th percentile of 35 (shaded in the figure: 0-15).

For each checkpoint this script samples ``n`` walks at each length (``numpy.random.default_rng
([seed, length])``), takes the model's answers, and reports the accuracy in bins of the
excursion, per length, with the number of walks in each bin (the probe is
:mod:`turingrnn.learning.excursion`; this script is its command line and figure).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from turingrnn.errors import TaskError  # noqa: E402
from turingrnn.learning.comparison_figures import pyplot, save_figure  # noqa: E402
from turingrnn.learning.comparison_report import write_into_docs  # noqa: E402
from turingrnn.learning.excursion import BINS, bin_label, probe, table  # noqa: E402
from turingrnn.learning.protocol import parse_lengths  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def plot(results: list[dict], path: Path) -> None:
    """Accuracy against the excursion bin, one line per length, one panel per checkpoint."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.2), squeeze=False, sharey=True)
    labels = [bin_label(k) for k in range(len(BINS))]
    for ax, r in zip(axes[0], results, strict=True):
        for length, bins in r["by_length"].items():
            xs = [k for k, b in enumerate(labels) if b in bins and bins[b]["walks"] >= 10]
            ax.plot(xs, [bins[labels[k]]["accuracy"] for k in xs], marker="o", ms=3, label=f"length {length}")
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("walk excursion (bins with at least 10 walks)", fontsize=8)
        ax.set_title(f"{r['cell']}, hidden {r['hidden']}, {r['steps']} batches", fontsize=9)
        ax.axvspan(-0.5, 2.5, color="gray", alpha=0.12, lw=0)
        ax.set_ylim(-0.03, 1.03)
    axes[0][0].set_ylabel("accuracy")
    handles = axes[0][0].get_legend_handles_labels()[0]
    save_figure(plt, fig, path, "cycle navigation: accuracy by how far the walk strays (shaded: the "
                "excursions of training walks)", handles, ncol=len(handles), bottom=0.1)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--lengths", default="40,100,200,500")
    parser.add_argument("--n", type=int, default=1024, help="walks per length")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--figure", type=Path)
    parser.add_argument("--docs", type=Path, help="page whose generated block 'cycle_probe' is rewritten")
    args = parser.parse_args(argv)
    try:
        results = [probe(p, parse_lengths(args.lengths), args.n, args.seed) for p in args.checkpoints]
    except TaskError as e:
        raise SystemExit(str(e)) from None
    text = ""
    for r in results:
        text += f"`{r['cell']}`, hidden {r['hidden']}, {r['steps']} batches ({Path(r['checkpoint']).name}): "
        text += "accuracy % (walks) by excursion\n\n" + table(r) + "\n"
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.figure:
        plot(results, args.figure)
    if args.docs:
        write_into_docs(args.docs, "cycle_probe", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
