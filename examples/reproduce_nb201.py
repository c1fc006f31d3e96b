"""Compare every search strategy on NAS-Bench-201, as arch2vec and NASLib report it.

Each strategy searches by the 200-epoch validation accuracy (``cifar10_valid``) for N seeds;
at budgets 50/100/150 we report the test accuracy (``cifar10_test``) of the best-by-validation
architecture found (mean +/- std over seeds), the median number of queries to reach the
global optimum (by validation), and the wall-clock search overhead per query. Curves of the
same quantity (not a running maximum of the test accuracy) are saved as a PNG. The 12-epoch
CIFAR-100 / ImageNet16-120 columns work the same way
(``--objective 12ep_cifar100_valid --report 12ep_cifar100_test``).

    python examples/reproduce_nb201.py --dataset nb201.jsonl [--model nb201_vae.pt]
        [--seeds 100] [--strategies random,evolution,local,bo,bo-pool] [--workers 2] [--out runs/nb201]
        [--options '{"bo": {"acquisition": {"name": "ucb"}}}']

``nb201.jsonl``: see examples/build_nb201_dataset.py. Without --model the BO strategies use the
library's default NB201 VAE (trained once on all 15,625 cells, about 96 s with one thread
on a quiet machine, then cached).
Results of decode mode (``bo``) and pool mode (``bo-pool``) are labelled as such.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from graphvae_nas.experiments.compare import (
    ComparisonSpec,
    comparison_model,
    run_comparison,
    summarise,
)
from graphvae_nas.experiments.curves import comparison_curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", help="trained NB201 VAE for the bo strategies (default: the cached default VAE)")
    parser.add_argument("--strategies", default="random,evolution,local,bo,bo-pool")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budgets", default="50,100,150")
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--objective", default="cifar10_valid")
    parser.add_argument("--report", default="cifar10_test")
    parser.add_argument("--options", default="{}",
                        help='JSON {"strategy": {option: value}} of strategy options, nested by '
                             'group (graphvae-nas search --list-options)')
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("runs/nb201"))
    args = parser.parse_args()

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator

    budgets = [int(b) for b in args.budgets.split(",")]
    strategies = [s for s in args.strategies.split(",") if s]
    dataset = load_dataset(args.dataset, verify=False)
    model = comparison_model(args.model, strategies, dataset.space)
    spec = ComparisonSpec(args.dataset, strategies, [args.objective], report=args.report,
                          seeds=args.seeds, budget=max(budgets), batch_size=args.batch_size,
                          model=model, options=json.loads(args.options))
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # every finished run lands in runs.jsonl at once; rerunning with the same --out resumes
    runs = run_comparison(spec, workers=args.workers, runs_path=args.out / "runs.jsonl")
    wall = time.perf_counter() - start
    optimum = TabularEvaluator(dataset, args.objective).best()[1]
    table = summarise(runs, budgets, optimum)

    print(f"\n{args.seeds} seeds, search by {args.objective}, report {args.report} "
          f"(optimum {args.objective} {optimum}); options {spec.options}")
    header = "".join(f"{'@' + str(b):>18s}" for b in budgets)
    print(f"{'strategy':12s}{header}{'median q to opt (found)':>22s}{'overhead s/q':>14s}")
    for name, row in table.items():
        cells = [f"{row[str(b)]['mean']:9.3f} +/- {row[str(b)]['std']:.2f}" for b in budgets]
        print(f"{name:12s}" + "".join(f"{c:>18s}" for c in cells)
              + f"{row['queries_to_optimum']:>22s}{row['overhead_s_per_proposal']:14.4f}")
    print(f"wall time {wall / 60:.1f} min with {args.workers} workers")
    (args.out / "results.json").write_text(json.dumps(
        {"table": table, "wall_s": wall, "seeds": args.seeds, "objective": args.objective,
         "report": args.report, "optimum": optimum, "options": spec.options, "model": model},
        indent=2))
    try:
        from graphvae_nas.viz import plot_curves
    except ImportError:
        return
    curves = comparison_curves(runs, max(budgets))
    plot_curves({f"{args.report} (%) of the best-by-{args.objective} cell": curves},
                args.out / "curves.png",
                title=f"NAS-Bench-201: {args.report} of the best cell by {args.objective}, "
                      f"mean +/- std over {args.seeds} seeds (as in the table)")

if __name__ == "__main__":
    main()
