"""The 100-seed NAS-Bench-201 comparison of every search strategy, timed; prints JSON.

Runs random search, regularised evolution, local search and latent BO (decode and pool mode,
with the library's default NB201 VAE unless ``--model`` is given) for N seeds at 150 queries on
the CIFAR-10 200-epoch columns (search by validation, report test), in ``--workers`` processes,
and reports the whole wall time (target: under 60 minutes on the 2-core CI machine), each
strategy's mean/std test accuracy at 50/100/150 queries, median queries to the optimum, and the
search overhead per proposal. It also times one latent-BO round at 150 observations (target:
under 1 s per proposed architecture). Usage:
``python benchmarks/bench_search.py --dataset nb201.jsonl [--seeds 100] [--workers 2]``
(build ``nb201.jsonl`` with examples/build_nb201_dataset.py).
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
from graphvae_nas.search.compare import ComparisonSpec, run_comparison, summarise
from graphvae_nas.vae.persistence import load_model


def round_at_150(dataset, model_path: str, batch: int) -> dict[str, float]:
    """Seconds of one decode-mode round (GP fit, acquisition, decoding) with 150 observations."""
    torch.set_num_threads(1)
    model, _ = load_model(model_path, space=dataset.space)
    evaluator = TabularEvaluator(dataset, "cifar10_valid")
    strategy = make_strategy("bo", model=model, candidates=dataset.archs)
    history = History(dataset.space)
    for arch in random.Random(0).sample(dataset.archs, 150):
        history.add(arch, evaluator.evaluate(arch).objective, "")
    times = []
    for seed in range(3):
        start = time.perf_counter()
        strategy.propose(history, batch, random.Random(seed))
        times.append(time.perf_counter() - start)
    return {"round_s": min(times), "per_proposal_s": min(times) / batch, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", help="NB201 VAE (default: the library's cached default VAE)")
    parser.add_argument("--strategies", default="random,evolution,local,bo,bo-pool")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, verify=False)
    model = args.model
    if model is None:
        from graphvae_nas.vae.default_model import default_model

        model = str(default_model(dataset.space, progress=False)[2])
    result: dict = {"round_at_150_observations": round_at_150(dataset, model, args.batch_size)}
    spec = ComparisonSpec(args.dataset, args.strategies.split(","), seeds=args.seeds, budget=150,
                          batch_size=args.batch_size, model=model)
    start = time.perf_counter()
    runs = run_comparison(spec, workers=args.workers)
    result["wall_s"] = time.perf_counter() - start
    result["workers"] = args.workers
    result["seeds"] = args.seeds
    result["model"] = model
    result["table"] = summarise(runs, [50, 100, 150], TabularEvaluator(dataset, "cifar10_valid").best()[1])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
