"""The graph VAE: an encoder to a Gaussian latent code, D-VAE's decoder back to a DAG."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError, GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace
from graphvae_nas.vae.batch import DenseGraphs, dense_graphs, to_architectures
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.decoder import DagDecoder
from graphvae_nas.vae.encoders import build_encoder


def most_frequent(archs: Sequence[Architecture]) -> Architecture | None:
    """The architecture occurring most often in ``archs`` (by canonical hash; the first one
    decoded wins ties), or ``None`` for an empty list."""
    if not archs:
        return None
    counts = Counter(a.canonical_hash for a in archs)
    top = max(counts.values())
    return next(a for a in archs if counts[a.canonical_hash] == top)


@dataclass
class LossParts:
    """Per-batch sums: ``loss = -(type_ll + edge_ll) + beta * kl + predictor_weight *
    predictor_se``; ``mu`` the encoder's means (with their gradient, for losses that also read
    the latent space); ``predictor_se`` the predictor head's squared error (0 without targets)."""

    loss: torch.Tensor
    type_ll: torch.Tensor
    edge_ll: torch.Tensor
    kl: torch.Tensor
    mu: torch.Tensor | None = None
    predictor_se: torch.Tensor | None = None


class GraphVAE(nn.Module):
    """Variational autoencoder over the architectures of one search space.

    ``encode`` gives the posterior mean and log-variance; ``decode`` turns latent points
    back into architectures of the space.
    """

    def __init__(self, space: SearchSpace, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.space = space
        self.config = config or VAEConfig()
        self.rules = space.decoding_rules()
        self.vocabulary = tuple(space.vocabulary)
        if tuple(self.rules.vocabulary) != self.vocabulary:
            raise ArchitectureError("space vocabulary and decoding rules disagree")
        self.max_nodes = self.rules.max_nodes
        self.encoder = build_encoder(len(self.vocabulary), self.max_nodes, self.config)
        self.decoder = DagDecoder(self.rules, self.config)
        self.predictor = (nn.Linear(self.config.latent_size, 1)
                          if self.config.predictor_weight > 0 else None)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def batch(self, archs: Sequence[Architecture]) -> DenseGraphs:
        """Architectures as a padded batch on the model's device."""
        return dense_graphs(archs, self.vocabulary, self.max_nodes).to(self.device)

    # ------------------------------------------------------------------ encoding
    def encode(self, graphs: DenseGraphs | Sequence[Architecture]) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, logvar)``, each ``[count, latent_size]``."""
        if not isinstance(graphs, DenseGraphs):
            graphs = self.batch(graphs)
        return self.encoder(graphs)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """``mu + eps_scale * std * noise`` (D-VAE scales the noise by 0.01)."""
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + self.config.eps_scale * torch.exp(0.5 * logvar) * noise

    def loss(self, graphs: DenseGraphs, generator: torch.Generator | None = None,
             targets: torch.Tensor | None = None) -> LossParts:
        """Teacher-forced negative ELBO of a batch (sums over graphs, as D-VAE), plus the
        predictor head's weighted squared error on ``targets [count]`` when the model has the
        head (``config.predictor_weight`` > 0) and targets are given."""
        mu, logvar = self.encoder(graphs)
        z = self.reparameterize(mu, logvar, generator)
        type_ll, edge_ll = self.decoder.log_likelihood(z, graphs)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = -(type_ll + edge_ll) + self.config.beta * kl
        se = None
        if self.predictor is not None and targets is not None:
            predicted = self.predictor(mu).squeeze(-1).float()
            se = (predicted - targets.to(predicted)).pow(2).sum()
            loss = loss + self.config.predictor_weight * se
            se = se.detach()
        return LossParts(loss, type_ll.detach(), edge_ll.detach(), kl.detach(), mu, se)

    # ------------------------------------------------------------------ decoding
    def _check_latent(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        if z.dim() == 1:
            z = z.unsqueeze(0)
        if z.dim() != 2 or z.shape[1] != self.config.latent_size:
            raise GraphVAENASError(
                f"latent vectors must have size {self.config.latent_size}, got shape {tuple(z.shape)}")
        if not torch.isfinite(z).all():
            raise GraphVAENASError("latent vectors contain NaN or infinity")
        return z

    @torch.no_grad()
    def decode_raw(self, z: torch.Tensor, *, stochastic: bool = True,
                   generator: torch.Generator | None = None) -> list[Architecture | None]:
        """One decode per row of ``z``; ``None`` where the result is not valid in the space."""
        graphs = self.decoder.generate(self._check_latent(z), stochastic=stochastic,
                                       generator=generator)
        archs = to_architectures(graphs.types, graphs.adj, graphs.num_nodes, self.vocabulary)
        return [a if a is not None and self.space.is_valid(a) else None for a in archs]

    @torch.no_grad()
    def decode(self, z: torch.Tensor, samples: int = 1, *, seed: int | None = 0,
               stochastic: bool = True) -> list[Architecture | None]:
        """For each row of ``z``, the most frequent valid architecture among ``samples``
        stochastic decodes (ties go to the one decoded first); ``None`` if none is valid.
        Deterministic for a given ``seed``; ``samples=1, stochastic=False`` is the greedy decode."""
        z = self._check_latent(z)
        generator = None
        if seed is not None:
            generator = torch.Generator(device=z.device)
            generator.manual_seed(seed)
        repeated = z.repeat_interleave(samples, dim=0)
        flat = self.decode_raw(repeated, stochastic=stochastic, generator=generator)
        return [most_frequent([a for a in flat[i * samples:(i + 1) * samples] if a is not None])
                for i in range(z.shape[0])]
