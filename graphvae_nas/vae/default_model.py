"""A small VAE for a search space, trained on first use and cached.

Latent BO needs a VAE of the space it searches. When the user has not trained one, the
default search trains a small model (hidden 128, latent 16, decoder positions) on every
architecture of a finite space of at most 100,000 members, or on 20,000 distinct samples
otherwise, for a fixed number of epochs (:data:`DEFAULT_TRAINING`, changed per space by
:data:`SPACE_TRAINING`), and caches it under ``$GRAPHVAE_NAS_CACHE`` (default
``~/.cache/graphvae_nas``). The file name is a hash of the space and every training setting,
so a changed setting trains a new model instead of reusing a stale one. A file lock makes a
second process that needs the same model wait for the first and then load its file.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.locking import exclusive_lock
from graphvae_nas.spaces import SearchSpace, sample_distinct, shape_spec, space_from_spec
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.model import GraphVAE
from graphvae_nas.vae.persistence import load_model, save_model

DEFAULT_CONFIG = VAEConfig(hidden_size=128, latent_size=16, decoder_positions=True)
ENUMERATE_LIMIT = 100_000
SAMPLE_SIZE = 20_000
DEFAULT_TRAINING = {"epochs": 12, "batch_size": 128, "lr": 2e-3}
"""Adam for 12 epochs. On NB201's 15,625 cells with one thread: about 96 s on a quiet
2-core machine (525 s under a load of about 9) and a final training loss of 0.016 (measured
2026-11-29)."""


SPACE_TRAINING: dict[str, dict] = {
    "bn": {"epochs": 5, "batch_size": 256, "lr": 1e-2, "schedule": "cosine",
           "sample_size": 160_000, "sampler": {"arc_prob": 0.25}},
}
"""Per space name: changes to :data:`DEFAULT_TRAINING`, ``sample_size`` instead of
:data:`SAMPLE_SIZE`, and under ``sampler`` changes to the sampler settings of the training
architectures (only fields that leave the space's architectures unchanged, its
``sampler_fields``). ``bn``: 160,000 DAGs with arc probability 1/4 (7 arcs on 8 variables on
average, like the Asia network's 8 and its BIC optimum's 7, against 14 at the space's default
1/2), 5 epochs in batches of 256, the learning rate falling from 1e-2 to 0 along a cosine.
Measured on Asia's variables with the same number of graph passes (docs/results/asia-bic.md,
"The default bn VAE"): greedy reconstruction of unseen sparse DAGs 63 % with 40,000 DAGs x 18
epochs at a constant 2e-3, 81 % with the cosine schedule, 84 % with 160,000 DAGs x 5 epochs;
83 % with batch 256 at 1e-2 in 21 % less time (66 % with batch 512)."""


MEASURED_MINUTES: dict[tuple[str, int], float] = {("nb201", 8): 1.6, ("bn", 10): 9}
"""Per space name and number of nodes: minutes the default VAE took to train on a quiet 2-core
CPU (told to the user before training starts; the progress bar then shows the time left).
nb201: 96 s (2026-11-29); bn over 8 variables (10 nodes with input and output): 519 s of
training (2026-12-08; 9 min 42 s for the first `search --strategy bo`, sampling the 160,000
DAGs included)."""


def training_settings(space: SearchSpace) -> tuple[dict, dict, int]:
    """``space``'s default VAE: its training settings, its training sampler's changes and the
    number of sampled training architectures (for spaces too large to enumerate)."""
    changes = dict(SPACE_TRAINING.get(space.name, {}))
    sampler = changes.pop("sampler", {})
    sample_size = changes.pop("sample_size", SAMPLE_SIZE)
    unknown = set(sampler) - set(getattr(space, "sampler_fields", ()))
    if unknown:
        raise GraphVAENASError(f"SPACE_TRAINING[{space.name!r}]: {sorted(unknown)} are not sampler "
                               f"fields of the space; they would change its architectures")
    return {**DEFAULT_TRAINING, **changes}, sampler, sample_size


def cache_dir() -> Path:
    """Where cached models live: ``$GRAPHVAE_NAS_CACHE`` or ``~/.cache/graphvae_nas``."""
    return Path(os.environ.get("GRAPHVAE_NAS_CACHE") or Path.home() / ".cache" / "graphvae_nas")


def training_architectures(space: SearchSpace, seed: int = 0) -> list[Architecture]:
    """All architectures of a small finite space, else ``SAMPLE_SIZE`` distinct samples (size
    and sampler settings changed per space by :data:`SPACE_TRAINING`)."""
    size = getattr(space, "size", lambda: None)()
    if size is not None and size <= ENUMERATE_LIMIT and hasattr(space, "enumerate"):
        return list(space.enumerate())
    _, sampler, sample_size = training_settings(space)
    source = space_from_spec({**space.spec(), **sampler}) if sampler else space
    return sample_distinct(source, sample_size, seed)


def _settings(space: SearchSpace, seed: int) -> dict:
    training, sampler, sample_size = training_settings(space)
    config = DEFAULT_CONFIG.to_dict()
    if not config["predictor_weight"]:   # a field added later: the cached files keep their names
        del config["predictor_weight"]
    settings = {"space": shape_spec(space), "config": config, **training, "seed": seed}
    if sampler or sample_size != SAMPLE_SIZE:   # only then: the other spaces keep their files
        settings.update(sampler=sampler, sample_size=sample_size)
    return settings


def default_model_path(space: SearchSpace, *, seed: int = 0) -> Path:
    """Where the default VAE of ``space`` is cached (a hash of its settings names the file),
    whether or not it has been trained yet."""
    key = hashlib.sha256(json.dumps(_settings(space, seed), sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir() / f"vae-{space.name}-{key}.pt"


def default_model(space: SearchSpace, *, seed: int = 0,
                  progress: bool = True) -> tuple[GraphVAE, list[Architecture], Path]:
    """The cached default VAE of ``space`` (trained now if missing), its training
    architectures, and the file it is cached in."""
    from graphvae_nas.vae.metrics import latent_statistics
    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    settings = _settings(space, seed)
    path = default_model_path(space, seed=seed)
    archs = training_architectures(space, seed)
    # one process trains, the others wait for its file instead of training the same model again
    with exclusive_lock(f"{path}.lock", what=f"the default VAE cache {path}", wait=True):
        if path.exists():
            try:
                model, _ = load_model(path, space=space, relabel=True)
                return model, archs, path
            except GraphVAENASError as exc:   # e.g. an old format: a cache is rebuilt, not read
                print(f"retraining the cached default VAE: {exc}", file=sys.stderr)
        training, _, _ = training_settings(space)
        minutes = MEASURED_MINUTES.get((space.name, space.max_nodes))
        took = f", about {minutes:g} min on a quiet 2-core CPU" if minutes else ""
        epochs = training["epochs"]
        print(f"training the default VAE of {space.name} on {len(archs)} architectures "
              f"({epochs} epoch{'' if epochs == 1 else 's'}{took}; once, then cached in {path})",
              file=sys.stderr)
        torch.manual_seed(seed)
        model = GraphVAE(space, DEFAULT_CONFIG)
        history = train_vae(model, archs, TrainConfig(**training, seed=seed, progress=progress))
        model = model.cpu().eval()
        save_model(model, path, extra={**latent_statistics(model, archs), "history": history,
                                       "settings": settings})
    return model, archs, path
