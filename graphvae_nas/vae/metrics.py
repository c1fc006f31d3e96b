"""Generative metrics of a trained VAE, as D-VAE defines them.

* reconstruction accuracy: each graph encoded ``encode_times`` times (posterior sample with
  the model's noise scale), each code decoded ``decode_times`` times (stochastically); the
  fraction of decodes identical (same canonical hash) to the input;
* validity: ``n`` prior samples rescaled to the training latents' per-dimension mean and std,
  each decoded ``decode_times`` times; the fraction of decodes valid in the space;
* uniqueness: distinct valid decodes / valid decodes;
* novelty: valid decodes whose canonical hash is not in the training set / valid decodes
  (a set lookup, O(N)).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from graphvae_nas.graph import Architecture
from graphvae_nas.vae.model import GraphVAE

DEFAULT_CHUNK = 8192
DECODE_CHUNK = 1024
"""Rows decoded at once: larger chunks leave the CPU caches and run slower."""


@torch.no_grad()
def encode_means(model: GraphVAE, archs: Sequence[Architecture], chunk: int = DEFAULT_CHUNK
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior ``(mu, logvar)`` of many architectures, computed in chunks."""
    mus, logvars = [], []
    for first in range(0, len(archs), chunk):
        mu, logvar = model.encode(model.batch(archs[first:first + chunk]))
        mus.append(mu.float())
        logvars.append(logvar.float())
    return torch.cat(mus), torch.cat(logvars)


def latent_statistics(model: GraphVAE, archs: Sequence[Architecture]) -> dict[str, torch.Tensor]:
    """Per-dimension mean and std of the training latent means, as saved with a model under
    ``latent_mean`` / ``latent_std`` (``vae sample`` draws from this Gaussian; the population
    std, so that a single training architecture gives 0, not NaN)."""
    mu, _ = encode_means(model, archs)
    return {"latent_mean": mu.mean(0).cpu(), "latent_std": mu.std(0, correction=0).cpu()}


@torch.no_grad()
def decode_many(model: GraphVAE, z: torch.Tensor, generator: torch.Generator,
                chunk: int = DECODE_CHUNK) -> list[Architecture | None]:
    """One stochastic decode per row of ``z`` (``None`` where invalid), in chunks."""
    out: list[Architecture | None] = []
    for first in range(0, z.shape[0], chunk):
        out.extend(model.decode_raw(z[first:first + chunk], stochastic=True, generator=generator))
    return out


def match_rate(decoded: Sequence[Architecture | None], targets: Sequence[str], repeats: int) -> float:
    """Fraction of ``decoded`` whose canonical hash equals its target; decode ``i`` belongs to
    target ``i // repeats``."""
    if len(decoded) != len(targets) * repeats:
        raise ValueError(f"{len(decoded)} decodes for {len(targets)} targets x {repeats}")
    hits = sum(1 for i, arch in enumerate(decoded)
               if arch is not None and arch.canonical_hash == targets[i // repeats])
    return hits / len(decoded)


def generation_stats(decoded: Sequence[Architecture | None], train_hashes: Iterable[str]
                     ) -> dict[str, float]:
    """``validity`` (valid / all), ``uniqueness`` (distinct valid / valid) and ``novelty``
    (valid not in the training set / valid) of a list of decodes (``None`` = invalid)."""
    if not decoded:
        raise ValueError("no decodes to score")
    valid = [a.canonical_hash for a in decoded if a is not None]
    known = set(train_hashes)
    n_valid = len(valid)
    return {"validity": n_valid / len(decoded),
            "uniqueness": len(set(valid)) / n_valid if n_valid else 0.0,
            "novelty": sum(1 for h in valid if h not in known) / n_valid if n_valid else 0.0}


@torch.no_grad()
def reconstruction_accuracy(model: GraphVAE, archs: Sequence[Architecture], *,
                            encode_times: int = 10, decode_times: int = 10, seed: int = 0,
                            chunk: int = DEFAULT_CHUNK) -> float:
    """Fraction of the ``len(archs) * encode_times * decode_times`` decodes equal to their input."""
    if not archs:
        raise ValueError("reconstruction accuracy of an empty set")
    generator = torch.Generator(device=model.device).manual_seed(seed)
    mu, logvar = encode_means(model, archs, chunk)
    targets = [a.canonical_hash for a in archs]
    total = 0.0
    for _ in range(encode_times):
        z = model.reparameterize(mu, logvar, generator).repeat_interleave(decode_times, 0)
        total += match_rate(decode_many(model, z, generator), targets, decode_times)
    return total / encode_times


@torch.no_grad()
def prior_metrics(model: GraphVAE, train_mu: torch.Tensor, train_hashes: Iterable[str], *,
                  num_samples: int = 1000, decode_times: int = 10, seed: int = 0,
                  chunk: int = DEFAULT_CHUNK) -> dict[str, float]:
    """Validity, uniqueness and novelty of decodes of prior samples (see module docstring)."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    mean, std = train_mu.mean(0), train_mu.std(0)
    noise = torch.randn(num_samples, train_mu.shape[1], generator=generator, device=model.device)
    z = (noise * std + mean).repeat_interleave(decode_times, 0)
    return generation_stats(decode_many(model, z, generator), train_hashes)
