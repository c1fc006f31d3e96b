"""How well do surrogates rank the next moves of a search on the Asia BIC? Prints JSON.

For each seed, regularised evolution evaluates ``--history`` structures (BIC on ``asia.csv``);
every one-arc move (bnlearn's add, remove, reverse) of its ``--top`` best structures that it
has not evaluated is a candidate, the move a hill climber or a latent search near the best
structures must choose among. Each surrogate is fitted to the history (ranks mapped to normal
quantiles, as the search strategies do) and ranks the candidates by posterior mean:

* ``latent-gp``: the GP of latent BO (``bo``) on the bn default VAE's latent means;
* ``structure-gp``: the same GP on the labelled adjacency (``bo-structure``'s surrogate);
* ``additive-gp``: on the labelled adjacency, a sum of one kernel per variable over the arcs
  into it (``bo-structure`` with ``kernel: "additive"``; BIC is a sum of one term per family);
* ``gnn``: the GIN ensemble of ``bananas`` and ``bo-gnn``.

Reported per surrogate: Spearman's rho between its means and the candidates' true BIC, and of
its ``--pick`` highest-ranked candidates how many beat the history's best and the best BIC
among them (against the best candidate of all).

Reported per decode scale (``--decode-scales``): what decode mode's neighbourhood offers near
the same structures. 1,000 latent points drawn around the latent means of the 5 best (Gaussian,
std = scale x the latent box, as ``decode.scale``), one stochastic decode each: the
centres' mean arc count, the share of decodes that are their centre, their mean distance from
it (arc slots that differ; a reversed arc counts twice), the distinct unevaluated decodes, how
many of them are one-arc moves of the ``--top`` best, how many beat the history's best, and
the best BIC among them. The first run trains the bn default VAE (about
35 CPU minutes) unless it is cached or ``--model`` is given::

    OMP_NUM_THREADS=1 python benchmarks/bench_bn_surrogates.py --data ../shared/data/bn/asia.csv
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402


def candidates_around_best(space, archs, y, top: int, seen: set[str]):
    """Distinct unevaluated one-arc moves of the ``top`` best of ``archs`` (values ``y [n, 1]``)."""
    found = {}
    for i in y.reshape(-1).topk(min(top, len(archs))).indices.tolist():
        for move in space.neighbours(archs[i]):
            if move.canonical_hash not in seen:
                found.setdefault(move.canonical_hash, move)
    return list(found.values())


def rank_quality(surrogate, archs, y, candidates, truth, pick: int, best: float) -> dict:
    """Spearman's rho of the fitted surrogate's posterior means against ``truth`` on the
    candidates, and what its ``pick`` highest-ranked candidates are worth."""
    import torch
    from scipy.stats import spearmanr

    from graphvae_nas.surrogates import gaussian_copula

    start = time.perf_counter()
    model = surrogate.fit(archs, gaussian_copula(y))
    with torch.no_grad():
        mean = model.posterior(surrogate.featurize(candidates)).mean.reshape(-1)
    chosen = truth[mean.topk(min(pick, len(candidates))).indices]
    return {"spearman": round(float(spearmanr(mean.numpy(), truth.numpy()).statistic), 3),
            "picked_beating_best": int((chosen > best).sum()),
            "best_picked": round(float(chosen.max()), 4),
            "seconds": round(time.perf_counter() - start, 2)}


def decode_coverage(latent, archs, y, scale: float, moves: set[str], evaluator,
                    seen: set[str], best: float, seed: int, points: int = 1000,
                    centres: int = 5) -> dict:
    """What ``points`` decodes around the latent means of the ``centres`` best offer."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    centre_archs = [archs[i] for i in y.reshape(-1).topk(centres).indices.tolist()]
    spread = scale * (latent.bounds[1] - latent.bounds[0])
    z = latent.means(centre_archs)[torch.arange(points) % centres]
    z = z + spread * torch.randn(z.shape, generator=generator, dtype=z.dtype)
    space = evaluator.space
    decodes = latent.decode(z, generator)
    distance = [int((space.to_matrix(a) != space.to_matrix(centre_archs[k % centres])).sum())
                for k, a in enumerate(decodes) if a is not None]
    decoded = {a.canonical_hash: a for a in decodes if a is not None}
    fresh = [a for h, a in decoded.items() if h not in seen]
    scores = [evaluator.score(a) for a in fresh]
    return {"centre_arcs": sum(int(space.to_matrix(a).sum()) for a in centre_archs) / centres,
            "centre_returned": round(sum(d == 0 for d in distance) / len(distance), 3),
            "mean_arcs_from_centre": round(sum(distance) / len(distance), 2),
            "distinct_unseen": len(fresh),
            "one_arc_moves": sum(a.canonical_hash in moves for a in fresh),
            "beating_best": sum(v > best for v in scores),
            "best": round(max(scores), 4) if scores else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="asia.csv (discrete data)")
    parser.add_argument("--model", help="bn VAE for the latent GP (default: the cached default VAE)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--history", type=int, default=200, help="structures evaluated first")
    parser.add_argument("--top", type=int, default=10, help="best structures whose moves are ranked")
    parser.add_argument("--pick", type=int, default=10, help="candidates a round would choose")
    parser.add_argument("--decode-scales", default="0.005,0.02,0.1",
                        help="comma-separated neighbourhood scales of the decode check")
    args = parser.parse_args()

    import torch

    from graphvae_nas.search import Study, make_strategy
    from graphvae_nas.search.latent import LatentSpace
    from graphvae_nas.search.objectives import Objective
    from graphvae_nas.search.strategies.surrogate import observations
    from graphvae_nas.surrogates import GNNEnsemble, LatentGP, structure_encoding, unit_box
    from graphvae_nas.vae.default_model import default_model, training_architectures
    from graphvae_nas.vae.persistence import load_model

    space = get_space(f"bn:data={args.data}")
    evaluator = BNScoreEvaluator(space, score="bic")
    if args.model:
        model, _ = load_model(args.model, space=space)
        box_data, model_name = training_architectures(space, 0), Path(args.model).name
    else:
        model, box_data, path = default_model(space, progress=False)
        model_name = path.name
    latent = LatentSpace(model, box_data)
    encoding = structure_encoding(space)
    surrogates = {
        "latent-gp": lambda: LatentGP(latent.means, latent.bounds),
        "structure-gp": lambda: LatentGP(encoding.encode, unit_box(encoding.dim)),
        "additive-gp": lambda: LatentGP(encoding.encode, unit_box(encoding.dim), kernel="additive",
                                        groups=encoding.groups_into(space.ops)),
        "gnn": lambda: GNNEnsemble(space.vocabulary, space.max_nodes),
    }
    runs = []
    for seed in range(args.seeds):
        study = Study(space, make_strategy("evolution"), evaluator, seed=seed,
                      objectives=[Objective(evaluator.objective)])
        study.optimize(args.history, batch_size=10)
        archs, y = observations(study.history)
        candidates = candidates_around_best(space, archs, y, args.top, study.history.seen)
        truth = torch.tensor([evaluator.score(a) for a in candidates], dtype=torch.float64)
        best = float(y.max())
        run = {"seed": seed, "best_so_far": round(best, 4), "candidates": len(candidates),
               "candidates_beating_best": int((truth > best).sum()),
               "best_candidate": round(float(truth.max()), 4)}
        for name, make in surrogates.items():
            torch.manual_seed(seed)
            run[name] = rank_quality(make(), archs, y, candidates, truth, args.pick, best)
        moves = {a.canonical_hash for a in candidates}
        run["decodes"] = {scale: decode_coverage(latent, archs, y, float(scale), moves, evaluator,
                                                 study.history.seen, best, seed)
                          for scale in args.decode_scales.split(",")}
        runs.append(run)
        print(json.dumps(run), file=sys.stderr, flush=True)
    summary = {name: {"spearman_mean": round(statistics.mean(r[name]["spearman"] for r in runs), 3),
                      "picked_beating_best_mean": statistics.mean(r[name]["picked_beating_best"]
                                                                  for r in runs)}
               for name in surrogates}
    summary["one_arc_moves_beating_best_mean"] = statistics.mean(r["candidates_beating_best"]
                                                                 for r in runs)
    for scale in args.decode_scales.split(","):
        summary[f"decodes@{scale}"] = {
            key: statistics.mean(r["decodes"][scale][key] for r in runs)
            for key in ("centre_arcs", "centre_returned", "mean_arcs_from_centre", "distinct_unseen",
                        "one_arc_moves", "beating_best")}
    print(json.dumps({"data": args.data, "model": model_name, "history": args.history,
                      "top": args.top, "pick": args.pick, "summary": summary, "runs": runs},
                     indent=2))


if __name__ == "__main__":
    main()
