"""TuRBO's adaptive trust region (Eriksson et al., "Scalable Global Optimization via Local
Bayesian Optimization", NeurIPS 2019), as latent-space BO uses it (LOL-BO, Maus et al., NeurIPS
2022): a box around the incumbent whose side grows after improving rounds, shrinks after rounds
without improvement, and starts again when it collapses.

The state is a function of the sequence of rounds alone (:meth:`TrustRegion.update` with each
round's values), so a strategy that replays a study's rounds after a resume reaches the same
region as the uninterrupted study.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from graphvae_nas.search.configs import TrustRegionConfig


def improves(before: torch.Tensor, batch: torch.Tensor) -> bool:
    """Whether a round's values ``batch [b, m]`` (larger is better) improve on ``before [k, m]``:
    a new best value with one objective; with several, a row that no earlier row weakly
    dominates (a new point on the Pareto front)."""
    if len(batch) == 0:
        return False
    if len(before) == 0:
        return True
    if batch.shape[-1] == 1:
        return bool(batch.max() > before.max())
    for row in batch:
        dominated = ((before >= row).all(-1)).any()
        if not dominated:
            return True
    return False


@dataclass
class TrustRegion:
    """The region's state for latent vectors of ``dim`` coordinates (``config``: a
    :class:`~graphvae_nas.search.configs.TrustRegionConfig`)."""

    config: TrustRegionConfig
    dim: int
    length: float = field(init=False)
    successes: int = 0
    failures: int = 0
    restarts: int = 0
    rounds: int = 0

    def __post_init__(self) -> None:
        self.length = self.config.length

    def failure_tolerance(self, batch: int) -> int:
        """Rounds without improvement before the side halves: the configured number, or
        TuRBO's ``ceil(max(4, dim) / batch)``."""
        if self.config.failure_tolerance is not None:
            return self.config.failure_tolerance
        return math.ceil(max(4, self.dim) / max(batch, 1))

    def update(self, before: torch.Tensor, batch: torch.Tensor) -> None:
        """Count one round: ``batch [b, m]`` its values (larger is better), ``before [k, m]``
        those of every earlier evaluation."""
        self.rounds += 1
        if improves(before, batch):
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
        if self.successes >= self.config.success_tolerance:
            self.length = min(2 * self.length, self.config.max_length)
            self.successes = 0
        elif self.failures >= self.failure_tolerance(len(batch)):
            self.length /= 2
            self.failures = 0
        if self.length < self.config.min_length:
            self.length = self.config.length
            self.successes = self.failures = 0
            self.restarts += 1

    def bounds(self, centre: torch.Tensor, box: torch.Tensor,
               weights: torch.Tensor | None = None, *, length: float | None = None) -> torch.Tensor:
        """The region ``[2, d]`` around ``centre [d]``: side ``length`` (default: the state's)
        x the box's sides (``box [2, d]``), each side scaled by ``weights`` (TuRBO: the GP's
        lengthscales over their geometric mean), cut to the box - a box widened to hold the
        centre, since a fine-tuned encoder may place it outside the pretrained latents' box."""
        width = box[1] - box[0]
        side = self.length if length is None else length
        half = 0.5 * side * width * (1 if weights is None else weights)
        lower = torch.maximum(centre - half, torch.minimum(box[0], centre))
        upper = torch.minimum(centre + half, torch.maximum(box[1], centre))
        return torch.stack([lower, upper])


def lengthscale_weights(model, dim: int) -> torch.Tensor | None:
    """TuRBO's per-coordinate weights from a fitted GP: its ARD lengthscales over their
    geometric mean (averaged over outputs); ``None`` for a kernel without ``dim`` of them."""
    kernel = getattr(model, "covar_module", None)
    while kernel is not None and not hasattr(kernel, "lengthscale"):
        kernel = getattr(kernel, "base_kernel", None)
    if kernel is None or kernel.lengthscale is None:
        return None
    scales = kernel.lengthscale.detach().double().reshape(-1, kernel.lengthscale.shape[-1])
    if scales.shape[-1] != dim:
        return None
    scales = scales.mean(0)
    return scales / torch.exp(torch.log(scales).mean())


def perturbed_points(centre: torch.Tensor, region: torch.Tensor, count: int,
                     seed: int) -> torch.Tensor:
    """``count`` points of ``region [2, d]``: TuRBO's candidates, the centre with a random
    subset of its coordinates (each with probability ``min(1, 20 / d)``, at least one) replaced
    by those of a scrambled Sobol point of the region."""
    d = centre.shape[-1]
    sobol = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed).draw(count)
    sobol = sobol.to(centre.dtype)
    inside = region[0] + sobol * (region[1] - region[0])
    generator = torch.Generator().manual_seed(seed)
    mask = torch.rand((count, d), generator=generator) <= min(1.0, 20.0 / d)
    empty = ~mask.any(-1)
    if empty.any():
        picks = torch.randint(d, (int(empty.sum()),), generator=generator)
        mask[empty.nonzero().squeeze(-1), picks] = True
    return torch.where(mask, inside, centre.expand(count, d))


__all__ = ["TrustRegion", "improves", "lengthscale_weights", "perturbed_points"]
