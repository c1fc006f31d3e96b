"""The 100-seed NAS-Bench-201 comparison of every search strategy, timed; prints JSON.

Runs random search, regularised evolution, local search, latent BO (decode and pool mode, with
the library's default NB201 VAE unless ``--model`` is given), BANANAS (a GNN ensemble on
mutations of the best cells) and bo-gnn (latent decodes scored by the GNN ensemble) for N seeds
at ``--budget`` queries (150) on the CIFAR-10 200-epoch columns (search by validation, report
test), in ``--workers`` processes, and reports the whole wall time (target: under 60 minutes on
the 2-core CI machine), each strategy's mean/std test accuracy at 50/100/150 queries, median
queries to the optimum, and the search overhead per proposal. It also times one round of each
model-based strategy at 150 observations (target: under 1 s per proposed architecture). Usage:
``python benchmarks/bench_search.py --dataset nb201.jsonl [--seeds 100] [--workers 2]``
(build ``nb201.jsonl`` with examples/build_nb201_dataset.py).

With ``--pareto`` it benchmarks multi-objective search instead: CIFAR-10 validation accuracy
against edge-GPU and against Pixel 3 latency, mean/std hypervolume ratio (found front / exact
front, and the same with test accuracy) at 50/100/150 queries for random search, evolution over
Pareto rank, NSGA-II and qLogNEHVI latent BO (decode and pool mode), plus one round of each BO
strategy at 150 observations with two objectives (target: under 2 s per proposal).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.datasets import load_dataset
from graphvae_nas.evaluation import TabularEvaluator
from graphvae_nas.search import History, make_strategy
from graphvae_nas.experiments.compare import ComparisonSpec, run_comparison, summarise
from graphvae_nas.vae.persistence import load_model


MODEL_BASED = ("bo", "bo-pool", "bananas", "bo-gnn")
DEFAULT_STRATEGIES = "random,evolution,local,bo,bo-pool,bananas,bo-gnn"


def round_at_150(dataset, model_path: str, batch: int, names,
                 objectives: tuple[str, ...] = ("cifar10_valid:max",)) -> dict[str, dict[str, float]]:
    """Seconds of one round (surrogate fit, acquisition, candidates, selection) of each
    model-based strategy with 150 observations of ``objectives`` (the best of three rounds)."""
    from graphvae_nas.search.objectives import as_objectives

    torch.set_num_threads(1)
    model, _ = load_model(model_path, space=dataset.space)
    specs = as_objectives(list(objectives))
    evaluator = TabularEvaluator(dataset, [o.name for o in specs])
    history = History(dataset.space, objective_specs=specs)
    for arch in random.Random(0).sample(dataset.archs, 150):
        evaluation = evaluator.evaluate(arch)
        history.add(arch, evaluation.objective, "", evaluation.values)
    result = {}
    for name in names:
        strategy = make_strategy(name, model=model, candidates=dataset.archs, space=dataset.space)
        times = []
        for seed in range(3):
            start = time.perf_counter()
            strategy.propose(history, batch, random.Random(seed))
            times.append(time.perf_counter() - start)
        result[name] = {"round_s": min(times), "per_proposal_s": min(times) / batch, "batch": batch}
    return result


def round_at_150_pareto(dataset, model_path: str, batch: int, names,
                        latency: str = "hw_edgegpu_latency") -> dict[str, dict[str, float]]:
    """One two-objective round (accuracy vs ``latency``): :func:`round_at_150`."""
    return round_at_150(dataset, model_path, batch, names,
                        objectives=("cifar10_valid:max", f"{latency}:min"))


def pareto_main(args, dataset, model: str) -> None:
    from graphvae_nas.experiments.nb201 import REFERENCE_POINTS
    from graphvae_nas.experiments.pareto_summary import summarise_pareto, true_fronts

    names = args.strategies.split(",")
    result: dict = {"round_at_150_observations": round_at_150_pareto(
        dataset, model, args.batch_size, [n for n in names if n in ("bo", "bo-pool")])}
    if args.rounds_only:
        print(json.dumps(result, indent=2))
        return
    budgets = [b for b in (50, 100, 150) if b <= args.budget] or [args.budget]
    for latency in ("hw_edgegpu_latency", "hw_pixel3_latency"):
        spec = ComparisonSpec(args.dataset, names, ("cifar10_valid:max", f"{latency}:min"),
                              report="cifar10_test", seeds=args.seeds, budget=args.budget,
                              batch_size=args.batch_size, model=model)
        start = time.perf_counter()
        runs_path = None if args.runs is None else f"{args.runs}.{latency}.jsonl"
        runs = run_comparison(spec, workers=args.workers, runs_path=runs_path)
        truth = true_fronts(dataset, spec, known=REFERENCE_POINTS)
        result[latency] = {"wall_s": time.perf_counter() - start, "reference": truth.reference,
                           "true_hypervolume": truth.hypervolume,
                           "table": summarise_pareto(runs, budgets, truth)}
    result.update(workers=args.workers, seeds=args.seeds, model=model, budget=args.budget)
    print(json.dumps(result, indent=2))


def summarise_recorded(args, dataset, spec: ComparisonSpec) -> None:
    """The table of the runs recorded in ``--runs``, over the seeds every strategy finished."""
    from graphvae_nas.experiments.runs_file import RunsFile
    from graphvae_nas.experiments.compare import comparison_settings

    if args.runs is None:
        raise SystemExit("--summarise-only needs --runs FILE")
    recorded = RunsFile(args.runs, comparison_settings(spec)).load()
    seeds = [seed for seed in range(spec.seeds)
             if all((name, seed) in recorded for name in spec.strategies)]
    runs = [recorded[(name, seed)] for seed in seeds for name in spec.strategies]
    budgets = [b for b in (50, 100, 150) if b <= args.budget] or [args.budget]
    print(json.dumps({"seeds_complete": len(seeds), "seeds": seeds, "model": spec.model,
                      "budget": args.budget, "table": summarise(
                          runs, budgets, TabularEvaluator(dataset, "cifar10_valid").best()[1])},
                     indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", help="NB201 VAE (default: the library's cached default VAE)")
    parser.add_argument("--strategies", default=DEFAULT_STRATEGIES)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--runs", help="JSONL file that records every finished run; a rerun with "
                        "the same file skips them (resume after an interruption); with --pareto "
                        "one file per pair, RUNS.<latency column>.jsonl")
    parser.add_argument("--summarise-only", action="store_true",
                        help="only summarise the runs recorded in --runs (the seeds that every "
                             "strategy finished)")
    parser.add_argument("--rounds-only", action="store_true",
                        help="only time one round of each model-based strategy at 150 "
                             "observations (on a quiet machine), without the comparison")
    parser.add_argument("--pareto", action="store_true",
                        help="benchmark multi-objective search (accuracy vs edge-GPU and Pixel 3 "
                             "latency; default strategies random,evolution,nsga2,bo,bo-pool)")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, verify=False)
    model = args.model
    if model is None:
        from graphvae_nas.vae.default_model import default_model

        model = str(default_model(dataset.space, progress=False)[2])
    if args.pareto:
        if args.strategies == DEFAULT_STRATEGIES:
            args.strategies = "random,evolution,nsga2,bo,bo-pool"
        pareto_main(args, dataset, model)
        return
    names = args.strategies.split(",")
    spec = ComparisonSpec(args.dataset, names, ["cifar10_valid"], report="cifar10_test",
                          seeds=args.seeds, budget=args.budget, batch_size=args.batch_size,
                          model=model)
    if args.summarise_only:
        summarise_recorded(args, dataset, spec)
        return
    result: dict = {"round_at_150_observations": round_at_150(
        dataset, model, args.batch_size, [n for n in names if n in MODEL_BASED])}
    if args.rounds_only:
        print(json.dumps(result, indent=2))
        return
    start = time.perf_counter()
    runs = run_comparison(spec, workers=args.workers, runs_path=args.runs)
    result["wall_s"] = time.perf_counter() - start
    result["workers"] = args.workers
    result["seeds"] = args.seeds
    result["model"] = model
    result["budget"] = args.budget
    budgets = [b for b in (50, 100, 150) if b <= args.budget] or [args.budget]
    result["table"] = summarise(runs, budgets, TabularEvaluator(dataset, "cifar10_valid").best()[1])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
