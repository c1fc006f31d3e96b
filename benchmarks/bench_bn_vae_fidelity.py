"""How faithfully a bn VAE encodes and decodes Asia DAGs; prints JSON.

Greedy decodes of the latent means of 300 DAGs from each of three sets: the VAE's training DAGs
(the default VAE's, from ``training_architectures``), unseen sparse DAGs (arc probability 1/4,
the default VAE's training distribution) and unseen dense DAGs (the space's default 1/2). For
each: the fraction decoded to the same DAG, the mean number of arcs that differ, and the
Pearson correlation of the BIC of a DAG and of its decode. Then stochastic decodes of latent
points around the BIC optimum's latent mean (Gaussian noise of ``s`` x the training latents' box
per dimension): how many are the optimum, how far the others are, how many are distinct::

    OMP_NUM_THREADS=1 python benchmarks/bench_bn_vae_fidelity.py --data ../shared/data/bn/asia.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.evaluation.bn_exact import exact_optimum  # noqa: E402
from graphvae_nas.spaces import get_space, sample_distinct  # noqa: E402
from graphvae_nas.threads import cpu_threads  # noqa: E402
from graphvae_nas.vae.default_model import default_model, training_architectures  # noqa: E402
from graphvae_nas.vae.metrics import encode_means  # noqa: E402
from graphvae_nas.vae.persistence import load_model  # noqa: E402


def arcs(space, arch) -> set[tuple[int, int]]:
    return {(p, v) for v, m in enumerate(space.parent_masks(arch)) for p in range(space.num_variables)
            if m >> p & 1}


def fidelity(model, space, evaluator, archs) -> dict:
    mu, _ = encode_means(model, archs)
    decoded = model.decode_raw(mu, stochastic=False)
    same = sum(d.canonical_hash == a.canonical_hash for a, d in zip(archs, decoded))
    before = np.array([evaluator.score(a) for a in archs])
    after = np.array([evaluator.score(d) for d in decoded])
    return {"graphs": len(archs), "reconstructed": same / len(archs),
            "mean_arcs_different": float(np.mean([len(arcs(space, a) ^ arcs(space, d))
                                                  for a, d in zip(archs, decoded)])),
            "pearson_bic": float(np.corrcoef(before, after)[0, 1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="asia.csv")
    parser.add_argument("--model", help="bn VAE (default: the space's cached default VAE)")
    parser.add_argument("--graphs", type=int, default=300)
    parser.add_argument("--draws", type=int, default=500, help="decodes per noise level")
    args = parser.parse_args()
    with cpu_threads(1):
        space = get_space(f"bn:data={args.data}")
        evaluator = BNScoreEvaluator(space, score="bic")
        if args.model:
            model, _ = load_model(args.model, space=space)
            train = training_architectures(space)
        else:   # the default VAE comes with its training architectures: no second sampling
            model, train, _ = default_model(space, progress=False)
        seen = {a.canonical_hash for a in train}

        def unseen(arc_prob: float, seed: int) -> list:
            source = get_space(f"bn:data={args.data};arc_prob={arc_prob}")
            fresh = [a for a in sample_distinct(source, 4 * args.graphs, seed) if a.canonical_hash not in seen]
            return fresh[:args.graphs]

        result = {"training": fidelity(model, space, evaluator, train[:args.graphs]),
                  "unseen_sparse": fidelity(model, space, evaluator, unseen(0.25, 99)),
                  "unseen_dense": fidelity(model, space, evaluator, unseen(0.5, 98))}
        optimum = exact_optimum(space, evaluator.scores)
        best = optimum.arch
        target = arcs(space, best)
        means, _ = encode_means(model, train)
        box = means.max(0).values - means.min(0).values
        centre, _ = encode_means(model, [best])
        generator = torch.Generator().manual_seed(0)
        around = {}
        for scale in (0.0, 0.02, 0.05, 0.1):
            z = centre + scale * box * torch.randn(args.draws, centre.shape[1], generator=generator)
            decoded = model.decode_raw(z, stochastic=True, generator=generator)
            distance = [len(target ^ arcs(space, d)) for d in decoded]
            around[str(scale)] = {"optimum": float(np.mean([x == 0 for x in distance])),
                                  "mean_arcs_different": float(np.mean(distance)),
                                  "distinct": len({d.canonical_hash for d in decoded})}
        result["around_optimum"] = around
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
