"""Multi-fidelity search on NAS-Bench-201: cheap 12-epoch scores, promotion to 200 epochs.

Every strategy proposes new cells at the lowest fidelity and asynchronous successive halving
promotes the best ``1/eta`` of each fidelity to the next (with one fidelity, it is the plain
search with each query costing its epochs: the single-fidelity rows). The objective is the
validation accuracy at each fidelity (``12ep_cifar10_valid`` at 12 epochs, ``cifar10_valid``
at 200); a run's result at a cost budget is the 200-epoch test accuracy of the best cell
evaluated at the highest fidelity within that many epochs, and the target is the cell with the
best 200-epoch validation accuracy, evaluated at 200 epochs.

    python examples/reproduce_nb201_fidelity.py --dataset runs/nb201.jsonl \\
        --fidelities 12=12ep_cifar10_valid,200=cifar10_valid --eta 16 \\
        --strategies random,evolution --seeds 100 --budget-cost 10000 --out runs/nb201_mf

Each table column is its own training run, so a promotion from 12 to 200 epochs costs 200.
A rerun with the same ``--out`` resumes.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from graphvae_nas.evaluation.fidelity import parse_fidelities
from graphvae_nas.experiments.compare import ComparisonSpec, comparison_model, run_comparison
from graphvae_nas.experiments.fidelity_summary import summarise_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", help="trained NB201 VAE for the latent strategies "
                                        "(default: the cached default VAE)")
    parser.add_argument("--strategies", default="random,evolution")
    parser.add_argument("--fidelities", default="12=12ep_cifar10_valid,200=cifar10_valid",
                        help="FIDELITY=COLUMN pairs: the objective's column at each fidelity")
    parser.add_argument("--eta", type=float, default=16.0,
                        help="the best 1/eta of each fidelity is promoted to the next (16 reached "
                             "the optimum most often of 3, 8 and 16: docs/results/nb201-fidelity.md)")
    parser.add_argument("--promotion", choices=("rank", "model"), default="rank",
                        help="which cells to promote: the best by rank at the lower fidelity "
                             "(ASHA), or by a multi-task GP of all fidelities")
    parser.add_argument("--shortlist", type=int, default=10,
                        help="with --promotion model: the proposer offers this many times a "
                             "batch of new cells and the model picks the most promising (1: no "
                             "shortlist)")
    parser.add_argument("--objective", default="cifar10_valid",
                        help="the objective's name (its values come from --fidelities' columns)")
    parser.add_argument("--report", default="cifar10_test")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budget-cost", type=float, default=10000,
                        help="a run ends when its evaluations cost this many epochs")
    parser.add_argument("--cost-budgets", default="1000,2500,5000,10000",
                        help="the costs at which the summary reports")
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--options", default="{}",
                        help='JSON {"strategy": {option: value}} of strategy options')
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("runs/nb201_mf"))
    args = parser.parse_args()

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator

    strategies = [s for s in args.strategies.split(",") if s]
    columns = parse_fidelities(args.fidelities)
    if None in columns.values():
        raise SystemExit("--fidelities: give the table's column of each fidelity (FIDELITY=COLUMN)")
    fidelities = {f"{f:g}": column for f, column in columns.items()}
    dataset = load_dataset(args.dataset, verify=False)
    model = comparison_model(args.model, strategies, dataset.space)
    spec = ComparisonSpec(args.dataset, strategies, [args.objective], report=args.report,
                          seeds=args.seeds, budget=len(dataset), batch_size=args.batch_size,
                          model=model, options=json.loads(args.options), fidelities=fidelities,
                          eta=args.eta, budget_cost=args.budget_cost, promotion=args.promotion,
                          shortlist=args.shortlist)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    runs = run_comparison(spec, workers=args.workers, runs_path=args.out / "runs.jsonl")
    wall = time.perf_counter() - start
    # the target: the best value of the column named as the objective (200-epoch validation
    # accuracy), which only an evaluation at that column's fidelity can reach
    optimum = TabularEvaluator(dataset, args.objective).best()[1]
    budgets = [float(b) for b in args.cost_budgets.split(",")]
    table = summarise_cost(runs, budgets, optimum)
    print(f"\n{args.seeds} seeds, fidelities {fidelities}, eta {args.eta}, promotion "
          f"{args.promotion}, report {args.report} "
          f"(optimum {args.objective} {optimum})")
    for name, row in table.items():
        cells = "  ".join(f"@{b:g}: {row[f'{b:g}']['mean'] or float('nan'):.2f} "
                          f"({row[f'{b:g}']['at_optimum']}/{row['runs']})" for b in budgets)
        print(f"{name:12s} {cells}  median cost to optimum {row['median_cost_to_optimum']} "
              f"({row['found_optimum']})")
    print(f"wall time {wall / 60:.1f} min with {args.workers} workers")


if __name__ == "__main__":
    main()
