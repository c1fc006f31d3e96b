"""Command-line options for real training, shared by ``search`` and ``train``."""
from __future__ import annotations

import argparse
from typing import Any

from graphvae_nas.cli.numbers import positive_float, positive_int

# Per image data set: (epochs, images per step, SGD learning rate, nb201 width C, cells per stage N).
# CIFAR follows NAS-Bench-201's recipe; digits (1,078 training images of 8x8 pixels) is sized so
# that one network trains in seconds on a CPU core.
RECIPES: dict[str, dict[str, Any]] = {
    "digits": {"epochs": 8, "batch_size": 64, "lr": 0.05, "C": 8, "N": 1},
    "cifar": {"epochs": 200, "batch_size": 256, "lr": 0.1, "C": 16, "N": 5},
}

# What ``search`` changes in a recipe: on digits every proposed cell is trained for one epoch
# (17 SGD steps), a low-fidelity proxy that ranks cells by how fast they learn. With the full 8
# epochs most cells reach about 98 % and tie on the 360 validation images; after one epoch 60
# random cells spread from 10 % to 79 % test accuracy and their validation accuracy ranks them
# as their test accuracy does (Spearman 0.996). ``train`` keeps the full recipe.
SEARCH_PROXY: dict[str, dict[str, Any]] = {"digits": {"epochs": 1}}


def add_training_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The options that choose image data, recipe, network size and device."""
    parser.add_argument("--data", default="digits", help="digits (bundled), cifar10 or cifar100")
    parser.add_argument("--data-dir", help="folder with the CIFAR archives (graphvae-nas data fetch)")
    parser.add_argument("--epochs", type=positive_int,
                        help="training epochs (digits: 8, and 1 per cell in search; CIFAR: 200)")
    parser.add_argument("--train-batch-size", type=positive_int, help="images per step (digits: 64, CIFAR: 256)")
    parser.add_argument("--lr", type=positive_float, help="initial SGD learning rate (digits: 0.05, CIFAR: 0.1)")
    parser.add_argument("--width", type=positive_int, help="nb201: channels of the first stage C (digits: 8, CIFAR: 16)")
    parser.add_argument("--cells", type=positive_int, help="nb201: cells per stage N (digits: 1, CIFAR: 5)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: the GPU when present)")
    parser.add_argument("--compile", nargs="?", const=True, default=False, metavar="MODE",
                        help="torch.compile each network; MODE reduce-overhead replays CUDA graphs "
                             "(2.5x the eager fp32 speed of NB201 on an H200, after ~50 s of compiling)")
    parser.add_argument("--ops-module", action="append", default=[], metavar="MODULE",
                        help="import MODULE (a dotted name on the Python path, or a .py file) "
                             "first: it registers the network modules of a custom space's ops "
                             "with graphvae_nas.networks.register_op; repeatable")


def training_recipe(data: str, *, search: bool = False) -> dict[str, Any]:
    """The default training settings for image data ``data``; ``search``: those for scoring
    many proposed cells (:data:`SEARCH_PROXY`)."""
    key = "digits" if data == "digits" else "cifar"
    return {**RECIPES[key], **(SEARCH_PROXY.get(key, {}) if search else {})}


def training_evaluator(args: argparse.Namespace, space, objective: str = "valid_acc",
                       progress: bool = False, *, search: bool = False,
                       fidelities: list[float] | None = None):
    """A :class:`TrainingEvaluator` for ``space`` configured from the parsed options (defaults
    from :func:`training_recipe`); ``fidelities`` (epochs) trains each architecture that long,
    saving states for promotions in ``args.out/states``."""
    from graphvae_nas.evaluation.images import load_image_data
    from graphvae_nas.evaluation.trainer import TrainingConfig
    from graphvae_nas.evaluation.training import TrainingEvaluator

    from graphvae_nas.cli.ops_modules import import_ops_modules

    import_ops_modules(args.ops_module)
    recipe = training_recipe(args.data, search=search)
    data = load_image_data(args.data, args.data_dir, seed=args.seed)
    def given_or(value, default):   # a value of 0 never becomes the default (the types refuse it)
        return default if value is None else value

    config = TrainingConfig(epochs=given_or(args.epochs, recipe["epochs"]),
                            batch_size=given_or(args.train_batch_size, recipe["batch_size"]),
                            lr=given_or(args.lr, recipe["lr"]), seed=args.seed, device=args.device,
                            compile=args.compile)
    network: dict[str, Any] = {}
    if space.name == "nb201":
        network = {"C": given_or(args.width, recipe["C"]), "N": given_or(args.cells, recipe["N"])}
    if fidelities is None:
        return TrainingEvaluator(space, data, config, objective=objective, network=network,
                                 progress=progress)
    from pathlib import Path

    states = Path(args.out or ".") / "states"
    return TrainingEvaluator(space, data, config, objective=objective, network=network,
                             progress=progress, fidelities=[int(f) for f in fidelities],
                             state_dir=states)
