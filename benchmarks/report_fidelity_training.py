"""The Markdown table of ``benchmarks/bench_fidelity_training.py``'s JSON: continued against
restarted low-fidelity training.

One row per way (``continue``, ``restart``): the Spearman correlation of the low-fidelity
validation accuracy with the full training's, the epochs and seconds it takes to train every
cell at the low fidelity and then promote it, and whether each continued promotion equals the
uninterrupted full training. ``--update PAGE --section NAME`` writes it between the page's
report markers::

    python benchmarks/report_fidelity_training.py docs/results/runs/fidelity_training_digits.json \\
        --update docs/results/nb201-fidelity.md --section training
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import update_generated  # noqa: E402


def table(result: dict) -> str:
    low, full = result["low_epochs"], result["full_epochs"]
    head = ["way", "cells", f"Spearman: {low}-epoch vs {full}-epoch validation accuracy",
            "epochs to train every cell, then promote it", "seconds (loaded)",
            "promotion equals the uninterrupted training"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for way in ("continue", "restart"):
        same = ("yes, every cell" if result["continued_equals_uninterrupted"] else "no") \
            if way == "continue" else "(is the full training)"
        lines.append(f"| {way} | {result['cells']} | {result['spearman_low_vs_full'][way]:.3f} | "
                     f"{result['epochs_to_promote_every_cell'][way]:g} | "
                     f"{result['seconds'][way]:g} | {same} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--update", type=Path, help="results page to write the table into")
    parser.add_argument("--section", help="with --update: the marker name in the page")
    args = parser.parse_args()
    text = table(json.loads(args.result.read_text()))
    if args.update:
        if not args.section:
            raise SystemExit("--update needs --section")
        update_generated(args.update, args.section, text)
    print(text)


if __name__ == "__main__":
    main()
