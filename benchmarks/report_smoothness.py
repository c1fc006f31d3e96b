"""Tables and a plot of recorded ``bench_latent_smoothness.py`` runs.

``python benchmarks/report_smoothness.py RUN.json=LABEL ... --update docs/results/latent-smoothness.md
--section smoothness --plot docs/results/latent-smoothness.png`` writes, per run and centre set,
the share of decodes equal to the centre's decode and their mean distance to it at each noise
scale, and the interpolation summary, between the page's ``<!-- report:NAME -->`` markers.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import update_generated  # noqa: E402

CENTRE_SETS = ("held_out", "best_1pct", "optimum")


def read(specs: list[str]) -> list[tuple[str, dict]]:
    runs = []
    for spec in specs:
        path, _, label = spec.partition("=")
        run = json.loads(Path(path).read_text())
        runs.append((label or run["model"], run))
    return runs


def tables(runs: list[tuple[str, dict]]) -> str:
    scales = runs[0][1]["scales_of_box"]
    head = ["model", "centres", "centre decoded to itself"] + [f"s = {s}" for s in scales]
    lines = ["Each cell: decodes equal to the centre's decode / their mean distance to it "
             "(arcs on bn, cell edges on nb201); invalid decodes are listed below when there "
             "are any.", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    invalid = []
    for label, run in runs:
        for name in CENTRE_SETS:
            if name not in run:
                continue
            part = run[name]
            cells = [label, f"{name.replace('_', ' ')} ({part['centres']})",
                     f"{100 * part['centre_decode_is_centre']:.1f} %"]
            for s in scales:
                row = part[str(s)]
                cells.append(f"{100 * row['same_as_centre']:.1f} % / {row['mean_distance']:.2f}")
                if row["invalid"]:
                    invalid.append(f"{label}, {name}, s = {s}: {100 * row['invalid']:.2f} % invalid")
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Invalid decodes: " + ("; ".join(invalid) if invalid else "none."), "",
              "| model | interpolation paths x points | invalid | distinct decodes per path | "
              "mean distance between neighbouring decodes | mean absolute score step |",
              "|---|---|---|---|---|---|"]
    for label, run in runs:
        part = run["interpolation"]
        lines.append(f"| {label} | {part['pairs']} x {part['steps']} | {100 * part['invalid']:.1f} % | "
                     f"{part['mean_distinct_per_path']:.1f} | {part['mean_step_distance']:.2f} | "
                     f"{part['mean_abs_score_step']:.3g} |")
    return "\n".join(lines)


def plot(runs: list[tuple[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, run in runs:
        scales = run["scales_of_box"]
        for name, style in zip(CENTRE_SETS, ("-", "--", ":")):
            if name in run:
                ax.plot(scales, [run[name][str(s)]["mean_distance"] for s in scales], style,
                        marker="o", label=f"{label}, {name.replace('_', ' ')}")
    ax.set_xlabel("noise scale s (x the latent box's width)")
    ax.set_ylabel("mean distance to the centre's decode")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="JSON files of bench_latent_smoothness.py, as FILE=LABEL")
    parser.add_argument("--update", type=Path)
    parser.add_argument("--section", default="smoothness")
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    runs = read(args.runs)
    text = tables(runs)
    if args.plot:
        plot(runs, args.plot)
    if args.update:
        update_generated(args.update, args.section, text)
    print(text)


if __name__ == "__main__":
    main()
