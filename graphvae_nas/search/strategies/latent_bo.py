"""Bayesian optimisation in a VAE's latent space (BoTorch).

Each round: the latent means of the evaluated architectures and their objectives fit a
float64 ``SingleTaskGP`` (inputs normalised to the latent box of the data, outcomes
standardised); a batch acquisition (qLogEI, or qUCB) picks points, and

* **decode mode** optimises it over the continuous latent box with ``optimize_acqf`` and
  decodes each point (``samples`` stochastic decodes, the most frequent valid architecture not
  evaluated yet); decodes that are invalid or already seen are counted and replaced by further
  decodes of a jittered point, never evaluated;
* **pool mode** (as arch2vec does) optimises it over the encoded, not yet evaluated members of
  a finite pool with ``optimize_acqf_discrete``.

The first ``n_init`` architectures are random. The strategy is a function of the history and
the generator it is given, so resumed studies follow the same trajectory.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.strategies.base import History, Proposal, random_unseen
from graphvae_nas.vae.model import most_frequent

MODES = ("decode", "pool")
ACQUISITIONS = ("qlogei", "ucb")


class LatentBO:
    """Latent-space BO over a trained :class:`~graphvae_nas.vae.GraphVAE` (see module docstring).

    ``box_data``: architectures whose latent means span the search box (default: the pool);
    ``pool``: the candidates of pool mode.
    """

    def __init__(self, model, *, mode: str = "decode", pool: Sequence[Architecture] | None = None,
                 box_data: Sequence[Architecture] | None = None, n_init: int = 10,
                 acquisition: str = "qlogei", ucb_beta: float = 2.0, samples: int = 10,
                 num_restarts: int = 4, raw_samples: int = 256, max_jitter: int = 5,
                 model_name: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {ACQUISITIONS}")
        if mode == "pool" and not pool:
            raise ValueError("pool mode needs a pool of candidate architectures")
        box_source = box_data if box_data is not None else pool
        if not box_source:
            raise ValueError("the latent box needs box_data (or a pool)")
        self.model = model.eval()
        self.space = model.space
        self.mode = mode
        self.n_init = n_init
        self.acquisition = acquisition
        self.ucb_beta = ucb_beta
        self.samples = samples
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples
        self.max_jitter = max_jitter
        self.model_name = model_name
        self.counters: dict[str, float] = {"invalid_decodes": 0, "seen_decodes": 0,
                                           "jittered": 0, "random_fallbacks": 0}
        self._latent: dict[str, torch.Tensor] = {}
        box_mu = self._encode(box_source)
        self.bounds = torch.stack([box_mu.min(0).values, box_mu.max(0).values])
        self.pool = list(pool) if pool is not None else None
        self._pool_mu = self._encode(self.pool) if self.pool is not None else None

    def spec(self) -> dict[str, Any]:
        return {"name": "bo" if self.mode == "decode" else "bo-pool", "mode": self.mode,
                "n_init": self.n_init, "acquisition": self.acquisition, "samples": self.samples,
                "num_restarts": self.num_restarts, "raw_samples": self.raw_samples,
                "model": self.model_name}

    # ------------------------------------------------------------------ latents
    @torch.no_grad()
    def _encode(self, archs: Sequence[Architecture]) -> torch.Tensor:
        missing = [a for a in {a.canonical_hash: a for a in archs}.values()
                   if a.canonical_hash not in self._latent]
        for first in range(0, len(missing), 4096):
            chunk = missing[first:first + 4096]
            mu, _ = self.model.encode(chunk)
            for arch, row in zip(chunk, mu.double().cpu()):
                self._latent[arch.canonical_hash] = row
        return torch.stack([self._latent[a.canonical_hash] for a in archs])

    # ------------------------------------------------------------------ proposals
    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        scored = history.scored()
        if len(scored) < self.n_init:
            return random_unseen(self.space, history, rng, min(n, self.n_init - len(scored)),
                                 tag="random-init")
        seed = rng.getrandbits(62)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            x = self._encode([a for a, _ in scored])
            y = torch.tensor([v for _, v in scored], dtype=torch.float64).unsqueeze(-1)
            acq = self._acquisition(x, y)
            if self.mode == "pool":
                return self._propose_pool(acq, history, n)
            return self._propose_decode(acq, history, n, seed)

    def _acquisition(self, x: torch.Tensor, y: torch.Tensor):
        from botorch.acquisition import qLogExpectedImprovement, qUpperConfidenceBound
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Normalize, Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        gp = SingleTaskGP(x, y, input_transform=Normalize(x.shape[-1], bounds=self.bounds),
                          outcome_transform=Standardize(1))
        try:
            fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
        except (RuntimeError, ValueError):  # keep searching with the prior hyper-parameters
            self.counters["gp_fit_failures"] = self.counters.get("gp_fit_failures", 0) + 1
        if self.acquisition == "ucb":
            return qUpperConfidenceBound(gp, beta=self.ucb_beta)
        return qLogExpectedImprovement(gp, best_f=y.max())

    def _propose_pool(self, acq, history: History, n: int) -> list[Proposal]:
        from botorch.optim import optimize_acqf_discrete

        unseen = [i for i, a in enumerate(self.pool) if a.canonical_hash not in history.seen]
        if not unseen:
            raise GraphVAENASError("every architecture of the pool has been evaluated")
        choices = self._pool_mu[unseen]
        picked, _ = optimize_acqf_discrete(acq, q=min(n, len(unseen)), choices=choices, unique=True)
        out = []
        for row in picked:
            index = int(torch.nonzero((choices == row).all(-1))[0, 0])
            out.append(Proposal(self.pool[unseen[index]], "bo-pool"))
        return out

    def _propose_decode(self, acq, history: History, n: int, seed: int) -> list[Proposal]:
        from botorch.optim import optimize_acqf

        points, _ = optimize_acqf(acq, bounds=self.bounds, q=n, num_restarts=self.num_restarts,
                                  raw_samples=self.raw_samples)
        taken = set(history.seen)
        out: list[Proposal] = []
        generator = torch.Generator().manual_seed(seed)
        scale = (self.bounds[1] - self.bounds[0]) * 0.05
        for point in points:
            arch = None
            for attempt in range(self.max_jitter + 1):
                z = point if attempt == 0 else point + scale * torch.randn(
                    point.shape, generator=generator, dtype=point.dtype)
                arch = self._decode_unseen(z, taken, generator)
                if arch is not None:
                    break
                self.counters["jittered"] += 1
            if arch is None:
                self.counters["random_fallbacks"] += 1
                fallback = random_unseen(self.space, history, random.Random(seed + len(out)), 1,
                                         exclude=taken, tag="bo-random-fallback")
                out.extend(fallback)
                taken.add(fallback[0].arch.canonical_hash)
                continue
            taken.add(arch.canonical_hash)
            out.append(Proposal(arch, "bo"))
        return out

    def _decode_unseen(self, z: torch.Tensor, taken: set[str],
                       generator: torch.Generator) -> Architecture | None:
        """The most frequent valid decode of ``z`` not in ``taken`` (first decoded on ties)."""
        decoded = self.model.decode_raw(z.float().unsqueeze(0).repeat(self.samples, 1),
                                        generator=generator)
        valid = [a for a in decoded if a is not None]
        self.counters["invalid_decodes"] += len(decoded) - len(valid)
        fresh = [a for a in valid if a.canonical_hash not in taken]
        self.counters["seen_decodes"] += len(valid) - len(fresh)
        return most_frequent(fresh)
