"""Strategies by name, as the command line and the examples choose them."""
from __future__ import annotations

import inspect
from collections.abc import Sequence

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
STRATEGY_NAMES = ("random", "evolution", "local", "bo", "bo-pool")


def make_strategy(name: str, *, model=None, model_name: str = "",
                  candidates: Sequence[Architecture] | None = None, **options):
    """``random``, ``evolution``, ``local``, ``bo`` (latent BO, decode mode) or ``bo-pool``.

    The BO strategies need a trained VAE (``model``) and ``candidates`` (the pool of pool
    mode, and the architectures whose latents span the search box).
    """
    # imported here so that the command line's --help (STRATEGY_NAMES) does not load torch
    from graphvae_nas.search.strategies import (
        LatentBO,
        LocalSearch,
        RandomSearch,
        RegularizedEvolution,
    )

    if name == "random":
        return RandomSearch()
    if name == "evolution":
        return RegularizedEvolution(**options)
    if name == "local":
        return LocalSearch()
    if name in ("bo", "bo-pool"):
        if model is None:
            raise GraphVAENASError(f"strategy {name!r} needs a trained VAE (--model; train one with "
                                   "`graphvae-nas vae train`)")
        if not candidates:
            raise GraphVAENASError(f"strategy {name!r} needs candidate architectures for its latent box")
        known = set(inspect.signature(LatentBO).parameters) - {"model", "mode", "pool", "box_data",
                                                                "model_name"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise GraphVAENASError(f"unknown latent BO option(s) {', '.join(unknown)} "
                                   f"(known: {', '.join(sorted(known))})")
        mode = "decode" if name == "bo" else "pool"
        return LatentBO(model, mode=mode, pool=candidates if mode == "pool" else None,
                        box_data=candidates, model_name=model_name, **options)
    raise GraphVAENASError(f"unknown strategy {name!r} (known: {', '.join(STRATEGY_NAMES)})")
