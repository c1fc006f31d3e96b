"""Weighted retraining of a latent strategy's VAE during the search.

Tripp, Daxberger & Hernandez-Lobato (NeurIPS 2020, "Sample-efficient optimization in the
latent space of deep generative models via weighted retraining"): every so many evaluations,
fine-tune the VAE on the evaluated architectures weighted by their rank, so that the latent
space and the decoder give more room to good regions; the strategy then searches the new
latent space. :class:`WeightedRetraining` wraps any strategy built from a VAE (``bo``,
``bo-structure``, ``bo-gnn``, ``bo-pool``) and rebuilds it on each fine-tuned copy.
"""
from __future__ import annotations

import copy
import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.configs import RetrainConfig
from graphvae_nas.search.strategies.base import History, Proposal, Strategy

RETRAIN_BATCH = 128
"""Minibatch size of each fine-tuning."""


def rank_weights(scores: np.ndarray, k: float) -> np.ndarray:
    """Tripp et al.'s rank weights, normalised: ``1 / (k N + rank)``, rank 0 for the largest of
    the ``N`` scores (tied scores ranked in the order they come)."""
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores))
    rank[order] = np.arange(len(scores))
    weights = 1.0 / (k * len(scores) + rank)
    return weights / weights.sum()


class WeightedRetraining:
    """``build(model)`` searching the latent space of a VAE that is fine-tuned every
    ``retrain.every`` evaluations (``retrain``: a
    :class:`~graphvae_nas.search.configs.RetrainConfig`): after the first ``every``,
    ``2 every``, ... evaluations, a copy of the current VAE is trained for ``retrain.epochs``
    epochs (learning rate ``retrain.lr``) on ``retrain.samples`` architectures drawn with
    replacement from those evaluations, with probabilities :func:`rank_weights`
    (``retrain.k``), and the strategy is rebuilt on it. Each fine-tuning depends only on the
    evaluations before it (its random draws are seeded by their hashes), so a resumed study
    replays the same ones. ``model`` itself is never changed. Single-objective only: the
    weights rank the first objective."""

    def __init__(self, build: Callable[[Any], Strategy], model: Any,
                 retrain: RetrainConfig) -> None:
        if retrain.every < 1:
            raise GraphVAENASError("weighted retraining needs retrain.every >= 1")
        self._build = build
        self.model = model
        self.retrain = retrain
        self.every = retrain.every
        self._inner = build(model)
        self._trained_at = 0
        self._past: dict[str, float] = {}
        self._own: dict[str, float] = {"retrains": 0, "retrain_s": 0.0}

    def spec(self) -> dict[str, Any]:
        return self._inner.spec()

    @property
    def counters(self) -> dict[str, float]:
        """The wrapped strategies' counters summed over rebuilds, and the fine-tunings (count
        and seconds, the new latent box's encoding included)."""
        merged = dict(self._past)
        for key, value in getattr(self._inner, "counters", {}).items():
            merged[key] = merged.get(key, 0) + value
        return {**merged, **self._own}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        if len(history.objective_specs) > 1:     # refused at once, not after `every` evaluations
            raise GraphVAENASError("weighted retraining ranks one objective; this study has "
                                   f"{len(history.objective_specs)} (leave retrain.every at 0)")
        while self._trained_at + self.every <= len(history):
            self._retrain(history, self._trained_at + self.every)
        return self._inner.propose(history, n, rng)

    def _retrain(self, history: History, upto: int) -> None:
        from graphvae_nas.vae.trainer import TrainConfig, train_vae

        start = time.perf_counter()
        scored = [(a, y) for a, y in zip(history.archs[:upto], history.scores()[:upto])
                  if y is not None]
        self._trained_at = upto
        if not scored:
            return
        digest = hashlib.sha256("".join(a.canonical_hash for a, _ in scored).encode()).digest()
        seed = int.from_bytes(digest[:4], "little")
        weights = rank_weights(np.array([y for _, y in scored]), self.retrain.k)
        picks = np.random.default_rng(seed).choice(len(scored), size=self.retrain.samples,
                                                   p=weights)
        model = copy.deepcopy(self.model)
        train_vae(model, [scored[i][0] for i in picks],
                  TrainConfig(epochs=self.retrain.epochs, batch_size=RETRAIN_BATCH,
                              lr=self.retrain.lr,
                              seed=seed, progress=False))
        self.model = model
        for key, value in getattr(self._inner, "counters", {}).items():
            self._past[key] = self._past.get(key, 0) + value
        self._inner = self._build(model)
        self._own["retrains"] += 1
        self._own["retrain_s"] += time.perf_counter() - start
