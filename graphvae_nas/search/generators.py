"""Candidate generators: where the architectures an acquisition chooses among come from.

Each generator returns distinct architectures that are valid in the space and not evaluated
yet, given one :class:`Round` of a surrogate strategy (the history, the fitted surrogate and
acquisition, and a seeded torch generator shared by the round's generators in order):

* :class:`DecodeGenerator` decodes latent points of a VAE: the acquisition's optima and jittered
  copies (when the surrogate lives in that latent space), neighbourhoods of the best
  architectures' latent means, and uniform points of the latent box;
* :class:`TrustRegionGenerator` decodes latent points inside an adaptive trust region around
  the best architecture's latent mean (TuRBO, as LOL-BO uses it);
* :class:`PoolGenerator` offers the unevaluated members of a fixed pool;
* :class:`MutationGenerator` offers the neighbours and random two-step mutations of the best
  architectures so far;
* :class:`UnionGenerator` combines several;
* :class:`DistinctClasses` keeps one candidate per equivalence class of structures (bn).

"Best" is by value with one objective and by NSGA-II's order (Pareto rank, then crowding
distance: :func:`graphvae_nas.search.pareto.leaders`) with several.
"""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.configs import DecodeConfig, OptimiseConfig
from graphvae_nas.search.latent import LatentSpace
from graphvae_nas.search.pareto import leaders
from graphvae_nas.spaces import SearchSpace

if TYPE_CHECKING:  # the strategies import this module: a runtime import would be circular
    from graphvae_nas.search.strategies.base import History


@dataclass
class Round:
    """What one proposal round knows. ``Y [len(archs), m]`` are the evaluated architectures'
    objective values in the surrogate's units (larger is better), ``X`` their features,
    ``model`` the fitted surrogate, ``acquisition`` the batch acquisition over its features,
    ``generator`` the round's seeded torch generator."""

    history: History
    n: int
    seed: int
    archs: list[Architecture]
    Y: torch.Tensor
    X: torch.Tensor
    model: Any
    acquisition: Any
    generator: torch.Generator

    def leaders(self, k: int) -> list[int]:
        """Indices into ``archs`` of the ``k`` best (NSGA-II order with several objectives):
        the parents and centres that generators search around."""
        return leaders(self.Y, k)


@runtime_checkable
class CandidateGenerator(Protocol):
    def candidates(self, round: Round) -> list[Architecture]:
        """Distinct valid architectures not in ``round.history``."""
        ...

    def spec(self) -> dict[str, Any]: ...


def unseen_distinct(archs: Sequence[Architecture], history: History) -> list[Architecture]:
    """``archs`` without those evaluated already (nor, in a space restricted to a table, those
    outside it: ``space.contains``), first occurrence of each kept, in order."""
    contains = getattr(history.space, "contains", None)
    return list({a.canonical_hash: a for a in archs if a.canonical_hash not in history.seen
                 and (contains is None or contains(a))}.values())


class PoolGenerator:
    """The members of ``pool`` not evaluated yet (as arch2vec's BO does)."""

    def __init__(self, pool: Sequence[Architecture]) -> None:
        if not pool:
            raise ValueError("a pool generator needs a non-empty pool of architectures")
        self.pool = list(pool)

    def spec(self) -> dict[str, Any]:
        return {"name": "pool", "size": len(self.pool)}

    def candidates(self, round: Round) -> list[Architecture]:
        unseen = [a for a in self.pool if a.canonical_hash not in round.history.seen]
        if not unseen:
            raise GraphVAENASError("every architecture of the pool has been evaluated")
        return unseen


class MutationGenerator:
    """The neighbours (``space.neighbours``) of the ``top`` best architectures so far (NSGA-II
    order with several objectives), then ``mutations`` random two-step mutations of them
    (``space.mutate``, seeded by the round), as BANANAS's mutation candidates. With
    ``between_classes`` the neighbours are the moves out of each parent's equivalence class
    (``space.class_neighbours``: bn), kept for the last ``cache`` parents."""

    def __init__(self, space: SearchSpace, *, top: int = 10, mutations: int = 200,
                 between_classes: bool = False, cache: int = 200) -> None:
        if between_classes and not hasattr(space, "class_neighbours"):
            raise GraphVAENASError(f"space {space.name!r} has no equivalence classes of "
                                   "structures (between_classes needs space.class_neighbours)")
        self.space = space
        self.top = top
        self.mutations = mutations
        self.between_classes = between_classes
        self._cache: dict[str, list[Architecture]] = {}
        self._cache_size = cache

    def spec(self) -> dict[str, Any]:
        return {"name": "mutation", "top": self.top, "mutations": self.mutations,
                "between_classes": self.between_classes}

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        if not self.between_classes:
            return self.space.neighbours(arch)
        key = arch.canonical_hash
        if key not in self._cache:
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self.space.class_neighbours(arch)
        return self._cache[key]

    def candidates(self, round: Round) -> list[Architecture]:
        order = round.leaders(self.top)
        parents = [round.archs[i] for i in order]
        found = [n for p in parents for n in self.neighbours(p)]
        rng = random.Random(round.seed)
        for k in range(self.mutations):
            found.append(self.space.mutate(self.space.mutate(parents[k % len(parents)], rng), rng))
        return unseen_distinct(found, round.history)


class DecodeGenerator:
    """Decodes latent points of ``latent`` (one stochastic decode each) and keeps the distinct
    valid unseen architectures (``decode``: a
    :class:`~graphvae_nas.search.configs.DecodeConfig`; ``optimise``: an
    :class:`~graphvae_nas.search.configs.OptimiseConfig`, or None):

    * with ``optimise``: the ``round.n`` points of ``optimize_acqf`` over the latent box and
      ``optimise.jitters`` jittered copies, ``optimise.decodes`` times each. Needs a surrogate
      whose features are this latent space;
    * ``decode.neighbourhood`` points drawn around the latent means of the ``decode.top`` best
      architectures (Gaussian, std ``decode.scale`` x the box's sides);
    * ``decode.explore`` points uniform in the box.

    With several objectives the acquisition (qLogNEHVI) is not optimised over the box: its
    gradient-based optimisation cost about a minute a round at 150 observations on two CPU
    cores (over 10 s per proposal), so the candidates are the decodes around the leading
    architectures (NSGA-II order: the Pareto front first) and uniform in the box, and
    qLogNEHVI chooses among them.
    """

    def __init__(self, latent: LatentSpace, decode: DecodeConfig = DecodeConfig(), *,
                 optimise: OptimiseConfig | None = None) -> None:
        self.latent = latent
        self.decode = decode
        self.optimise = optimise
        self.counters: dict[str, float] = {"invalid_decodes": 0, "seen_decodes": 0,
                                           "decoded_candidates": 0}

    def spec(self) -> dict[str, Any]:
        return {"name": "decode", "decode": dataclasses.asdict(self.decode),
                "optimise": None if self.optimise is None else dataclasses.asdict(self.optimise)}

    def candidates(self, round: Round) -> list[Architecture]:
        bounds = self.latent.bounds
        x = self.latent.means(round.archs)
        decode = self.decode
        best = round.leaders(decode.top)
        generator = round.generator
        parts = []
        if self.optimise is not None and round.Y.shape[-1] == 1:
            parts.append(self._optimised_points(round, self.optimise))
        if decode.neighbourhood:
            top = x[best]
            centres = top[torch.arange(decode.neighbourhood) % len(top)]
            spread = decode.scale * (bounds[1] - bounds[0])
            parts.append(centres + spread * torch.randn(centres.shape, generator=generator,
                                                        dtype=centres.dtype))
        if decode.explore:
            uniform = torch.rand((decode.explore, x.shape[-1]), generator=generator, dtype=x.dtype)
            parts.append(bounds[0] + uniform * (bounds[1] - bounds[0]))
        return decoded_candidates(self.latent, torch.cat(parts), round, self.counters)

    def _optimised_points(self, round: Round, optimise: OptimiseConfig) -> torch.Tensor:
        return optimised_latents(round, self.latent, optimise, self.latent.bounds)


def decoded_candidates(latent: LatentSpace, points: torch.Tensor, round: Round,
                       counters: dict[str, float]) -> list[Architecture]:
    """One stochastic decode of each row of ``points`` (the round's generator), the distinct
    valid unseen architectures kept; ``counters`` count the invalid and already-evaluated
    decodes and the candidates."""
    decoded = latent.decode(points, round.generator)
    valid = [a for a in decoded if a is not None]
    counters["invalid_decodes"] += len(decoded) - len(valid)
    fresh = unseen_distinct(valid, round.history)
    counters["seen_decodes"] += sum(1 for a in valid if a.canonical_hash in round.history.seen)
    counters["decoded_candidates"] += len(fresh)
    return fresh


def optimised_latents(round: Round, latent: LatentSpace, optimise: OptimiseConfig,
                      bounds: torch.Tensor) -> torch.Tensor:
    """The ``round.n`` points of ``optimize_acqf`` over ``bounds [2, d]`` and
    ``optimise.jitters`` copies jittered by 5 % of its sides, each repeated
    ``optimise.decodes`` times. Needs a surrogate on ``latent``'s space."""
    from botorch.optim import optimize_acqf

    if round.X.shape[-1] != latent.dim:
        raise GraphVAENASError("a decode generator that optimises the acquisition needs a "
                               "surrogate on the VAE's latent space (use optimise=None)")
    points, _ = optimize_acqf(round.acquisition, bounds=bounds,
                              q=round.n, num_restarts=optimise.restarts,
                              raw_samples=optimise.raw_samples, sequential=False,
                              options={"maxiter": optimise.maxiter})
    scale = (bounds[1] - bounds[0]) * 0.05
    jitters = [points] + [points + scale * torch.randn(points.shape, generator=round.generator,
                                                       dtype=points.dtype)
                          for _ in range(optimise.jitters)]
    return torch.cat(jitters).repeat_interleave(optimise.decodes, 0)


class TrustRegionGenerator:
    """Decodes latent points inside ``region`` (a
    :class:`~graphvae_nas.search.trust_region.TrustRegion`) around the latent mean of the best
    architecture so far (the first by NSGA-II order with several objectives): ``points``
    perturbations of that centre (TuRBO's candidates) and, with ``optimise`` and one
    objective, the acquisition's optima inside the region and their jittered copies. Needs a
    surrogate on ``latent``'s space (its lengthscales shape the region)."""

    def __init__(self, latent: LatentSpace, region, points: int, *,
                 optimise: OptimiseConfig | None = None) -> None:
        if points < 1:
            raise ValueError("a trust-region generator needs points >= 1")
        self.latent = latent
        self.region = region
        self.points = points
        self.optimise = optimise
        self.counters: dict[str, float] = {"invalid_decodes": 0, "seen_decodes": 0,
                                           "decoded_candidates": 0}

    def spec(self) -> dict[str, Any]:
        return {"name": "trust-region", "points": self.points,
                "optimise": None if self.optimise is None else dataclasses.asdict(self.optimise)}

    def candidates(self, round: Round) -> list[Architecture]:
        """The decodes inside the region; while they offer fewer than ``round.n`` unevaluated
        architectures (a region shrunk below the decoder's resolution), this round's side
        doubles, up to ``max_length`` (the region's state is not changed)."""
        from graphvae_nas.search.trust_region import lengthscale_weights, perturbed_points

        centre = self.latent.means([round.archs[round.leaders(1)[0]]])[0]
        weights = lengthscale_weights(round.model, self.latent.dim)
        length, out, widening = self.region.length, {}, 0
        while True:     # ends: the side doubles up to max_length
            box = self.region.bounds(centre, self.latent.bounds, weights, length=length)
            parts = []
            if widening == 0 and self.optimise is not None and round.Y.shape[-1] == 1:
                parts.append(optimised_latents(round, self.latent, self.optimise, box))
            parts.append(perturbed_points(centre, box, self.points,
                                          (round.seed + widening) % (2 ** 31)))
            for arch in decoded_candidates(self.latent, torch.cat(parts), round, self.counters):
                out.setdefault(arch.canonical_hash, arch)
            if len(out) >= round.n or length >= self.region.config.max_length:
                break
            length = min(2 * length, self.region.config.max_length)
            widening += 1
            self.counters["region_widenings"] = self.counters.get("region_widenings", 0) + 1
        return list(out.values())


class DistinctClasses:
    """``generator``'s candidates, one per equivalence class (``space.equivalence_key``: bn's
    Markov classes), none of a class evaluated already: under a score-equivalent score
    (BIC, BDeu) such a candidate would repeat a known score. ``counters["equivalent_dropped"]``
    counts the candidates left out."""

    def __init__(self, generator: CandidateGenerator, space: SearchSpace) -> None:
        from graphvae_nas.search.strategies.base import EvaluatedClasses

        self.generator = generator
        self.classes = EvaluatedClasses(space, "distinct classes")
        self._dropped = 0

    def spec(self) -> dict[str, Any]:
        return {"name": "distinct-classes", "of": self.generator.spec()}

    @property
    def origins(self) -> dict[str, str]:
        return getattr(self.generator, "origins", {})

    @property
    def counters(self) -> dict[str, float]:
        return {**getattr(self.generator, "counters", {}), "equivalent_dropped": self._dropped}

    def candidates(self, round: Round) -> list[Architecture]:
        taken = self.classes.of(round.history)
        out = []
        for arch in self.generator.candidates(round):
            k = self.classes.key(arch)
            if k in taken:
                self._dropped += 1
                continue
            taken.add(k)
            out.append(arch)
        return out


class UnionGenerator:
    """The candidates of several generators, in their order, each architecture once.
    ``origins`` maps each candidate of the last round (by canonical hash) to the name
    (``spec()["name"]``) of the first generator that offered it."""

    def __init__(self, generators: Sequence[CandidateGenerator]) -> None:
        if not generators:
            raise ValueError("a union needs at least one generator")
        self.generators = list(generators)
        self.origins: dict[str, str] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "union", "parts": [g.spec() for g in self.generators]}

    @property
    def counters(self) -> dict[str, float]:
        merged: dict[str, float] = {}
        for g in self.generators:
            for key, value in getattr(g, "counters", {}).items():
                merged[key] = merged.get(key, 0) + value
        return merged

    def candidates(self, round: Round) -> list[Architecture]:
        out: dict[str, Architecture] = {}
        self.origins = {}
        for g in self.generators:
            name = g.spec()["name"]
            for arch in g.candidates(round):
                if arch.canonical_hash not in out:
                    out[arch.canonical_hash] = arch
                    self.origins[arch.canonical_hash] = name
        return list(out.values())
