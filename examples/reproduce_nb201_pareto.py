"""Multi-objective search on NAS-Bench-201: how close do the found fronts come to the true front?

For each accuracy/latency pair (CIFAR-10 validation accuracy vs edge-GPU latency, and vs
Pixel 3 latency) every strategy searches for both objectives for N seeds; at budgets 50/100/150
we report mean +/- std over seeds of the hypervolume ratio (found front / exact front of the
table, both from the fixed reference points of graphvae_nas.search.pareto), and the same ratio
with the found architectures scored by test accuracy. Runs are appended to
``OUT/<pair>/runs.jsonl`` as they finish, so an interrupted comparison resumes (finished
(strategy, seed) runs are skipped) and ``--summarise-only`` reports whatever is there.

    python examples/reproduce_nb201_pareto.py --dataset nb201.jsonl [--seeds 30]
        [--strategies random,evolution,nsga2,bo,bo-pool] [--pairs edgegpu,pixel3]
        [--workers 2] [--out runs/nb201_pareto]

``nb201.jsonl``: see examples/build_nb201_dataset.py. Without --model the BO strategies use the
library's default NB201 VAE (trained once, then cached).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

PAIRS = {"edgegpu": "hw_edgegpu_latency", "pixel3": "hw_pixel3_latency"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, help="NB201 dataset with accuracy and hw_ columns")
    parser.add_argument("--model", help="trained NB201 VAE for the bo strategies (default: the cached default VAE)")
    parser.add_argument("--strategies", default="random,evolution,nsga2,bo,bo-pool",
                        help="comma-separated strategy names")
    parser.add_argument("--pairs", default="edgegpu,pixel3",
                        help=f"comma-separated latency columns against accuracy: {', '.join(PAIRS)}")
    parser.add_argument("--seeds", type=int, default=30, help="seeds per strategy")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed")
    parser.add_argument("--budgets", default="50,100,150", help="comma-separated budgets")
    parser.add_argument("--batch-size", type=int, default=5, help="architectures per round")
    parser.add_argument("--accuracy", default="cifar10_valid", help="accuracy column searched")
    parser.add_argument("--report", default="cifar10_test", help="accuracy column reported")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--out", type=Path, default=Path("runs/nb201_pareto"), help="results folder")
    parser.add_argument("--summarise-only", action="store_true",
                        help="only summarise the runs already in --out")
    args = parser.parse_args()

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.experiments.runs_file import RunsFile
    from graphvae_nas.experiments.compare import (
        ComparisonSpec,
        comparison_settings,
        run_comparison,
    )
    from graphvae_nas.experiments.nb201 import REFERENCE_POINTS
    from graphvae_nas.experiments.pareto_summary import summarise_pareto, true_fronts
    from graphvae_nas.search.factory import needs_vae

    budgets = [int(b) for b in args.budgets.split(",")]
    strategies = [s for s in args.strategies.split(",") if s]
    dataset = load_dataset(args.dataset, verify=False)
    model = args.model
    if model is None and any(needs_vae(s) for s in strategies):
        from graphvae_nas.vae.default_model import default_model, default_model_path

        model = str(default_model_path(dataset.space) if args.summarise_only
                    else default_model(dataset.space, progress=False)[2])
    results = {}
    for pair in [p for p in args.pairs.split(",") if p]:
        spec = ComparisonSpec(args.dataset, strategies,
                              (f"{args.accuracy}:max", f"{PAIRS[pair]}:min"), report=args.report,
                              seeds=args.seeds, first_seed=args.first_seed,
                              budget=max(budgets), batch_size=args.batch_size, model=model)
        folder = args.out / pair
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "runs.jsonl"
        start = time.perf_counter()

        def progress(run, pair=pair, start=start):
            print(f"{pair} {run['strategy']} seed {run['seed']}: {run['seconds']:.1f} s "
                  f"({time.perf_counter() - start:.0f} s so far)", flush=True)

        if args.summarise_only:
            recorded = RunsFile(path, comparison_settings(spec)).load()
            runs = [r for key, r in recorded.items() if key[0] in strategies]
        else:
            runs = run_comparison(spec, workers=args.workers, runs_path=path, on_run=progress)
        truth = true_fronts(dataset, spec, known=REFERENCE_POINTS)
        table = summarise_pareto(runs, budgets, truth)
        results[pair] = {"objectives": list(spec.objectives), "report": args.report,
                         "reference": truth.reference, "report_reference": truth.report_reference,
                         "true_front_size": len(truth.front),
                         "true_hypervolume": truth.hypervolume,
                         "true_report_hypervolume": truth.report_hypervolume, "table": table}
        print(f"\n{args.accuracy} vs {PAIRS[pair]} (reference {truth.reference}; exact front "
              f"{len(truth.front)} cells, hypervolume {truth.hypervolume:.2f})")
        header = "".join(f"{'@' + str(b):>26s}" for b in budgets)
        print(f"{'strategy':10s}{'runs':>5s}{header}{'s/proposal':>12s}")
        for name, row in table.items():
            cells = [f"{row[str(b)]['hv_ratio_mean']:.4f}+/-{row[str(b)]['hv_ratio_std']:.4f} "
                     f"({row[str(b)]['report_ratio_mean']:.4f})" for b in budgets]
            print(f"{name:10s}{row['runs']:5d}" + "".join(f"{c:>26s}" for c in cells)
                  + f"{row['overhead_s_per_proposal']:12.3f}")
        print("cells: hypervolume ratio mean+/-std (ratio with test accuracy)")
        _plot(dataset, truth, runs, strategies, folder / "fronts.png", max(budgets))
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


def _plot(dataset, truth, runs, strategies, path: Path, budget: int) -> None:
    """The exact front and, per strategy, the found front of its first seed."""
    try:
        from graphvae_nas.viz import plot_fronts
    except ImportError:
        return
    from graphvae_nas.search.pareto import raw_front

    found = {}
    for name in strategies:
        mine = sorted((r for r in runs if r["strategy"] == name), key=lambda r: r["seed"])
        if mine:
            values = mine[0]["values"][:budget]
            found[f"{name} (seed {mine[0]['seed']})"] = [values[i] for i in
                                                         raw_front(truth.objectives, values)]
    plot_fronts(truth.objectives, [v for _, v in truth.front], found, str(path))


if __name__ == "__main__":
    main()
