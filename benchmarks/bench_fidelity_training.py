"""Low-fidelity training: does a short run rank networks as the full run does, continued or restarted?

Trains ``--cells`` random NAS-Bench-201 cells on scikit-learn's digits (the real-training
check of multi-fidelity search) with the library's evaluator at fidelities LOW and FULL
epochs, two ways:

* ``continue``: the cosine schedule is planned for FULL epochs; the LOW-epoch run stops part
  way through it, saves its state, and the promotion to FULL continues from it (cost FULL -
  LOW more epochs);
* ``restart``: the LOW-epoch run has its own LOW-epoch schedule; a promotion trains FULL epochs
  from the start.

and prints JSON: the Spearman rank correlation of each way's LOW-epoch validation accuracy
with the FULL-epoch one, whether every continued promotion equals the uninterrupted FULL-epoch
training, the epochs and seconds each way costs for promoting every cell, and the machine.
Usage: ``python benchmarks/bench_fidelity_training.py [--cells 30] [--low 1] [--full 4]``.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.images import load_image_data  # noqa: E402
from graphvae_nas.evaluation.trainer import TrainingConfig  # noqa: E402
from graphvae_nas.evaluation.training import TrainingEvaluator  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=30)
    parser.add_argument("--low", type=int, default=1)
    parser.add_argument("--full", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    space = get_space("nb201")
    rng = random.Random(args.seed)
    cells = [space.sample(rng) for _ in range(args.cells)]
    data = load_image_data("digits", seed=0)
    config = TrainingConfig(epochs=args.full, batch_size=64, lr=0.05, device="cpu")
    network = {"C": 8, "N": 1}
    rows = []
    with tempfile.TemporaryDirectory() as states:
        ways = {"continue": TrainingEvaluator(space, data, config, network=network,
                                              fidelities=[args.low, args.full],
                                              state_dir=states),
                "restart": TrainingEvaluator(space, data, config, network=network,
                                             fidelities=[args.low, args.full],
                                             continue_training=False)}
        for cell in cells:
            row = {"cell": space.format(cell)}
            for way, evaluator in ways.items():
                start = time.perf_counter()
                low = evaluator.evaluate_at(cell, args.low)
                high = evaluator.evaluate_at(cell, args.full)
                row[way] = {"low_valid_acc": low.metrics["valid_acc"],
                            "full_valid_acc": high.metrics["valid_acc"],
                            "full_valid_loss": high.metrics["valid_loss"],
                            "epochs": low.cost + high.cost,
                            "seconds": time.perf_counter() - start}
            rows.append(row)
    full = [r["restart"]["full_valid_acc"] for r in rows]   # FULL epochs from the start
    result = {
        "cells": args.cells, "low_epochs": args.low, "full_epochs": args.full,
        "spearman_low_vs_full": {way: spearman([r[way]["low_valid_acc"] for r in rows], full)
                                 for way in ("continue", "restart")},
        "continued_equals_uninterrupted": all(
            r["continue"]["full_valid_loss"] == r["restart"]["full_valid_loss"] for r in rows),
        "epochs_to_promote_every_cell": {way: sum(r[way]["epochs"] for r in rows)
                                         for way in ("continue", "restart")},
        "seconds": {way: round(sum(r[way]["seconds"] for r in rows), 1)
                    for way in ("continue", "restart")},
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                    "torch": torch.__version__},
        "rows": rows,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
