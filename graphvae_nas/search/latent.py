"""A trained VAE seen from the search: cached latent means, the latent box, decoding."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from graphvae_nas.graph import Architecture

ENCODE_BATCH = 256
"""Architectures encoded per call, always this many (the last batch padded with copies): a
float32 matrix product's rounding depends on its row count, so encoding in batches of varying
size gave one architecture latents differing by about 1e-8 - enough to change a search resumed
after a kill, whose first round encodes the history in one batch. With one batch size an
architecture's latent mean does not depend on what it was encoded with, and a resumed search
repeats the uninterrupted one exactly."""


class LatentSpace:
    """``model``: a trained :class:`~graphvae_nas.vae.GraphVAE` (put in eval mode);
    ``box_data``: architectures whose latent means span the box ``bounds [2, d]``, or the
    ``bounds`` themselves (e.g. a box kept while the encoder is fine-tuned)."""

    def __init__(self, model, box_data: Sequence[Architecture] | None = None, *,
                 bounds: torch.Tensor | None = None) -> None:
        if (box_data is None) == (bounds is None):
            raise ValueError("the latent box needs box_data (architectures whose means span "
                             "it) or its bounds, not both")
        if box_data is not None and not box_data:
            raise ValueError("the latent box needs box_data (architectures whose means span it)")
        self.model = model.eval()
        self.space = model.space
        self._latent: dict[Architecture, torch.Tensor] = {}   # by exact graph: the encoder
        # reads the node numbering, so isomorphic graphs numbered otherwise are encoded apart
        if bounds is None:
            box = self.means(box_data)
            bounds = torch.stack([box.min(0).values, box.max(0).values])
        self.bounds = bounds.to(torch.float64)

    @property
    def dim(self) -> int:
        return int(self.bounds.shape[-1])

    @torch.no_grad()
    def means(self, archs: Sequence[Architecture]) -> torch.Tensor:
        """Float64 latent means ``[len(archs), d]`` (each graph encoded once, in a batch of
        :data:`ENCODE_BATCH`, then cached)."""
        missing = [a for a in dict.fromkeys(archs) if a not in self._latent]
        for first in range(0, len(missing), ENCODE_BATCH):
            chunk = missing[first:first + ENCODE_BATCH]
            mu, _ = self.model.encode(chunk + [chunk[0]] * (ENCODE_BATCH - len(chunk)))
            for arch, row in zip(chunk, mu[:len(chunk)].double().cpu()):
                self._latent[arch] = row
        if not archs:
            return torch.zeros(0, self.dim, dtype=torch.float64)
        return torch.stack([self._latent[a] for a in archs])

    @torch.no_grad()
    def decode(self, z: torch.Tensor, generator: torch.Generator) -> list[Architecture | None]:
        """One stochastic decode per row of ``z`` (``None`` where invalid in the space)."""
        return self.model.decode_raw(z.float(), generator=generator)
