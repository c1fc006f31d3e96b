"""``graphvae-nas train ARCH``: fully train one architecture and save its weights."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphvae_nas.cli.numbers import nonnegative_int, positive_int
from graphvae_nas.threads import DEFAULT_THREADS, THREADS_HELP
from graphvae_nas.cli.training_args import add_training_arguments, training_evaluator

NETWORK_FORMAT = "graphvae_nas.network"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train one architecture for real and save its weights")
    p.add_argument("arch", help="the architecture in the space's native format")
    p.add_argument("--space", default="nb201", help="search space of ARCH")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of weights, data split and order")
    p.add_argument("--out", help="weights file to write (default: SPACE-HASH.pt)")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--json", action="store_true", help="print the metrics record as JSON")
    add_training_arguments(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> None:
    from graphvae_nas.evaluation.trainer import train_network
    from graphvae_nas.spaces import get_space
    from graphvae_nas.vae.persistence import save_payload

    space = get_space(args.space)
    arch = space.parse(args.arch)
    evaluator = training_evaluator(args, space)
    module = evaluator.build(arch)
    record = train_network(module, evaluator.data, evaluator.config, progress=True)
    out = Path(args.out or f"{space.name}-{arch.canonical_hash[:12]}.pt")
    save_payload({"space": space.spec(), "arch": space.format(arch),
                       "network": evaluator.network, "num_classes": evaluator.data.num_classes,
                       "in_channels": evaluator.data.in_channels, "data": evaluator.data.spec(),
                       "config": evaluator.config.to_dict(), "metrics": record,
                       "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()}},
                 out, file_format=NETWORK_FORMAT)
    if args.json:
        print(json.dumps(record))
    else:
        print(f"{space.format(arch)}: test accuracy {record['test_acc']:.2f} %, macro F1 "
              f"{record['test_f1']:.2f} %, valid accuracy {record['valid_acc']:.2f} % "
              f"({record['epochs']} epochs, {record['seconds']:.1f} s on {record['device']})")
    print(f"weights in {out}", file=sys.stderr)
