"""A reduced D-VAE Asia protocol for the VAE's predictor head; appends one JSON line per run.

Trains a bn VAE (hidden 128, latent 56, decoder positions, batch 128, cosine schedule from
5e-3: the recipe of docs/results/asia-bic.md, "A bn VAE at D-VAE's quality") on the first
``--graphs`` DAGs of D-VAE's 90 % training split of ``--dataset`` (the 200,000 scored DAGs that
``examples/reproduce_dvae_bn.py`` writes) for ``--epochs`` epochs with one thread, with the
predictor head at ``--predictor-weight`` (0: none). Then it measures what the full protocol
does, on fewer graphs: reconstruction of the first 1,000 held-out DAGs (3 encodes x 3 decodes),
and the RMSE and Pearson r of the sparse GP on 2,000 training latents predicting the
standardised BIC of 2,000 held-out DAGs. The full protocol takes hours; this takes minutes::

    python benchmarks/bench_bn_predictor_head.py --dataset runs/bn-dvae/bn200000.jsonl \\
        --data ../shared/data/bn/asia.csv --predictor-weight 1 \\
        --runs docs/results/runs/bn_predictor_head.jsonl

``--model FILE`` (a saved model or a training checkpoint, e.g. of the full protocol while it
trains) is measured the same way instead of training one; its row names the file and epochs.

``--report`` prints the table of a runs file (``--update PAGE --section NAME`` writes it
between the page's markers).
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

from graphvae_nas.datasets import dvae_bn_split, load_dataset  # noqa: E402
from graphvae_nas.jsonl_log import AppendLog  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402
from graphvae_nas.surrogates import predictive_performance  # noqa: E402
from graphvae_nas.vae import GraphVAE, VAEConfig  # noqa: E402
from graphvae_nas.vae.metrics import encode_means, reconstruction_accuracy  # noqa: E402
from graphvae_nas.vae.persistence import load_model, read_model_file  # noqa: E402
from graphvae_nas.vae.trainer import TrainConfig, train_vae  # noqa: E402

GP_POINTS = 2000
RECON_GRAPHS = 1000


def report(runs: Path) -> str:
    """The Markdown table of the runs recorded in ``runs``."""
    head = ["predictor weight", "DAGs x epochs", "training s (loaded)", "edge / type NLL",
            "head's MSE", "reconstruction (1,000 held-out)", "GP RMSE", "GP Pearson r"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, line in AppendLog(runs).lines(repair=False):
        r = json.loads(line)
        s, last = r["settings"], r["last_epoch"]
        mse = last.get("predictor_mse")
        trained = (f"{s['graphs']:,} x {s['epochs']}" if "model" not in s else
                   f"{s['graphs']:,} x {s['epochs']} ({s['label']})")
        lines.append(" | ".join([
            f"| {s['predictor_weight']:g}", trained,
            str(r["train_seconds"]), f"{last['edge_nll']:.2f} / {last['type_nll']:.2f}",
            "" if mse is None else f"{mse:.3f}", f"{100 * r['recon']:.2f} %",
            f"{r['gp_rmse']:.3f}", f"{r['gp_pearson']:.3f}"]) + " |")
    return "\n".join(lines)


def measured_model(path: Path, space) -> tuple[GraphVAE, list[dict], float]:
    """The model in ``path`` (a model file, or a checkpoint while it trains), its epoch
    history and its training seconds."""
    model, extra = load_model(path, space=space)
    history = extra.get("history") or (read_model_file(path).get("train") or {}).get("history", [])
    return model, history, sum(h["seconds"] for h in history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the table of --runs")
    parser.add_argument("--update", type=Path, help="with --report: the page to write it into")
    parser.add_argument("--section", default="bn-predictor-head")
    parser.add_argument("--dataset", type=Path, help="the scored DAGs (bn200000.jsonl)")
    parser.add_argument("--data", help="asia.csv (the space's variables)")
    parser.add_argument("--runs", type=Path, required=True, help="JSON Lines file to append to")
    parser.add_argument("--predictor-weight", type=float, default=0.0)
    parser.add_argument("--graphs", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--model", type=Path,
                        help="measure this model file or training checkpoint instead of training")
    parser.add_argument("--label", default="", help="with --model: the row's note")
    args = parser.parse_args()
    if args.report:
        text = report(args.runs)
        if args.update:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from report import update_generated

            update_generated(args.update, args.section, text)
        print(text)
        return
    if not (args.dataset and args.data):
        parser.error("--dataset and --data are needed to train")
    space = get_space(f"bn:data={args.data}")
    train, test = dvae_bn_split(load_dataset(args.dataset, space=space, verify=False))
    bic = train.metric("bic")
    mean, std = bic[:args.graphs].mean(), bic[:args.graphs].std()
    if args.model:
        model, history, seconds = measured_model(args.model, space)
        settings = {"predictor_weight": model.config.predictor_weight, "graphs": len(train),
                    "epochs": len(history), "model": str(args.model), "label": args.label}
    else:
        torch.manual_seed(0)
        model = GraphVAE(space, VAEConfig(hidden_size=128, latent_size=56, decoder_positions=True,
                                          predictor_weight=args.predictor_weight))
        started = time.perf_counter()
        history = train_vae(model, train.archs[:args.graphs], TrainConfig(
            epochs=args.epochs, batch_size=128, lr=5e-3, schedule="cosine", threads=1,
            progress=False, restore_best=True),
            targets=(bic[:args.graphs] - mean) / std if args.predictor_weight > 0 else None)
        seconds = time.perf_counter() - started
        settings = {"predictor_weight": args.predictor_weight, "graphs": args.graphs,
                    "epochs": args.epochs, "dataset": str(args.dataset)}
    recon = reconstruction_accuracy(model, test.archs[:RECON_GRAPHS], encode_times=3,
                                    decode_times=3, seed=0)
    train_mu, _ = encode_means(model, train.archs[:GP_POINTS])
    test_mu, _ = encode_means(model, test.archs[:GP_POINTS])
    score = predictive_performance(train_mu.double(), bic[:GP_POINTS], test_mu.double(),
                                   test.metric("bic")[:GP_POINTS], seed=0)
    result = {"settings": settings, "train_seconds": round(seconds), "last_epoch": history[-1],
              "recon": recon, "gp_rmse": score.rmse, "gp_pearson": score.pearson}
    AppendLog(args.runs).append(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
