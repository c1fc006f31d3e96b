"""The named strategies built from the surrogate seam: latent BO (``bo``, ``bo-pool``),
``bo-gnn`` and ``bananas``.

* ``bo``: a GP on the VAE's latent means (:class:`~graphvae_nas.surrogates.LatentGP`), the
  acquisition optimised over the latent box, and candidates decoded from the optima, their
  jittered copies, neighbourhoods of the best latents and uniform points of the box
  (:class:`~graphvae_nas.search.generators.DecodeGenerator`); on NAS-Bench-201 about 5,000
  decodes a round, about 3,300 distinct cells not evaluated yet;
* ``bo-pool``: the same GP, candidates from a finite pool (as arch2vec does);
* ``bo-gnn``: latent decodes around the best latents and uniform in the box, scored by an
  ensemble of graph neural predictors (:class:`~graphvae_nas.surrogates.GNNEnsemble`);
* ``bo-structure``: latent decodes around the best latents and uniform in the box (optionally
  with the mutations of the best architectures, and with ``equivalence`` the moves between
  Markov equivalence classes of bn structures, one candidate per class), scored by a GP on the
  architectures' structure (the labelled adjacency of a Bayesian network, arc by arc;
  :func:`~graphvae_nas.surrogates.structure.structure_encoding`): the VAE generates, a
  surrogate that sees every arc chooses;
* ``bananas``: the GNN ensemble, candidates mutated from the best architectures (BANANAS).

All choose the batch by the same acquisition (qLogNEI by default) after a prefilter by its
analytic counterpart.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.acquisition import AcquisitionOptions
from graphvae_nas.search.configs import (
    BananasConfig,
    BOConfig,
    BOGNNConfig,
    BOPoolConfig,
    BOStructureConfig,
    DecodedCandidatesConfig,
    GNNConfig,
    SurrogateConfig,
)
from graphvae_nas.search.generators import (
    DecodeGenerator,
    DistinctClasses,
    MutationGenerator,
    PoolGenerator,
    UnionGenerator,
)
from graphvae_nas.search.latent import LatentSpace
from graphvae_nas.search.strategies.surrogate import SurrogateStrategy
from graphvae_nas.spaces import SearchSpace
from graphvae_nas.surrogates.base import gaussian_copula
from graphvae_nas.surrogates.gnn import GNNEnsemble
from graphvae_nas.surrogates.latent_gp import LatentGP
from graphvae_nas.surrogates.structure import LabelledAdjacencyEncoding, structure_encoding, unit_box

__all__ = ["build_bananas", "build_bo", "build_bo_gnn", "build_bo_pool", "build_bo_structure",
           "gaussian_copula"]


def _common(config: SurrogateConfig) -> dict:
    return {"acquisition": config.acquisition, "n_init": config.n_init,
            "pool_shortlist": config.pool_shortlist, "copula": config.copula,
            "restart_after": config.restart_after, "restart_kick": config.restart_kick,
            "acquisition_options": AcquisitionOptions(ucb_beta=config.ucb_beta,
                                                      mc_samples=config.mc_samples)}


def _gp(config: BOPoolConfig) -> dict:
    """The latent GP's options of a GP strategy's config."""
    return {"fit_maxiter": config.fit_maxiter, "kernel": config.kernel,
            "fit_points": config.fit_points}


def _gnn(config: GNNConfig, space: SearchSpace) -> GNNEnsemble:
    return GNNEnsemble(space.vocabulary, space.max_nodes, members=config.members,
                       hidden=config.hidden, layers=config.layers, epochs=config.epochs,
                       lr=config.lr)


def build_bo(config: BOConfig, model, candidates: Sequence[Architecture],
             model_name: str = "") -> SurrogateStrategy:
    """``bo``: ``candidates`` span the latent box."""
    latent = LatentSpace(model, candidates)
    surrogate = LatentGP(latent.means, latent.bounds, **_gp(config))
    generator = DecodeGenerator(
        latent, optimise=True, samples=config.samples, max_jitter=config.max_jitter,
        num_restarts=config.num_restarts, raw_samples=config.raw_samples,
        acq_maxiter=config.acq_maxiter, sequential=config.sequential,
        trust_region=config.trust_region, neighbourhood=config.neighbourhood,
        neighbourhood_top=config.neighbourhood_top, neighbourhood_scale=config.neighbourhood_scale,
        explore=config.explore)
    return SurrogateStrategy("bo", latent.space, surrogate, generator, **_common(config),
                             settings={**dataclasses.asdict(config), "model": model_name})


def build_bo_pool(config: BOPoolConfig, model, candidates: Sequence[Architecture],
                  model_name: str = "") -> SurrogateStrategy:
    """``bo-pool``: ``candidates`` are the pool and span the latent box."""
    latent = LatentSpace(model, candidates)
    latent.means(candidates)  # every pool member's latent mean, cached once
    surrogate = LatentGP(latent.means, latent.bounds, **_gp(config))
    return SurrogateStrategy("bo-pool", latent.space, surrogate, PoolGenerator(candidates),
                             **_common(config), fallback=False,
                             settings={**dataclasses.asdict(config), "model": model_name})


def _decodes(config: DecodedCandidatesConfig, latent: LatentSpace) -> DecodeGenerator:
    """Decodes around the best latents and uniform in the box, no acquisition optimisation."""
    return DecodeGenerator(latent, optimise=False, neighbourhood=config.neighbourhood,
                           neighbourhood_top=config.neighbourhood_top,
                           neighbourhood_scale=config.neighbourhood_scale, explore=config.explore)


def build_bo_gnn(config: BOGNNConfig, model, candidates: Sequence[Architecture],
                 model_name: str = "") -> SurrogateStrategy:
    """``bo-gnn``: ``candidates`` span the latent box."""
    latent = LatentSpace(model, candidates)
    return SurrogateStrategy("bo-gnn", latent.space, _gnn(config, latent.space),
                             _decodes(config, latent), **_common(config),
                             settings={**dataclasses.asdict(config), "model": model_name})


def _structure_gp(config: BOStructureConfig, space: SearchSpace) -> LatentGP:
    """``bo-structure``'s GP: on the structure encoding (the equivalence class's invariants
    with ``equivalence``), or with the ``additive`` kernel on the labelled adjacency, one term
    per node label of the space's vocabulary over the arcs into it."""
    additive = config.kernel == "additive"
    encoding = structure_encoding(space, equivalence=config.equivalence and not additive)
    groups = None
    if additive:
        if not isinstance(encoding, LabelledAdjacencyEncoding):
            raise GraphVAENASError(f"kernel 'additive' needs a space with one node per label "
                                   f"(bn); {space.name!r} places labels more than once")
        groups = encoding.groups_into(space.ops)
    return LatentGP(encoding.encode, unit_box(encoding.dim), **_gp(config), groups=groups)


def build_bo_structure(config: BOStructureConfig, model, candidates: Sequence[Architecture],
                       model_name: str = "") -> SurrogateStrategy:
    """``bo-structure``: ``candidates`` span the latent box."""
    latent = LatentSpace(model, candidates)
    surrogate = _structure_gp(config, latent.space)
    generators: list = [_decodes(config, latent)]
    if config.mutation_top:
        generators.append(MutationGenerator(latent.space, top=config.mutation_top,
                                            mutations=config.mutations,
                                            between_classes=config.equivalence))
    generator = UnionGenerator(generators) if len(generators) > 1 else generators[0]
    if config.equivalence:
        generator = DistinctClasses(generator, latent.space)
    return SurrogateStrategy("bo-structure", latent.space, surrogate, generator,
                             **_common(config),
                             settings={**dataclasses.asdict(config), "model": model_name})


def build_bananas(config: BananasConfig, space: SearchSpace) -> SurrogateStrategy:
    """``bananas`` on ``space`` (no VAE)."""
    generator = MutationGenerator(space, top=config.mutation_top, mutations=config.mutations)
    return SurrogateStrategy("bananas", space, _gnn(config, space), generator, **_common(config),
                             settings=dataclasses.asdict(config))
