"""``graphvae-nas vae ...``: train, eval, encode, sample."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphvae_nas.cli.numbers import nonnegative_float, nonnegative_int, positive_float, positive_int
from graphvae_nas.cli.paths import declare_paths
from graphvae_nas.threads import DEFAULT_THREADS, THREADS_HELP
from graphvae_nas.errors import DataFormatError, GraphVAENASError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    vae = subparsers.add_parser("vae", help="train and use graph VAEs")
    sub = vae.add_subparsers(dest="vae_command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a VAE on a dataset's architectures")
    p.add_argument("--space", help="search space (default: the dataset's)")
    p.add_argument("--dataset", required=True, help="training dataset (.jsonl[.gz])")
    p.add_argument("-o", "--out", required=True, help="model file to write")
    p.add_argument("--checkpoint", help="per-epoch checkpoint (default: OUT.ckpt)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    p.add_argument("--init-from", help="start from the weights of this model or checkpoint "
                   "(fine-tuning, e.g. a second phase at a lower --lr)")
    p.add_argument("--epochs", type=nonnegative_int, default=100,
                   help="passes over the training set (0 only with --init-from or --resume: "
                        "re-save those weights)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="graphs per optimiser step")
    p.add_argument("--lr", type=positive_float, default=1e-4, help="Adam learning rate")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of weights and batch order")
    p.add_argument("--encoder", choices=["dvae", "gin"], default="dvae",
                   help="dvae: D-VAE's asynchronous message passing; gin: a GIN")
    p.add_argument("--hidden", type=positive_int, default=501,
                   help="hidden state size (D-VAE's ENAS value)")
    p.add_argument("--latent", type=positive_int, default=56, help="latent size (D-VAE's ENAS value)")
    p.add_argument("--beta", type=nonnegative_float, default=0.005,
                   help="weight of the KL term (0: a plain autoencoder)")
    p.add_argument("--eps-scale", type=nonnegative_float, default=0.01,
                   help="scale of the reparameterisation noise during training (0: deterministic "
                        "encodings)")
    p.add_argument("--no-bidirectional", action="store_true",
                   help="encode in the forward direction only (D-VAE encodes both ways)")
    p.add_argument("--no-vertex-id", action="store_true",
                   help="leave the vertex ids out of the encoder's messages")
    p.add_argument("--decoder-positions", action=argparse.BooleanOptionalAction,
                   help="give the decoder each node's position (default: on for every space but "
                        "enas; without it D-VAE's decoder reconstructs 46%% of NAS-Bench-201 cells)")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda, ...")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="auto: bf16 autocast where the CPU or GPU supports it, else fp32")
    p.add_argument("--time-budget", type=positive_float, help="stop after this many minutes")
    p.add_argument("--restore-best", action="store_true",
                   help="end with the weights of the epoch of lowest training loss")
    p.add_argument("--schedule", choices=["plateau", "cosine"], default="plateau",
                   help="learning rate: plateau (D-VAE's: divided by 10 after 10 epochs without "
                        "progress) or cosine (from --lr down to 0 over --epochs; better in a "
                        "fixed number of epochs)")
    p.set_defaults(func=cmd_train)
    declare_paths(p, inputs=("dataset", "init_from"), outputs=("out", "checkpoint"))

    p = sub.add_parser("eval", help="recon_acc, validity, uniqueness, novelty, rmse, pearson")
    p.add_argument("model", help="model file written by vae train (or the default VAE)")
    p.add_argument("--dataset", required=True, help="the training dataset")
    p.add_argument("--test", help="test dataset (default: a seeded 10%% split of --dataset)")
    p.add_argument("--metric", help="target for rmse/pearson (default: the dataset's first)")
    p.add_argument("--encode-times", type=positive_int, default=10,
                   help="stochastic encodings per test graph (reconstruction)")
    p.add_argument("--decode-times", type=positive_int, default=10,
                   help="stochastic decodes per latent point (reconstruction and prior)")
    p.add_argument("--prior-samples", type=positive_int, default=1000,
                   help="prior points decoded for validity, uniqueness and novelty")
    p.add_argument("--no-predictive", action="store_true",
                   help="skip the GP fit for rmse/pearson (minutes on large datasets)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the split and the samples")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="auto: bf16 autocast where supported, else fp32")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("encode", help="latent means of a dataset's architectures")
    p.add_argument("model", help="model file written by vae train (or the default VAE)")
    p.add_argument("--dataset", required=True, help="dataset whose architectures to encode")
    p.add_argument("-o", "--out", required=True, help=".npz with mu, logvar and hashes")
    p.set_defaults(func=cmd_encode)
    declare_paths(p, inputs=("model", "dataset"), outputs=("out",))

    p = sub.add_parser("sample", help="decode prior samples into architectures")
    p.add_argument("model", help="model file written by vae train (or the default VAE)")
    p.add_argument("-n", "--num", type=positive_int, default=10, help="latent points to draw")
    p.add_argument("--samples", type=positive_int, default=1,
                   help="stochastic decodes per point (mode kept)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the points and the decodes")
    p.add_argument("-o", "--out", required=True, help="dataset of the valid decodes (.jsonl[.gz])")
    p.set_defaults(func=cmd_sample)
    declare_paths(p, inputs=("model",), outputs=("out",))

    p = sub.add_parser("convert", help="rewrite a version-1 model or checkpoint file in the "
                                       "current checksummed format (never runs code in it)")
    p.add_argument("old", help="version-1 file")
    p.add_argument("new", help="file to write")
    p.set_defaults(func=cmd_convert)
    declare_paths(p, inputs=("old",), outputs=("new",))


def _load_train_set(path: str, space_name: str | None):
    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.spaces import get_space

    dataset = load_dataset(path, space=get_space(space_name) if space_name else None)
    if len(dataset) == 0:
        raise DataFormatError("dataset holds no architectures", path=path)
    return dataset


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.config import space_decoder_positions
    from graphvae_nas.vae.metrics import latent_statistics
    from graphvae_nas.vae.persistence import save_model
    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    if args.epochs == 0 and not (args.init_from or args.resume):
        raise GraphVAENASError("--epochs 0 would write an untrained model; give at least 1 epoch "
                               "(0 is for re-saving the weights of --init-from or --resume)")
    if Path(args.out).is_dir():
        raise DataFormatError("cannot write: this is a folder; give a file name", path=args.out)
    dataset = _load_train_set(args.dataset, args.space)
    torch.manual_seed(args.seed)
    positions = args.decoder_positions
    if positions is None:
        positions = space_decoder_positions(dataset.space.name)
        print(f"decoder positions {'on' if positions else 'off'} (the default for the "
              f"{dataset.space.name} space; --[no-]decoder-positions to choose)", file=sys.stderr)
    config = VAEConfig(encoder=args.encoder, hidden_size=args.hidden, latent_size=args.latent,
                       bidirectional=not args.no_bidirectional, vertex_id=not args.no_vertex_id,
                       beta=args.beta, eps_scale=args.eps_scale,
                       decoder_positions=positions)
    model = GraphVAE(dataset.space, config)
    if args.init_from:
        from graphvae_nas.vae.persistence import load_model

        start, _ = load_model(args.init_from, space=dataset.space)
        if start.config != config:
            raise GraphVAENASError(f"{args.init_from}: model config {start.config.to_dict()} differs "
                                   f"from the requested {config.to_dict()}")
        model.load_state_dict(start.state_dict())
    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               seed=args.seed, threads=args.threads, device=args.device,
                               precision=args.precision,
                               time_budget_s=None if args.time_budget is None else args.time_budget * 60,
                               restore_best=args.restore_best, schedule=args.schedule)
    checkpoint = args.checkpoint or args.out + ".ckpt"
    history = train_vae(model, dataset.archs, train_config, checkpoint=checkpoint,
                        resume=args.resume)
    save_model(model, args.out, extra={**latent_statistics(model, dataset.archs),
                                       "history": history, "dataset": str(args.dataset),
                                       "init_from": args.init_from})
    last = history[-1] if history else {}
    print(f"wrote {args.out} ({len(history)} epoch{'' if len(history) == 1 else 's'}; last loss {last.get('loss', float('nan')):.4f}, "
          f"{last.get('graphs_per_s', 0):.0f} graphs/s)", file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> None:
    from graphvae_nas.datasets import load_dataset, random_split
    from graphvae_nas.vae.evaluate import evaluate_vae
    from graphvae_nas.vae.persistence import load_model

    model, _ = load_model(args.model)
    train = load_dataset(args.dataset, space=model.space)
    if args.test:
        test = load_dataset(args.test, space=model.space)
    else:
        train, test = random_split(train, 0.1, args.seed)
    metric = args.metric or (train.metric_names[0] if train.metric_names else None)
    result = evaluate_vae(model, train, test, metric=metric, encode_times=args.encode_times,
                          decode_times=args.decode_times, prior_samples=args.prior_samples,
                          seed=args.seed, precision=args.precision,
                          predictive=not args.no_predictive, progress=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key in ("recon_acc", "validity", "uniqueness", "novelty", "rmse", "pearson"):
        value = result[key]
        print(f"{key}: {'n/a' if value is None else f'{value:.4f}'}")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items()))


def cmd_encode(args: argparse.Namespace) -> None:
    import numpy as np

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.vae.metrics import encode_means
    from graphvae_nas.vae.persistence import load_model

    model, _ = load_model(args.model)
    dataset = load_dataset(args.dataset, space=model.space)
    mu, logvar = encode_means(model, dataset.archs)
    out = Path(args.out)
    np.savez(out, mu=mu.cpu().numpy(), logvar=logvar.cpu().numpy(), hash=np.array(dataset.hashes))
    print(f"wrote latents of {len(dataset)} architectures to {out}", file=sys.stderr)


def cmd_sample(args: argparse.Namespace) -> None:
    import torch

    from graphvae_nas.datasets import ArchitectureDataset, save_dataset
    from graphvae_nas.vae.persistence import load_model

    model, extra = load_model(args.model)
    generator = torch.Generator().manual_seed(args.seed)
    noise = torch.randn(args.num, model.config.latent_size, generator=generator)
    if "latent_mean" in extra:
        z = noise * extra["latent_std"] + extra["latent_mean"]
    else:  # a model saved without training-latent statistics: the VAE's own prior
        print(f"{args.model} holds no training-latent statistics; sampling the prior N(0, I)",
              file=sys.stderr)
        z = noise
    decoded = model.decode(z, samples=args.samples, seed=args.seed)
    archs = [a for a in decoded if a is not None]
    print(f"{len(archs)} of {args.num} decodes valid", file=sys.stderr)
    save_dataset(ArchitectureDataset.from_architectures(
        model.space, archs, provenance=[{"sampled_from": args.model, "seed": args.seed}]), args.out)


def cmd_convert(args: argparse.Namespace) -> None:
    from graphvae_nas.vae.persistence import convert_v1

    convert_v1(args.old, args.new)
    print(f"wrote {args.new}", file=sys.stderr)
