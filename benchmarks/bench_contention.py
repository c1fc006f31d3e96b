"""Default-VAE training alone and beside competing CPU-bound processes; prints JSON.

The first step of the main job (``graphvae-nas search`` with no arguments) trains the default
NB201 VAE (:mod:`graphvae_nas.vae.default_model`). This times that training on an otherwise
idle machine and again while ``--competitors`` busy-looping processes (default 2) compete for
the cores, for each thread count of ``--threads`` (default: the library's
``DEFAULT_THREADS``; ``--threads 1,2`` compares). A fair share of 2 cores among 3 CPU-bound
processes gives a ratio contended/alone of about 2; the target is <= 3 (issue 14).

    python benchmarks/bench_contention.py [--threads 1,2] [--epochs 12] [--archs 15625]

``--epochs 1 --archs 256`` is a smoke run of a few seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.spaces import get_space  # noqa: E402
from graphvae_nas.threads import DEFAULT_THREADS  # noqa: E402
from graphvae_nas.vae.default_model import DEFAULT_CONFIG, DEFAULT_TRAINING, training_architectures  # noqa: E402
from graphvae_nas.vae.model import GraphVAE  # noqa: E402
from graphvae_nas.vae.trainer import TrainConfig, train_vae  # noqa: E402

BUSY_LOOP = "import sys\nprint('ready', flush=True)\nwhile True:\n    pass\n"


def start_competitors(count: int) -> list[subprocess.Popen]:
    """``count`` CPU-bound processes, each running once it has said ``ready``."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a competing process did not start")
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.kill()
        proc.wait()


def train_seconds(archs, epochs: int, threads: int) -> float:
    torch.manual_seed(0)
    model = GraphVAE(get_space("nb201"), DEFAULT_CONFIG)
    config = TrainConfig(**{**DEFAULT_TRAINING, "epochs": epochs}, seed=0, threads=threads,
                         device="cpu", progress=False)
    start = time.perf_counter()
    train_vae(model, archs, config)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default=str(DEFAULT_THREADS),
                        help="comma-separated intra-op thread counts to measure")
    parser.add_argument("--epochs", type=int, default=DEFAULT_TRAINING["epochs"])
    parser.add_argument("--archs", type=int, help="train on the first N architectures only")
    parser.add_argument("--competitors", type=int, default=2)
    args = parser.parse_args()

    archs = training_architectures(get_space("nb201"))
    archs = archs[:args.archs] if args.archs else archs
    report = {"epochs": args.epochs, "architectures": len(archs), "competitors": args.competitors,
              "cpu_count": os.cpu_count(), "loadavg_before": os.getloadavg(),
              "torch": torch.__version__, "results": {}}
    for threads in [int(t) for t in args.threads.split(",")]:
        train_seconds(archs[:64], 1, threads)   # warm-up: first-call costs are not training
        alone = train_seconds(archs, args.epochs, threads)
        procs = start_competitors(args.competitors)
        try:
            contended = train_seconds(archs, args.epochs, threads)
        finally:
            stop(procs)
        report["results"][str(threads)] = {"alone_s": round(alone, 2), "contended_s": round(contended, 2),
                                           "ratio": round(contended / alone, 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
