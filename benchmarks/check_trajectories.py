"""Record or compare the search trajectories of every strategy; prints JSON.

A refactoring of the search layer must not change what a strategy proposes. This script runs
every registered strategy for seeds 0 and 1 on NAS-Bench-201 (CIFAR-10 validation, 30 queries,
batches of 5) and on the Asia BIC (100 evaluations, batches of 10), and writes the proposed
architectures in order (canonical hashes). The latent strategies use a small VAE of each space
that this script trains once, seeded, into ``--workdir`` (the same file serves both runs).

    python benchmarks/check_trajectories.py --record before.json     # before the change
    python benchmarks/check_trajectories.py --compare before.json    # after: exit 1 on a change

``benchmarks/trajectories-926251d.json`` holds the trajectories of commit 926251d (before the
options were grouped), recorded on the 2-core CPU machine with torch 2.13.0; compare against
it to show that a later change keeps them (the small VAEs are trained on the CPU, so another
torch build or processor may train other weights and record other latent-strategy runs).
Since commit 3302169 (exact resume: a study holds each proposal as its stored form), ``asia/bo``
differs from that file on purpose; the other 34 trajectories are kept.

Needs ``../shared/data`` (NAS-Bench-201's 200-epoch table and bnlearn's Asia data).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.datasets import read_table  # noqa: E402
from graphvae_nas.evaluation import TabularEvaluator  # noqa: E402
from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.search import Study, make_strategy  # noqa: E402
from graphvae_nas.search.factory import available_strategies, needs_vae  # noqa: E402
from graphvae_nas.spaces import get_space, sample_distinct  # noqa: E402
from graphvae_nas.vae.config import VAEConfig  # noqa: E402
from graphvae_nas.vae.model import GraphVAE  # noqa: E402
from graphvae_nas.vae.persistence import load_model, save_model  # noqa: E402
from graphvae_nas.vae.trainer import TrainConfig, train_vae  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEEDS = (0, 1)
CASES = {"nb201": {"budget": 30, "batch": 5}, "asia": {"budget": 100, "batch": 10}}


def small_vae(space, archs, path: Path):
    """A small seeded VAE of ``space`` trained on ``archs`` (cached in ``path``)."""
    if not path.exists():
        torch.manual_seed(0)
        model = GraphVAE(space, VAEConfig(hidden_size=32, latent_size=8, decoder_positions=True))
        train_vae(model, archs, TrainConfig(epochs=2, batch_size=128, lr=2e-3, seed=0,
                                            progress=False))
        save_model(model.cpu().eval(), path)
    return load_model(path, space=space)[0]


def setup(case: str, workdir: Path, data: Path):
    """The space, evaluator, candidate architectures and VAE of ``case``."""
    if case == "nb201":
        space = get_space("nb201")
        dataset = read_table(data / "nasbench201" / "nb201_cifar10_200ep.csv", space).dataset
        evaluator = TabularEvaluator(dataset, "cifar10_valid")
        candidates = dataset.archs
        train = sample_distinct(space, 2000, 0)
    else:
        space = get_space(f"bn:data={data / 'bn' / 'asia.csv'}")
        evaluator = BNScoreEvaluator(space, score="bic")
        candidates = train = sample_distinct(space, 2000, 0)
    return space, evaluator, candidates, small_vae(space, train, workdir / f"vae-{case}.pt")


def trajectories(workdir: Path, data: Path, strategies) -> dict:
    torch.set_num_threads(1)
    out: dict = {}
    for case, settings in CASES.items():
        space, evaluator, candidates, model = setup(case, workdir, data)
        for name in strategies:
            for seed in SEEDS:
                start = time.perf_counter()
                kwargs = dict(model=model, candidates=candidates) if needs_vae(name) else {}
                strategy = make_strategy(name, space=space, **kwargs)
                study = Study(space, strategy, evaluator, seed=seed)
                study.optimize(settings["budget"], batch_size=settings["batch"])
                out[f"{case}/{name}/{seed}"] = [t.arch.canonical_hash for t in study.trials]
                print(f"{case} {name} seed {seed}: {time.perf_counter() - start:.1f} s",
                      file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, help="write the trajectories to this JSON file")
    mode.add_argument("--compare", type=Path, help="compare with trajectories recorded before")
    parser.add_argument("--workdir", type=Path, default=Path("runs/trajectories"),
                        help="where the small VAEs are trained once and kept")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared benchmark data")
    parser.add_argument("--strategies", default=",".join(available_strategies()))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    now = trajectories(args.workdir, args.data, args.strategies.split(","))
    if args.record:
        args.record.write_text(json.dumps(now, indent=1))
        print(json.dumps({"recorded": len(now), "file": str(args.record)}))
        return
    before = json.loads(args.compare.read_text())
    changed = sorted(k for k in now if k in before and now[k] != before[k])
    missing = sorted(set(before) - set(now))
    print(json.dumps({"compared": len(set(now) & set(before)), "changed": changed,
                      "not_run": missing}, indent=1))
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
