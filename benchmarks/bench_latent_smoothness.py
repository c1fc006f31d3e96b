"""How smooth a VAE's latent space is where search looks; prints JSON.

For each centre set - held-out architectures, the best 1 % by score of a scored pool, and on a
bn space with data the exact BIC optimum - the benchmark encodes each centre to its latent
mean, greedily decodes that mean (the centre's decode), then decodes ``--draws`` points
``mean + s * box * noise`` per noise scale ``s`` (``box``: the per-dimension width of the pool's
latent means; ``noise``: standard Gaussian), one stochastic decode each, as latent BO's decode
mode does. Per scale it reports the share of decodes equal to the centre's decode, the mean
distance to it (``space.distance``: arcs on bn, changed cell edges on nb201), the share of
invalid decodes and of distinct ones. ``s = 0`` measures the decoder's sampling noise alone.
Then D-VAE's great-circle interpolation between pairs of held-out latents: the score, the
distance between consecutive decodes and the validity along each path.

The pool is ``--pool`` distinct architectures sampled as the default VAE's training set is
(sparse DAGs on bn), or a table's rows with ``--table``; held-out centres are pool members the
model was not trained on when the default VAE is used (NB201's default trains on every cell, so
there its centres are seen cells)::

    OMP_NUM_THREADS=1 python benchmarks/bench_latent_smoothness.py \\
        --space "bn:data=../shared/data/bn/asia.csv"
    OMP_NUM_THREADS=1 python benchmarks/bench_latent_smoothness.py --space nb201 \\
        --table nb201.jsonl --objective cifar10_valid
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.datasets import load_dataset  # noqa: E402
from graphvae_nas.spaces import get_space, sample_distinct, space_from_spec  # noqa: E402
from graphvae_nas.threads import cpu_threads  # noqa: E402
from graphvae_nas.vae.default_model import default_model, training_settings  # noqa: E402
from graphvae_nas.vae.metrics import encode_means  # noqa: E402
from graphvae_nas.vae.persistence import load_model  # noqa: E402

SCALES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)


def great_circle(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from ``z0`` to ``z1`` along the great circle through both (D-VAE's
    interpolation: the angle between them is swept; norms are interpolated linearly)."""
    n0, n1 = z0.norm(), z1.norm()
    u0, u1 = z0 / n0, z1 / n1
    omega = torch.arccos(torch.clamp((u0 * u1).sum(), -1.0, 1.0))
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)
    if omega < 1e-6:
        direction = (1 - t) * u0 + t * u1
    else:
        direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


class Scorer:
    """Scores architectures by a table column (missing: NaN) or, on bn with data, by BIC."""

    def __init__(self, space, table=None, objective=None) -> None:
        self.lookup = None
        self.bic = None
        if table is not None:
            values = table.metric(objective)
            self.lookup = {h: float(v) for h, v in zip(table.hashes, values)}
        elif getattr(space, "data_path", None):
            from graphvae_nas.evaluation.bic import BNScoreEvaluator

            self.bic = BNScoreEvaluator(space, score="bic")

    @property
    def available(self) -> bool:
        return self.lookup is not None or self.bic is not None

    def __call__(self, arch) -> float:
        if arch is None:
            return math.nan
        if self.bic is not None:
            return float(self.bic.score(arch))
        return self.lookup.get(arch.canonical_hash, math.nan) if self.lookup else math.nan


def around(model, space, centres, box, scales, draws, generator) -> dict:
    """Decodes around each centre's latent mean, per noise scale (see module docstring)."""
    mu, _ = encode_means(model, centres)
    reference = model.decode_raw(mu, stochastic=False)
    result = {"centres": len(centres),
              "centre_decode_is_centre": float(np.mean([r is not None and r.canonical_hash == c.canonical_hash
                                                        for r, c in zip(reference, centres)]))}
    for scale in scales:
        z = mu.repeat_interleave(draws, 0)
        z = z + scale * box * torch.randn(z.shape, generator=generator)
        decoded = model.decode_raw(z, stochastic=True, generator=generator)
        same, distance, invalid, distinct = [], [], 0, 0
        for i, ref in enumerate(reference):
            group = decoded[i * draws:(i + 1) * draws]
            distinct += len({d.canonical_hash for d in group if d is not None})
            for d in group:
                if d is None:
                    invalid += 1
                elif ref is not None:
                    same.append(d.canonical_hash == ref.canonical_hash)
                    distance.append(space.distance(d, ref))
        result[str(scale)] = {
            "same_as_centre": float(np.mean(same)) if same else math.nan,
            "mean_distance": float(np.mean(distance)) if distance else math.nan,
            "invalid": invalid / len(decoded),
            "distinct_per_centre": distinct / len(reference)}
    return result


def interpolations(model, space, scorer, centres, pairs, steps, generator) -> dict:
    """Great-circle paths between random pairs of centres: decodes, their scores and steps."""
    mu, _ = encode_means(model, centres)
    step_distance, invalid, distinct, score_steps, paths = [], 0, [], [], []
    for _ in range(pairs):
        i, j = torch.randperm(len(centres), generator=generator)[:2].tolist()
        decoded = model.decode_raw(great_circle(mu[i], mu[j], steps), stochastic=False)
        invalid += sum(d is None for d in decoded)
        valid = [d for d in decoded if d is not None]
        distinct.append(len({d.canonical_hash for d in valid}))
        step_distance += [space.distance(a, b) for a, b in zip(valid, valid[1:])]
        scores = [scorer(d) for d in decoded]
        score_steps += [abs(b - a) for a, b in zip(scores, scores[1:])
                        if not (math.isnan(a) or math.isnan(b))]
        paths.append({"ends_distance": space.distance(centres[i], centres[j]),
                      "scores": [None if math.isnan(s) else round(s, 4) for s in scores]})
    return {"pairs": pairs, "steps": steps, "invalid": invalid / (pairs * steps),
            "mean_step_distance": float(np.mean(step_distance)) if step_distance else math.nan,
            "mean_distinct_per_path": float(np.mean(distinct)),
            "mean_abs_score_step": float(np.mean(score_steps)) if score_steps else math.nan,
            "paths": paths[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", required=True, help='e.g. nb201 or "bn:data=asia.csv"')
    parser.add_argument("--model", help="VAE file (default: the space's cached default VAE)")
    parser.add_argument("--table", help="architecture table whose rows are the pool and scores")
    parser.add_argument("--objective", help="with --table: the score column")
    parser.add_argument("--pool", type=int, default=20_000, help="sampled pool size (no --table)")
    parser.add_argument("--centres", type=int, default=200, help="held-out and best centres")
    parser.add_argument("--draws", type=int, default=20, help="decodes per centre and scale")
    parser.add_argument("--pairs", type=int, default=50, help="interpolation paths")
    parser.add_argument("--steps", type=int, default=11, help="points per path")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if bool(args.table) != bool(args.objective):
        parser.error("--table and --objective go together")
    started = time.perf_counter()
    with cpu_threads(1):
        space = get_space(args.space)
        torch.manual_seed(args.seed)
        if args.model:
            model, _ = load_model(args.model, space=space)
            seen: set[str] = set()
            model_name = args.model
        else:
            model, train, path = default_model(space, progress=False)
            seen = {a.canonical_hash for a in train}
            model_name = f"default ({path.name})"
        table = load_dataset(args.table) if args.table else None
        if table is not None:
            pool = list(table.archs)
        else:
            _, sampler, _ = training_settings(space)
            source = space_from_spec({**space.spec(), **sampler}) if sampler else space
            pool = sample_distinct(source, args.pool, args.seed + 1)
        scorer = Scorer(space, table, args.objective)
        rng = np.random.default_rng(args.seed)
        unseen = [a for a in pool if a.canonical_hash not in seen] or pool
        held_out = [unseen[i] for i in rng.permutation(len(unseen))[:args.centres]]
        pool_mu, _ = encode_means(model, pool)
        box = pool_mu.max(0).values - pool_mu.min(0).values
        generator = torch.Generator().manual_seed(args.seed)
        result = {"space": args.space, "model": model_name, "pool": len(pool),
                  "held_out_unseen": len(unseen) < len(pool) or not seen,
                  "scales_of_box": list(SCALES), "draws": args.draws,
                  "held_out": around(model, space, held_out, box, SCALES, args.draws, generator)}
        if scorer.available:
            scores = np.array([scorer(a) for a in pool])
            order = np.argsort(-np.nan_to_num(scores, nan=-np.inf))
            best = [pool[i] for i in order[:max(1, len(pool) // 100)]][:args.centres]
            result["best_1pct"] = around(model, space, best, box, SCALES, args.draws, generator)
            if scorer.bic is not None:
                from graphvae_nas.evaluation.bn_exact import exact_optimum

                optimum = exact_optimum(space, scorer.bic.scores)
                result["optimum"] = {"score": optimum.score, **around(
                    model, space, [optimum.arch], box, SCALES, 10 * args.draws, generator)}
        result["interpolation"] = interpolations(model, space, scorer, held_out, args.pairs,
                                                 args.steps, generator)
        result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
