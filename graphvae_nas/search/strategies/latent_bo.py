"""Bayesian optimisation in a VAE's latent space (BoTorch).

Each round: the latent means of the evaluated architectures and their objectives fit a
float64 ``SingleTaskGP`` (inputs normalised to the latent box of the data; outcomes replaced by
the normal quantiles of their ranks, ``copula=True``, then standardised); a batch acquisition
(qLogEI, or qUCB; 128 quasi-MC samples) picks points, and

* **decode mode** optimises it over the continuous latent box with ``optimize_acqf`` and turns
  latent points into candidate architectures with the decoder. By default (``rerank=True``) it
  decodes the optimised points and ``max_jitter`` jittered copies (``samples`` times each),
  ``neighbourhood`` points drawn around the latent means of the best architectures so far, and
  ``explore`` points drawn uniformly in the latent box (one stochastic decode each); the distinct
  valid decodes not evaluated yet are encoded, and the batch is chosen among them by the same
  acquisition at their own encoded means (where the GP's training inputs live). With
  ``rerank=False`` each optimised point becomes the most frequent valid unseen architecture among
  its ``samples`` decodes, jittered when none is. Invalid and already-seen decodes are counted,
  never evaluated;
* **pool mode** (as arch2vec does) optimises it over the encoded, not yet evaluated members of
  a finite pool with ``optimize_acqf_discrete``.

Both modes choose among many encoded candidates the same way: the ``pool_shortlist`` best by
analytic log-EI, then the greedy batch of ``optimize_acqf_discrete``. On NAS-Bench-201 decode
mode decodes about 5,000 latent points a round, about 3,300 distinct cells not evaluated yet.
``trust_region`` restricts the continuous search to a box around the best point (TuRBO's shape).
Hyper-parameter fits and acquisition optimisation are capped (``fit_maxiter``,
``acq_maxiter``): on NAS-Bench-201 with a 16-dimensional latent space a round of 5 proposals
at 150 observations costs about 1 s on one CPU core. The first ``n_init`` architectures are
random. The strategy is a function of the history and
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


def gaussian_copula(y: torch.Tensor) -> torch.Tensor:
    """Replace values by the normal quantiles of their ranks (ties share their mean rank).

    Benchmarks such as NAS-Bench-201 hold a few architectures at chance level far below the
    rest; standardised raw values let those outliers set the GP's scale, ranks do not.
    """
    flat = y.reshape(-1)
    order = flat.argsort(stable=True)
    ranks = torch.empty_like(flat)
    ranks[order] = torch.arange(1, len(flat) + 1, dtype=flat.dtype)
    for value in flat.unique():  # mean rank of ties
        tied = flat == value
        ranks[tied] = ranks[tied].mean()
    normal = torch.distributions.Normal(0.0, 1.0)
    return normal.icdf((ranks - 0.5) / len(flat)).reshape(y.shape)


class LatentBO:
    """Latent-space BO over a trained :class:`~graphvae_nas.vae.GraphVAE` (see module docstring).

    ``box_data``: architectures whose latent means span the search box (default: the pool);
    ``pool``: the candidates of pool mode.
    """

    def __init__(self, model, *, mode: str = "decode", pool: Sequence[Architecture] | None = None,
                 box_data: Sequence[Architecture] | None = None, n_init: int = 10,
                 acquisition: str = "qlogei", ucb_beta: float = 2.0, samples: int = 10,
                 num_restarts: int = 4, raw_samples: int = 256, max_jitter: int = 5,
                 trust_region: float | None = None, fit_maxiter: int = 100, acq_maxiter: int = 50,
                 mc_samples: int = 128, copula: bool = True, sequential: bool = False,
                 pool_shortlist: int = 500, rerank: bool = True, neighbourhood: int = 1000,
                 neighbourhood_top: int = 5, neighbourhood_scale: float = 0.1, explore: int = 4000,
                 model_name: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        try:
            import botorch  # noqa: F401
        except ImportError:
            raise GraphVAENASError('latent BO needs BoTorch: pip install "graphvae_nas[bo]"') from None
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {ACQUISITIONS}")
        if neighbourhood < 0 or explore < 0 or neighbourhood_top < 1 or neighbourhood_scale <= 0:
            raise ValueError("neighbourhood and explore must be >= 0, neighbourhood_top >= 1 and "
                             "neighbourhood_scale > 0")
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
        self.trust_region = trust_region
        self.fit_maxiter = fit_maxiter
        self.acq_maxiter = acq_maxiter
        self.mc_samples = mc_samples
        self.copula = copula
        self.sequential = sequential
        self.pool_shortlist = pool_shortlist
        self.rerank = rerank
        self.explore = explore
        self.neighbourhood = neighbourhood
        self.neighbourhood_top = neighbourhood_top
        self.neighbourhood_scale = neighbourhood_scale
        self.model_name = model_name
        self.counters: dict[str, float] = {"invalid_decodes": 0, "seen_decodes": 0,
                                           "jittered": 0, "random_fallbacks": 0,
                                           "decoded_candidates": 0}
        self._latent: dict[str, torch.Tensor] = {}
        box_mu = self._encode(box_source)
        self.bounds = torch.stack([box_mu.min(0).values, box_mu.max(0).values])
        self.pool = list(pool) if pool is not None else None
        if self.pool is not None:
            self._encode(self.pool)  # every pool member's latent mean, cached once

    def spec(self) -> dict[str, Any]:
        return {"name": "bo" if self.mode == "decode" else "bo-pool", "mode": self.mode,
                "n_init": self.n_init, "acquisition": self.acquisition, "samples": self.samples,
                "num_restarts": self.num_restarts, "raw_samples": self.raw_samples,
                "trust_region": self.trust_region, "fit_maxiter": self.fit_maxiter,
                "acq_maxiter": self.acq_maxiter, "mc_samples": self.mc_samples, "copula": self.copula,
                "sequential": self.sequential, "pool_shortlist": self.pool_shortlist,
                "rerank": self.rerank, "neighbourhood": self.neighbourhood,
                "neighbourhood_top": self.neighbourhood_top,
                "neighbourhood_scale": self.neighbourhood_scale, "explore": self.explore,
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
            if self.copula:
                y = gaussian_copula(y)
            acq, gp = self._acquisition(x, y)
            if self.mode == "pool":
                return self._propose_pool(acq, gp, float(y.max()), history, n)
            return self._propose_decode(acq, gp, x, y, history, n, seed)

    def _search_box(self, gp, incumbent: torch.Tensor) -> torch.Tensor:
        """The data box, or with ``trust_region`` a box around the best point so far whose
        sides are that fraction of the data box, stretched per dimension by the GP's
        lengthscales (as TuRBO does), clipped to the data box."""
        if self.trust_region is None:
            return self.bounds
        lengthscale = gp.covar_module.base_kernel.lengthscale.detach().reshape(-1) \
            if hasattr(gp.covar_module, "base_kernel") else gp.covar_module.lengthscale.detach().reshape(-1)
        weights = lengthscale / lengthscale.log().mean().exp()
        half = 0.5 * self.trust_region * weights * (self.bounds[1] - self.bounds[0])
        return torch.stack([torch.maximum(incumbent - half, self.bounds[0]),
                            torch.minimum(incumbent + half, self.bounds[1])])

    def _acquisition(self, x: torch.Tensor, y: torch.Tensor):
        from botorch.acquisition import qLogExpectedImprovement, qUpperConfidenceBound
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Normalize, Standardize
        from botorch.sampling import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        gp = SingleTaskGP(x, y, input_transform=Normalize(x.shape[-1], bounds=self.bounds),
                          outcome_transform=Standardize(1))
        try:
            fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp),
                             optimizer_kwargs={"options": {"maxiter": self.fit_maxiter}})
        except (RuntimeError, ValueError):  # keep searching with the prior hyper-parameters
            self.counters["gp_fit_failures"] = self.counters.get("gp_fit_failures", 0) + 1
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([self.mc_samples]))
        if self.acquisition == "ucb":
            return qUpperConfidenceBound(gp, beta=self.ucb_beta, sampler=sampler), gp
        return qLogExpectedImprovement(gp, best_f=y.max(), sampler=sampler), gp

    def _propose_pool(self, acq, gp, best_f: float, history: History, n: int) -> list[Proposal]:
        unseen = [a for a in self.pool if a.canonical_hash not in history.seen]
        if not unseen:
            raise GraphVAENASError("every architecture of the pool has been evaluated")
        return self._select(acq, gp, best_f, unseen, n, "bo-pool")

    def _select(self, acq, gp, best_f: float, candidates: list[Architecture], n: int,
                tag: str) -> list[Proposal]:
        """The batch acquisition over the candidates' encoded means, after a cheap prefilter: the
        ``pool_shortlist`` best by analytic log-EI (one posterior for all of them), so that the
        greedy batch selection of ``optimize_acqf_discrete`` runs over hundreds, not thousands."""
        from botorch.acquisition.analytic import LogExpectedImprovement
        from botorch.optim import optimize_acqf_discrete

        mu = self._encode(candidates)
        if len(candidates) > self.pool_shortlist:
            with torch.no_grad():
                scores = LogExpectedImprovement(gp, best_f=best_f)(mu.unsqueeze(1))
            keep = scores.topk(self.pool_shortlist).indices.sort().values
            candidates = [candidates[i] for i in keep.tolist()]
            mu = mu[keep]
        picked, _ = optimize_acqf_discrete(acq, q=min(n, len(candidates)), choices=mu, unique=True)
        out = []
        for row in picked:
            index = int(torch.nonzero((mu == row).all(-1))[0, 0])
            out.append(Proposal(candidates[index], tag))
        return out

    def _propose_decode(self, acq, gp, x: torch.Tensor, y: torch.Tensor, history: History, n: int,
                        seed: int) -> list[Proposal]:
        from botorch.optim import optimize_acqf

        box = self._search_box(gp, x[y.argmax()])
        points, _ = optimize_acqf(acq, bounds=box, q=n, num_restarts=self.num_restarts,
                                  raw_samples=self.raw_samples, sequential=self.sequential,
                                  options={"maxiter": self.acq_maxiter})
        taken = set(history.seen)
        out: list[Proposal] = []
        generator = torch.Generator().manual_seed(seed)
        scale = (self.bounds[1] - self.bounds[0]) * 0.05
        if self.rerank:
            return self._rerank_decodes(acq, gp, points, scale, x, y, history, n, seed, generator)
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

    def _rerank_decodes(self, acq, gp, points: torch.Tensor, scale: torch.Tensor, x: torch.Tensor,
                        y: torch.Tensor, history: History, n: int, seed: int,
                        generator: torch.Generator) -> list[Proposal]:
        """Decode every optimised point and ``max_jitter`` jittered copies ``samples`` times each,
        ``neighbourhood`` points drawn around the latent means of the ``neighbourhood_top`` best
        architectures so far (Gaussian, std ``neighbourhood_scale`` x the box's sides) and
        ``explore`` uniform points of the box; choose the batch among the distinct valid unseen
        decodes by the acquisition at their own encoded means."""
        jitters = [points] + [points + scale * torch.randn(points.shape, generator=generator,
                                                           dtype=points.dtype)
                              for _ in range(self.max_jitter)]
        z = torch.cat(jitters).repeat_interleave(self.samples, 0)
        if self.neighbourhood:
            top = x[y.reshape(-1).argsort(descending=True, stable=True)[:self.neighbourhood_top]]
            centres = top[torch.arange(self.neighbourhood) % len(top)]
            spread = self.neighbourhood_scale * (self.bounds[1] - self.bounds[0])
            z = torch.cat([z, centres + spread * torch.randn(centres.shape, generator=generator,
                                                             dtype=centres.dtype)])
        if self.explore:
            uniform = torch.rand((self.explore, x.shape[-1]), generator=generator, dtype=x.dtype)
            z = torch.cat([z, self.bounds[0] + uniform * (self.bounds[1] - self.bounds[0])])
        decoded = self.model.decode_raw(z.float(), generator=generator)
        valid = [a for a in decoded if a is not None]
        self.counters["invalid_decodes"] += len(decoded) - len(valid)
        unseen = [a for a in valid if a.canonical_hash not in history.seen]
        self.counters["seen_decodes"] += len(valid) - len(unseen)
        fresh = list({a.canonical_hash: a for a in unseen}.values())
        self.counters["decoded_candidates"] += len(fresh)
        out = self._select(acq, gp, float(y.max()), fresh, n, "bo") if fresh else []
        if len(out) < n:
            self.counters["random_fallbacks"] += n - len(out)
            taken = set(history.seen) | {p.arch.canonical_hash for p in out}
            out += random_unseen(self.space, history, random.Random(seed), n - len(out), exclude=taken,
                                 tag="bo-random-fallback")
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
