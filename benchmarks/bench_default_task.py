"""Does the default task (``graphvae-nas search`` with no arguments) show what latent BO buys?

Runs the embedded default search (NB201 cells trained on scikit-learn's digits, exactly the
command line's defaults) for each strategy and seed, each run in its own worker process with
one thread, and prints JSON: per strategy the mean/std test accuracy of the best-by-validation
cell at the budget (what the search reports), how many cells tie at the best validation
accuracy (a task that cannot tell cells apart ties many), in how many runs the winner came
from random initialisation, the mean test accuracy of all cells a run evaluated, and per seed
the paired difference BO minus random search.

    python benchmarks/bench_default_task.py [--seeds 10] [--strategies bo,random] [--workers 2]
        [-- extra search options, e.g. --epochs 4 --objective valid_f1]

``--smoke`` runs a tiny configuration (2 seeds, 6 architectures of 1 epoch, a 1-epoch default
VAE in a temporary cache) to check the script, not the task. The default VAE is trained once
in this process before the workers start, so they do not train it concurrently.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMOKE_SEARCH = ["--budget", "6", "--batch-size", "2", "--epochs", "1", "--width", "4"]
SMOKE_BO = '{"n_init": 2}'


def _init_worker(cache: str, vae_epochs: int | None) -> None:
    os.environ["GRAPHVAE_NAS_CACHE"] = cache
    if vae_epochs is not None:
        from graphvae_nas.vae import default_model

        default_model.DEFAULT_TRAINING["epochs"] = vae_epochs


def run_one(job: tuple[str, int, list[str], str]) -> dict[str, Any]:
    """One default search; returns its trials' (validation, test, tag) and the timing."""
    from graphvae_nas.cli import main

    strategy, seed, extra, out = job
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries this script's JSON only
        rc = main(["search", "--strategy", strategy, "--seed", str(seed), "--threads", "1",
                   "--out", out, *extra])
    if rc != 0:
        raise RuntimeError(f"search {strategy} seed {seed} exited with {rc}")
    lines = Path(out, "study.jsonl").read_text().splitlines()
    direction = json.loads(lines[0])["objectives"][0]["direction"]
    records = [json.loads(line) for line in lines[1:]]
    trials = [r for r in records if "trial" in r]
    return {"strategy": strategy, "seed": seed, "seconds": time.perf_counter() - start,
            "direction": direction, "objective": [r.get("objective") for r in trials],
            "test": [r.get("metrics", {}).get("test_acc") for r in trials],
            "tags": [r.get("tag", "") for r in trials]}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the module docstring promises."""
    from graphvae_nas.experiments.curves import best_by_objective, random_init_length

    out: dict[str, Any] = {"strategies": {}}
    by_seed: dict[int, dict[str, float]] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]
        finals, ties, from_init = [], [], 0
        for r in mine:
            minimize = r.get("direction") == "min"
            final = best_by_objective(r["objective"], r["test"], minimize=minimize)[-1]
            finals.append(final)
            by_seed.setdefault(r["seed"], {})[name] = final
            scored = [o for o in r["objective"] if o is not None]
            best = min(scored) if minimize else max(scored)
            ties.append(sum(o == best for o in scored))
            first_best = r["objective"].index(best)
            from_init += first_best < random_init_length(r["tags"])
        out["strategies"][name] = {
            "best_by_valid_test_acc_mean": statistics.mean(finals),
            "best_by_valid_test_acc_std": statistics.pstdev(finals),
            "cells_tied_at_best_valid_mean": statistics.mean(ties),
            "winner_from_random_init": f"{from_init}/{len(mine)}",
            "test_acc_of_all_cells_mean": statistics.mean(  # how good the proposals are overall
                statistics.mean(t for t in r["test"] if t is not None) for r in mine),
            "seconds_per_run_mean": statistics.mean(r["seconds"] for r in mine)}
    pairs = [v["bo"] - v["random"] for v in by_seed.values() if {"bo", "random"} <= set(v)]
    if pairs:
        out["bo_minus_random"] = {
            "mean": statistics.mean(pairs), "per_seed": pairs,
            "std_error": statistics.stdev(pairs) / len(pairs) ** 0.5 if len(pairs) > 1 else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per strategy (default: 10)")
    parser.add_argument("--strategies", default="bo,random", help="default: bo,random")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes, one thread each (default: the CPU count)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="options passed to every search")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    seeds, vae_epochs = args.seeds, None
    cache = os.environ.get("GRAPHVAE_NAS_CACHE") or str(Path.home() / ".cache" / "graphvae_nas")
    scratch = tempfile.mkdtemp(prefix="bench_default_task_")
    if args.smoke:
        seeds, vae_epochs, cache = min(seeds, 2), 1, str(Path(scratch) / "cache")
        extra = SMOKE_SEARCH + ["--options", SMOKE_BO] + extra
    _init_worker(cache, vae_epochs)
    import torch

    from graphvae_nas.spaces import get_space
    from graphvae_nas.vae.default_model import default_model

    torch.set_num_threads(1)
    start = time.perf_counter()
    default_model(get_space("nb201"), progress=False)  # train (or find) it once, before the workers
    vae_seconds = time.perf_counter() - start
    strategies = [s for s in args.strategies.split(",") if s]
    jobs = [(name, seed, extra, str(Path(scratch) / f"{name}-{seed}"))
            for seed in range(seeds) for name in strategies]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init_worker,
                             initargs=(cache, vae_epochs)) as pool:
        runs = list(pool.map(run_one, jobs))
    result = {"seeds": seeds, "workers": args.workers, "extra_search_options": extra,
              "smoke": args.smoke, "default_vae_seconds": vae_seconds,
              "wall_s": time.perf_counter() - start, **summarise(runs), "runs": runs}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
