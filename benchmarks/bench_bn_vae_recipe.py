"""One training recipe of a bn VAE over Asia's 8 variables, measured; appends a JSON line.

Trains a VAE (hidden 128, latent 16, decoder positions unless changed) on ``--graphs`` distinct
random DAGs of arc probability ``--arc-prob`` for ``--epochs`` epochs with one thread, then
measures the greedy reconstruction (the latent mean decoded greedily equals the DAG) of 500
training DAGs and of 500 unseen DAGs at arc probability 1/4 and 1/2, and the mean number of
arcs between the greedy decode of 100 unseen latent means and stochastic decodes of points
around them (noise ``s`` x the latent box, as ``bench_latent_smoothness.py`` does). Each run
appends one line to ``--runs``; the recipes compared in docs/results/asia-bic.md were run two
at a time on the 2-core machine::

    python benchmarks/bench_bn_vae_recipe.py --data ../shared/data/bn/asia.csv --name cosine \\
        --lr 5e-3 --schedule cosine --epochs 18 --runs docs/results/runs/bn_vae_recipes.jsonl

``--report`` prints the table of a runs file instead (``--update PAGE --section NAME`` writes it
between the page's markers)::

    python benchmarks/bench_bn_vae_recipe.py --report --runs docs/results/runs/bn_vae_recipes.jsonl \\
        --update docs/results/asia-bic.md --section bn-vae-recipes
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.jsonl_log import AppendLog  # noqa: E402
from graphvae_nas.spaces import get_space, sample_distinct  # noqa: E402
from graphvae_nas.vae import GraphVAE, VAEConfig  # noqa: E402
from graphvae_nas.vae.metrics import encode_means  # noqa: E402
from graphvae_nas.vae.trainer import TrainConfig, train_vae  # noqa: E402


def greedy_reconstruction(model: GraphVAE, archs: list) -> float:
    mu, _ = encode_means(model, archs)
    decoded = model.decode_raw(mu, stochastic=False)
    return float(np.mean([d is not None and d.canonical_hash == a.canonical_hash
                          for a, d in zip(archs, decoded)]))


def report(runs: Path) -> str:
    """The Markdown table of the recipes recorded in ``runs``."""
    head = ["recipe", "DAGs x epochs", "batch", "lr, schedule", "eps", "training s (loaded)",
            "final loss", "greedy recon: train / unseen sparse / unseen dense",
            "arcs from the centre's decode at s = 0 / 0.02 / 0.05 / 0.1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, line in AppendLog(runs).lines(repair=False):
        r = json.loads(line)
        s = r["settings"]
        lines.append(" | ".join([
            f"| {r['name']}", f"{s['graphs']:,} x {s['epochs']}", str(s["batch_size"]),
            f"{s['lr']:g}, {s['schedule']}",
            f"{s['eps_scale']:g}", str(r["train_seconds"]), f"{r['final_loss']:.3f}",
            " / ".join(f"{100 * r[k]:.1f} %" for k in ("recon_train", "recon_unseen_sparse",
                                                        "recon_unseen_dense")),
            " / ".join(f"{r[f'arcs_at_{x}']:.2f}" for x in ("0.0", "0.02", "0.05", "0.1"))]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the table of --runs")
    parser.add_argument("--update", type=Path, help="with --report: the page to write it into")
    parser.add_argument("--section", default="bn-vae-recipes")
    parser.add_argument("--data", help="asia.csv")
    parser.add_argument("--name", help="the recipe's label in the runs file")
    parser.add_argument("--runs", type=Path, required=True, help="JSON Lines file to append to")
    parser.add_argument("--graphs", type=int, default=40_000)
    parser.add_argument("--arc-prob", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--schedule", default="plateau", choices=["plateau", "cosine"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--eps-scale", type=float, default=0.01)
    parser.add_argument("--beta", type=float, default=0.005)
    parser.add_argument("--save", type=Path, help="write the trained model here")
    args = parser.parse_args()
    if args.report:
        text = report(args.runs)
        if args.update:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from report import update_generated

            update_generated(args.update, args.section, text)
        print(text)
        return
    if not (args.data and args.name):
        parser.error("--data and --name are needed to train a recipe")
    space = get_space(f"bn:data={args.data}")
    train = sample_distinct(get_space(f"bn:data={args.data};arc_prob={args.arc_prob}"), args.graphs, 0)
    seen = {a.canonical_hash for a in train}

    def unseen(arc_prob: float, seed: int, count: int = 500) -> list:
        fresh = sample_distinct(get_space(f"bn:data={args.data};arc_prob={arc_prob}"), 3 * count, seed)
        return [a for a in fresh if a.canonical_hash not in seen][:count]

    sparse, dense = unseen(0.25, 99), unseen(0.5, 98)
    torch.manual_seed(0)
    model = GraphVAE(space, VAEConfig(hidden_size=args.hidden, latent_size=args.latent,
                                      decoder_positions=True, eps_scale=args.eps_scale, beta=args.beta))
    started = time.perf_counter()
    history = train_vae(model, train, TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=0, threads=1,
        progress=False, schedule=args.schedule))
    seconds = time.perf_counter() - started
    model.eval()
    not_settings = ("data", "runs", "save", "name", "report", "update", "section")
    result = {"name": args.name, "settings": {k: v for k, v in vars(args).items()
                                              if k not in not_settings},
              "train_seconds": round(seconds), "final_loss": round(history[-1]["loss"], 4),
              "recon_train": greedy_reconstruction(model, train[:500]),
              "recon_unseen_sparse": greedy_reconstruction(model, sparse),
              "recon_unseen_dense": greedy_reconstruction(model, dense)}
    means, _ = encode_means(model, sparse + train[:5000])
    box = means.max(0).values - means.min(0).values
    centres, _ = encode_means(model, sparse[:100])
    reference = model.decode_raw(centres, stochastic=False)
    generator = torch.Generator().manual_seed(0)
    for scale in (0.0, 0.02, 0.05, 0.1):
        z = centres.repeat_interleave(10, 0)
        z = z + scale * box * torch.randn(z.shape, generator=generator)
        decoded = model.decode_raw(z, stochastic=True, generator=generator)
        distance = [space.distance(d, reference[i // 10]) for i, d in enumerate(decoded)
                    if d is not None and reference[i // 10] is not None]
        result[f"arcs_at_{scale}"] = round(float(np.mean(distance)), 3)
    if args.save:
        from graphvae_nas.vae.persistence import save_model

        save_model(model, args.save)
    AppendLog(args.runs).append(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
