"""The Markdown table of recorded VAE evaluations beside D-VAE's published Bayesian-network row.

Reads ``result.json`` files written by ``examples/reproduce_dvae_bn.py`` (``FILE=LABEL``) and
prints one row per file: reconstruction, validity, uniqueness, novelty, the GP's RMSE and
Pearson r on held-out BIC, epochs and training minutes, and what was reduced from D-VAE's
protocol. A result saved before its GP was fitted (``partial``) shows the GP columns as "-".
``--update PAGE --section NAME`` writes it between the page's report markers::

    python benchmarks/report_vae_quality.py docs/results/runs/bn_dvae_quality.json=cosine-40 \\
        --update docs/results/asia-bic.md --section dvae-quality
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import update_generated  # noqa: E402

PUBLISHED = {"recon_acc": 0.9994, "validity": 0.9884, "uniqueness": 0.3898, "novelty": 0.9801,
             "rmse": 0.300, "pearson": 0.959}
"""D-VAE's "Bayesian networks" rows (Zhang et al., NeurIPS 2019, Tables 1 and 2), as
``examples/reproduce_dvae_bn.py`` prints them."""


def percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def number(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(results: list[tuple[str, dict]]) -> str:
    head = ["model", "reconstruction", "validity", "uniqueness", "novelty", "RMSE", "Pearson r",
            "training", "differs from D-VAE's settings"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = [("D-VAE, Asia (published)", PUBLISHED)] + results
    for label, row in rows:
        training = ("" if "epochs" not in row else
                    f"{row['epochs']} epochs, {row['train_minutes']:.0f} min")
        lines.append("| " + " | ".join([
            label, percent(row.get("recon_acc")), percent(row.get("validity")),
            percent(row.get("uniqueness")), percent(row.get("novelty")),
            number(row.get("rmse")), number(row.get("pearson")), training,
            "; ".join(row.get("reduced", [])) if label != rows[0][0] else ""]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="result.json files, each as FILE=LABEL")
    parser.add_argument("--update", type=Path, help="results page to write the table into")
    parser.add_argument("--section", default="dvae-quality")
    args = parser.parse_args()
    results = []
    for spec in args.results:
        path, _, label = spec.partition("=")
        results.append((label or path, json.loads(Path(path).read_text())))
    text = table(results)
    if args.update:
        update_generated(args.update, args.section, text)
    print(text)


if __name__ == "__main__":
    main()
