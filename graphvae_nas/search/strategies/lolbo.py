"""``lolbo``: latent-space BO in an adaptive trust region, with the encoder fine-tuned together
with the surrogate on what has been evaluated (after LOL-BO, Maus et al., "Local Latent Space
Bayesian Optimization over Structured Inputs", NeurIPS 2022).

Each round after the random start: the trust region (:mod:`graphvae_nas.search.trust_region`)
counts the last round as a success or a failure; every ``joint.every`` evaluations the VAE is
fine-tuned with a GP on the evaluated architectures
(:func:`~graphvae_nas.search.strategies.joint.fine_tune_jointly`); then a
:class:`~graphvae_nas.search.strategies.surrogate.SurrogateStrategy` on the current VAE - a GP
on its encoder's means, candidates decoded inside the region
(:class:`~graphvae_nas.search.generators.TrustRegionGenerator`) - chooses the batch by the
acquisition. The latent box is the pretrained encoder's and stays fixed.

The region and the fine-tunings are functions of the history, replayed in rounds of the
current batch size from where the random start ended, so a resumed study with a constant batch
size continues the uninterrupted trajectory.
"""
from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import torch

from graphvae_nas.search.configs import LOLBOConfig
from graphvae_nas.search.generators import TrustRegionGenerator
from graphvae_nas.search.latent import LatentSpace
from graphvae_nas.search.objectives import oriented_row
from graphvae_nas.search.pareto import leaders
from graphvae_nas.search.strategies.base import History, Proposal
from graphvae_nas.search.strategies.joint import fine_tune_jointly
from graphvae_nas.search.strategies.surrogate import SurrogateStrategy
from graphvae_nas.search.trust_region import TrustRegion
from graphvae_nas.spaces import SearchSpace
from graphvae_nas.surrogates.latent_gp import LatentGP


class TrustRegionLatentBO:
    """``lolbo`` on ``model`` (never changed; the fine-tuned copies replace each other),
    searching ``space`` within the latent box ``bounds [2, d]`` with the options of ``config``
    (a :class:`~graphvae_nas.search.configs.LOLBOConfig`); ``settings`` go to ``spec()``."""

    name = "lolbo"

    def __init__(self, space: SearchSpace, model, bounds: torch.Tensor, config: LOLBOConfig,
                 settings: dict[str, Any] | None = None) -> None:
        self.space = space
        self.model = model
        self.bounds = bounds.to(torch.float64)
        self.config = config
        self.settings = dict(settings or {})
        self.region = TrustRegion(config.region, dim=int(self.bounds.shape[-1]))
        self._inner = self._build(model)
        self._accounted: int | None = None
        self._trained_at = 0
        self._past: dict[str, float] = {}
        self._own: dict[str, float] = {"joint_updates": 0, "joint_s": 0.0}

    def _build(self, model) -> SurrogateStrategy:
        config = self.config
        latent = LatentSpace(model, bounds=self.bounds)
        surrogate = LatentGP(latent.means, self.bounds, fit_maxiter=config.gp.fit_maxiter,
                             kernel=config.gp.kernel, fit_points=config.gp.fit_points)
        generator = TrustRegionGenerator(latent, self.region, config.region.points,
                                         optimise=config.optimise)
        return SurrogateStrategy(self.name, self.space, surrogate, generator,
                                 acquisition=config.acquisition, n_init=config.n_init,
                                 copula=config.copula, settings=self.settings)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **self.settings}

    @property
    def counters(self) -> dict[str, float]:
        """The inner strategies' counters summed over fine-tunings, the fine-tunings (count
        and seconds), and the region's side, restarts and counted rounds."""
        merged = dict(self._past)
        for key, value in self._inner.counters.items():
            merged[key] = merged.get(key, 0) + value
        return {**merged, **self._own, "region_length": self.region.length,
                "region_restarts": self.region.restarts, "region_rounds": self.region.rounds}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        rows = [oriented_row(history.objective_specs, v) for v in history.values]
        self._count_rounds(rows, n)
        every = self.config.joint.every
        while every and self._trained_at + every <= len(history):
            self._fine_tune(history, rows, self._trained_at + every)
        return self._inner.propose(history, n, rng)

    def _count_rounds(self, rows: list[list[float] | None], n: int) -> None:
        """Update the region with every complete round of ``n`` since the last call; the first
        call finds where the random start ended (as :class:`SurrogateStrategy` proposes it)."""
        if self._accounted is None:
            start, n_init = 0, self.config.n_init
            while (scored := sum(r is not None for r in rows[:start])) < n_init:
                start += min(n, n_init - scored)
                if start > len(rows):
                    return
            self._accounted = start
        while self._accounted + n <= len(rows):
            end = self._accounted + n
            before = [r for r in rows[:self._accounted] if r is not None]
            batch = [r for r in rows[self._accounted:end] if r is not None]
            m = len(before[0]) if before else len(batch[0]) if batch else 1
            self.region.update(torch.tensor(before, dtype=torch.float64).reshape(-1, m),
                               torch.tensor(batch, dtype=torch.float64).reshape(-1, m))
            self._accounted = end

    def _fine_tune(self, history: History, rows: list[list[float] | None], upto: int) -> None:
        start = time.perf_counter()
        self._trained_at = upto
        scored = [(a, r) for a, r in zip(history.archs[:upto], rows[:upto]) if r is not None]
        if len(scored) < 2:
            return
        Y = torch.tensor([r for _, r in scored], dtype=torch.float64)
        keep = sorted(leaders(Y, self.config.joint.points))
        archs = [scored[i][0] for i in keep]
        digest = hashlib.sha256("".join(a.canonical_hash for a, _ in scored).encode()).digest()
        self.model = fine_tune_jointly(self.model, archs, Y[keep], self.bounds, self.config.joint,
                                       kernel=self.config.gp.kernel,
                                       seed=int.from_bytes(digest[:4], "little"))
        for key, value in self._inner.counters.items():
            self._past[key] = self._past.get(key, 0) + value
        self._inner = self._build(self.model)
        self._own["joint_updates"] += 1
        self._own["joint_s"] += time.perf_counter() - start
