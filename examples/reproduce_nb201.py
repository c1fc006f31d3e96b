"""Compare every search strategy on NAS-Bench-201, as arch2vec and NASLib report it.

Each strategy searches by the 200-epoch validation accuracy (``cifar10_valid``) for N seeds;
at budgets 50/100/150 we report the test accuracy (``cifar10_test``) of the best-by-validation
architecture found (mean +/- std over seeds), the median number of queries to reach the
global optimum (by validation), and the wall-clock search overhead per query. Curves are saved
as a PNG. The 12-epoch CIFAR-100 / ImageNet16-120 columns work the same way
(``--objective 12ep_cifar100_valid --report 12ep_cifar100_test``).

    python examples/reproduce_nb201.py --dataset nb201.jsonl --model nb201_vae.pt
        [--seeds 100] [--strategies random,evolution,local,bo,bo-pool] [--workers 2] [--out runs/nb201]

``nb201.jsonl``: see examples/build_nb201_dataset.py; the VAE: ``graphvae-nas vae train`` on all
15,625 cells (``graphvae-nas data sample --space nb201 --all``). Without --model only the
baselines run. Results of decode mode (``bo``) and pool mode (``bo-pool``) are labelled as such.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

STATE: dict[str, object] = {}


def _init_worker(dataset_path: str, model_path: str | None, objective: str, report: str) -> None:
    import torch

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator

    torch.set_num_threads(1)
    dataset = load_dataset(dataset_path, verify=False)
    STATE["dataset"] = dataset
    STATE["evaluator"] = TabularEvaluator(dataset, objective, report=[report])
    STATE["report"] = report
    if model_path:
        from graphvae_nas.vae.persistence import load_model

        STATE["model"], _ = load_model(model_path, space=dataset.space)
        STATE["model_name"] = Path(model_path).name


def _run_one(job: tuple[str, int, int, int]) -> dict[str, object]:
    from graphvae_nas.search import Study, make_strategy

    name, seed, budget, batch = job
    dataset = STATE["dataset"]
    strategy = make_strategy(name, model=STATE.get("model"), model_name=STATE.get("model_name", ""),
                             candidates=dataset.archs)
    study = Study(dataset.space, strategy, STATE["evaluator"], seed=seed)
    start = time.perf_counter()
    study.optimize(budget, batch_size=batch)
    report = STATE["report"]
    return {"strategy": name, "seed": seed, "seconds": time.perf_counter() - start,
            "overhead_s": study.stats.overhead_s, "proposals": study.stats.proposals,
            "objective": [t.objective for t in study.trials],
            "report": [t.evaluation.metrics.get(report) for t in study.trials],
            "counters": dict(study.stats.strategy)}


def best_report_at(run: dict[str, object], budget: int) -> float:
    """Report metric of the best-by-objective architecture among the first ``budget`` trials."""
    pairs = [(o, r) for o, r in zip(run["objective"][:budget], run["report"][:budget]) if o is not None]
    return max(pairs, key=lambda p: p[0])[1]


def queries_to_optimum(run: dict[str, object], optimum: float) -> int | None:
    for i, value in enumerate(run["objective"]):
        if value is not None and value >= optimum:
            return i + 1
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", help="trained NB201 VAE for the bo strategies")
    parser.add_argument("--strategies", default="random,evolution,local,bo,bo-pool")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--budgets", default="50,100,150")
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--objective", default="cifar10_valid")
    parser.add_argument("--report", default="cifar10_test")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("runs/nb201"))
    args = parser.parse_args()

    budgets = [int(b) for b in args.budgets.split(",")]
    strategies = [s for s in args.strategies.split(",") if s]
    if not args.model:
        dropped = [s for s in strategies if s.startswith("bo")]
        strategies = [s for s in strategies if not s.startswith("bo")]
        if dropped:
            print(f"no --model: skipping {', '.join(dropped)}")
    jobs = [(name, seed, max(budgets), args.batch_size) for name in strategies for seed in range(args.seeds)]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init_worker,
                             initargs=(args.dataset, args.model, args.objective, args.report)) as pool:
        runs = list(pool.map(_run_one, jobs))
    wall = time.perf_counter() - start

    _init_worker(args.dataset, None, args.objective, args.report)
    optimum = STATE["evaluator"].best()[1]
    args.out.mkdir(parents=True, exist_ok=True)
    table: dict[str, dict[str, object]] = {}
    print(f"\n{args.seeds} seeds, search by {args.objective}, report {args.report} "
          f"(optimum {args.objective} {optimum})")
    header = "".join(f"{'@' + str(b):>18s}" for b in budgets)
    print(f"{'strategy':12s}{header}{'median q to opt':>18s}{'overhead s/q':>14s}")
    for name in strategies:
        mine = [r for r in runs if r["strategy"] == name]
        row: dict[str, object] = {}
        cells = []
        for b in budgets:
            values = [best_report_at(r, b) for r in mine]
            row[str(b)] = {"mean": statistics.mean(values),
                           "std": statistics.pstdev(values) if len(values) > 1 else 0.0}
            cells.append(f"{row[str(b)]['mean']:9.3f} +/- {row[str(b)]['std']:.2f}")
        reach = [queries_to_optimum(r, optimum) for r in mine]
        found = sorted(q for q in reach if q is not None)
        median = statistics.median(found + [float("inf")] * (len(reach) - len(found))) if reach else None
        row["median_queries_to_optimum"] = median
        row["found_optimum"] = f"{len(found)}/{len(reach)}"
        row["overhead_s_per_query"] = sum(r["overhead_s"] for r in mine) / sum(r["proposals"] for r in mine)
        row["counters"] = {k: sum(r["counters"].get(k, 0) for r in mine)
                           for k in {k for r in mine for k in r["counters"]}}
        table[name] = row
        print(f"{name:12s}" + "".join(f"{c:>18s}" for c in cells)
              + f"{median!s:>18s}{row['overhead_s_per_query']:14.4f}")
    print(f"wall time {wall / 60:.1f} min with {args.workers} workers")
    (args.out / "results.json").write_text(json.dumps(
        {"table": table, "wall_s": wall, "seeds": args.seeds, "objective": args.objective,
         "report": args.report, "optimum": optimum}, indent=2))
    try:
        from graphvae_nas.viz import plot_best_so_far

        curves = {name: [[r for r in (best_report_at(run, b) for b in range(1, max(budgets) + 1))]
                         for run in runs if run["strategy"] == name] for name in strategies}
        plot_best_so_far(curves, str(args.out / "curves.png"), ylabel=f"{args.report} (best by "
                         f"{args.objective})", title=f"NAS-Bench-201, {args.seeds} seeds")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
