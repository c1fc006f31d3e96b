"""Configuration of the graph VAE (model shape and loss); training settings live in the trainer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

ENCODERS = ("dvae", "gin")


@dataclass(frozen=True)
class VAEConfig:
    """Model hyper-parameters. The defaults are D-VAE's ENAS settings (hidden 501, latent 56,
    bidirectional encoder, vertex ids in messages, beta 0.005, reparameterisation noise 0.01)."""

    encoder: str = "dvae"
    hidden_size: int = 501
    latent_size: int = 56
    bidirectional: bool = True
    vertex_id: bool = True
    beta: float = 0.005
    eps_scale: float = 0.01
    gin_layers: int = 5
    decoder_positions: bool = False
    """Give the decoder's GRU each node's one-hot position besides its type. D-VAE does not;
    without it, nodes that share their predecessors and op (e.g. NAS-Bench-201's edges out of
    the input) get identical states, so the next node's type cannot depend on where it is."""

    predictor_weight: float = 0.0
    """Weight of a linear head that predicts a (standardised) score of each training graph
    from its latent mean, trained with the VAE (the property predictor of Gomez-Bombarelli et
    al., ACS Cent. Sci. 2018): it orders the latent space by the score. 0: no head, D-VAE's
    unsupervised training. The head learns from the scores given to
    ``train_vae(..., targets=...)``; trained without them it is left as it is."""

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        for name in ("hidden_size", "latent_size", "gin_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.beta < 0 or self.eps_scale < 0 or self.predictor_weight < 0:
            raise ValueError("beta, eps_scale and predictor_weight must be non-negative")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VAEConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown VAE config fields {sorted(unknown)}")
        return cls(**data)


WITHOUT_POSITIONS = frozenset({"enas"})
"""Spaces whose decoder needs no node positions: D-VAE's ENAS space (each layer's op and
connections tell its nodes apart; D-VAE's published settings)."""


def space_decoder_positions(space_name: str) -> bool:
    """Whether a VAE of this space should give its decoder node positions: yes unless the
    space is in :data:`WITHOUT_POSITIONS`. Without them D-VAE's decoder reconstructs 46 % of
    NAS-Bench-201 cells (README, "Results"), with them 99.9 %."""
    return space_name not in WITHOUT_POSITIONS
