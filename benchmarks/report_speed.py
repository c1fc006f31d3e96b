"""The table and plot of a recorded ``bench_vs_dvae.py`` run (our VAE beside D-VAE's code).

``python benchmarks/report_speed.py docs/results/runs/vs_dvae-2026-12-07.json --update
docs/results/performance.md --section vs-dvae --plot docs/results/vs_dvae.png`` writes the
table between the page's ``<!-- report:vs-dvae -->`` markers, with the command that made it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import update_generated  # noqa: E402


def rows(run: dict) -> list[tuple[int, str, int, float, float]]:
    """``(threads, precision, batch, ours graphs/s, ratio to D-VAE at those threads)``."""
    out = []
    for key, rate in run["ours"].items():
        threads, precision, batch = key.split("_")
        threads_n = int(threads.removeprefix("threads"))
        dvae = run["dvae"][f"threads{threads_n}_fp32_batch32"]["graphs_per_s"]
        out.append((threads_n, precision, int(batch.removeprefix("batch")), rate, rate / dvae))
    return sorted(out)


def table(run: dict) -> str:
    lines = [f"Recorded {run['date']}; {run['settings']}; load average "
             f"{run['load_before']:.2f} before, {run['load_after']:.2f} after (the run's own load).",
             "", "| threads | D-VAE's code, fp32, batch 32 (graphs/s) | ours: precision, batch | "
             "ours (graphs/s) | ours / D-VAE |", "|---|---|---|---|---|"]
    for threads, precision, batch, rate, ratio in rows(run):
        dvae = run["dvae"][f"threads{threads}_fp32_batch32"]["graphs_per_s"]
        lines.append(f"| {threads} | {dvae:.1f} | {precision}, {batch} | {rate:.1f} | {ratio:.1f}x |")
    return "\n".join(lines)


def plot(run: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = rows(run)
    labels = [f"{t} thr\nD-VAE" for t in (1, 2)] + [f"{t} thr\n{p} b{b}" for t, p, b, _, _ in data]
    values = [run["dvae"][f"threads{t}_fp32_batch32"]["graphs_per_s"] for t in (1, 2)] + \
             [rate for _, _, _, rate, _ in data]
    colours = ["tab:grey"] * 2 + ["tab:blue"] * len(data)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.bar(range(len(values)), values, color=colours)
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_ylabel("training graphs/s")
    ax.set_title(f"VAE training throughput, ENAS settings ({run['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="JSON printed by bench_vs_dvae.py")
    parser.add_argument("--update", type=Path, help="results page to write the table into")
    parser.add_argument("--section", default="vs-dvae")
    parser.add_argument("--plot", type=Path, help="save a bar chart as this PNG")
    args = parser.parse_args()
    run = json.loads(args.run.read_text())
    text = table(run)
    if args.plot:
        plot(run, args.plot)
    if args.update:
        update_generated(args.update, args.section, text)
    print(text)


if __name__ == "__main__":
    main()
