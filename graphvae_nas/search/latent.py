"""A trained VAE seen from the search: cached latent means, the latent box, decoding."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from graphvae_nas.graph import Architecture

ENCODE_CHUNK = 4096


class LatentSpace:
    """``model``: a trained :class:`~graphvae_nas.vae.GraphVAE` (put in eval mode);
    ``box_data``: architectures whose latent means span the box ``bounds [2, d]``."""

    def __init__(self, model, box_data: Sequence[Architecture]) -> None:
        if not box_data:
            raise ValueError("the latent box needs box_data (architectures whose means span it)")
        self.model = model.eval()
        self.space = model.space
        self._latent: dict[str, torch.Tensor] = {}
        box = self.means(box_data)
        self.bounds = torch.stack([box.min(0).values, box.max(0).values])

    @property
    def dim(self) -> int:
        return int(self.bounds.shape[-1])

    @torch.no_grad()
    def means(self, archs: Sequence[Architecture]) -> torch.Tensor:
        """Float64 latent means ``[len(archs), d]`` (each architecture encoded once, then cached)."""
        missing = [a for a in {a.canonical_hash: a for a in archs}.values()
                   if a.canonical_hash not in self._latent]
        for first in range(0, len(missing), ENCODE_CHUNK):
            chunk = missing[first:first + ENCODE_CHUNK]
            mu, _ = self.model.encode(chunk)
            for arch, row in zip(chunk, mu.double().cpu()):
                self._latent[arch.canonical_hash] = row
        if not archs:
            return torch.zeros(0, self.dim, dtype=torch.float64)
        return torch.stack([self._latent[a.canonical_hash] for a in archs])

    @torch.no_grad()
    def decode(self, z: torch.Tensor, generator: torch.Generator) -> list[Architecture | None]:
        """One stochastic decode per row of ``z`` (``None`` where invalid in the space)."""
        return self.model.decode_raw(z.float(), generator=generator)
