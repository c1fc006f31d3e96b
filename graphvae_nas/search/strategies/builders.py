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
* ``bananas``: the GNN ensemble, candidates mutated from the best architectures (BANANAS);
* ``lolbo``: a GP on the (jointly fine-tuned) encoder's means, candidates decoded inside an
  adaptive trust region (:mod:`graphvae_nas.search.strategies.lolbo`).

All choose the batch by the same acquisition (qLogNEI by default) after a prefilter by its
analytic counterpart.
"""
from __future__ import annotations

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.configs import (
    BananasConfig,
    BOConfig,
    BOGNNConfig,
    BOPoolConfig,
    BOStructureConfig,
    GNNConfig,
    GPConfig,
    LOLBOConfig,
    SurrogateConfig,
    as_options,
)
from graphvae_nas.search.factory import StrategyContext
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
           "build_lolbo", "gaussian_copula"]


def _common(config: SurrogateConfig, context: StrategyContext) -> dict:
    """The surrogate strategy's own settings, and its spec's record of every option."""
    settings = {"preset": context.preset, **as_options(config)}
    if context.model_name or context.model is not None:
        settings["model"] = context.model_name
    return {"acquisition": config.acquisition, "n_init": config.n_init, "copula": config.copula,
            "settings": settings}


def _gp(config: GPConfig) -> dict:
    """The latent GP's options of a GP strategy's config."""
    return {"fit_maxiter": config.fit_maxiter, "kernel": config.kernel,
            "fit_points": config.fit_points}


def _gnn(config: GNNConfig, space: SearchSpace) -> GNNEnsemble:
    return GNNEnsemble(space.vocabulary, space.max_nodes, members=config.members,
                       hidden=config.hidden, layers=config.layers, epochs=config.epochs,
                       lr=config.lr)


def build_bo(config: BOConfig, model, context: StrategyContext) -> SurrogateStrategy:
    """``bo``: ``context.candidates`` span the latent box."""
    latent = LatentSpace(model, context.candidates)
    surrogate = LatentGP(latent.means, latent.bounds, **_gp(config.gp))
    generator = DecodeGenerator(latent, config.decode, optimise=config.optimise)
    return SurrogateStrategy("bo", context.space or latent.space, surrogate, generator,
                             **_common(config, context))


def build_bo_pool(config: BOPoolConfig, model, context: StrategyContext) -> SurrogateStrategy:
    """``bo-pool``: ``context.candidates`` are the pool and span the latent box."""
    candidates = context.candidates
    latent = LatentSpace(model, candidates)
    latent.means(candidates)  # every pool member's latent mean, cached once
    surrogate = LatentGP(latent.means, latent.bounds, **_gp(config.gp))
    return SurrogateStrategy("bo-pool", context.space or latent.space, surrogate,
                             PoolGenerator(candidates),
                             fallback=False, **_common(config, context))


def build_bo_gnn(config: BOGNNConfig, model, context: StrategyContext) -> SurrogateStrategy:
    """``bo-gnn``: ``context.candidates`` span the latent box."""
    latent = LatentSpace(model, context.candidates)
    return SurrogateStrategy("bo-gnn", context.space or latent.space,
                             _gnn(config.gnn, latent.space),
                             DecodeGenerator(latent, config.decode), **_common(config, context))


def _structure_gp(config: BOStructureConfig, space: SearchSpace) -> LatentGP:
    """``bo-structure``'s GP: on the structure encoding (the equivalence class's invariants
    with ``equivalence``), or with the ``additive`` kernel on the labelled adjacency, one term
    per node label of the space's vocabulary over the arcs into it."""
    additive = config.gp.kernel == "additive"
    encoding = structure_encoding(space, equivalence=config.equivalence and not additive)
    groups = None
    if additive:
        if not isinstance(encoding, LabelledAdjacencyEncoding):
            raise GraphVAENASError(f"kernel 'additive' needs a space with one node per label "
                                   f"(bn); {space.name!r} places labels more than once")
        groups = encoding.groups_into(space.ops)
    return LatentGP(encoding.encode, unit_box(encoding.dim), **_gp(config.gp), groups=groups)


def build_bo_structure(config: BOStructureConfig, model,
                       context: StrategyContext) -> SurrogateStrategy:
    """``bo-structure``: ``context.candidates`` span the latent box."""
    latent = LatentSpace(model, context.candidates)
    space = context.space or latent.space
    surrogate = _structure_gp(config, latent.space)
    generators: list = [DecodeGenerator(latent, config.decode)]
    if config.mutate.top:
        generators.append(MutationGenerator(space, top=config.mutate.top,
                                            mutations=config.mutate.count,
                                            between_classes=config.equivalence))
    generator = UnionGenerator(generators) if len(generators) > 1 else generators[0]
    if config.equivalence:
        generator = DistinctClasses(generator, latent.space)
    return SurrogateStrategy("bo-structure", space, surrogate, generator,
                             **_common(config, context))


def build_bananas(config: BananasConfig, space: SearchSpace,
                  context: StrategyContext) -> SurrogateStrategy:
    """``bananas`` on ``space`` (no VAE)."""
    generator = MutationGenerator(space, top=config.mutate.top, mutations=config.mutate.count)
    return SurrogateStrategy("bananas", space, _gnn(config.gnn, space), generator,
                             **_common(config, context))


def build_lolbo(config: LOLBOConfig, model, context: StrategyContext):
    """``lolbo``: ``context.candidates`` span the latent box (kept while the VAE is
    fine-tuned)."""
    from graphvae_nas.search.strategies.lolbo import TrustRegionLatentBO

    latent = LatentSpace(model, context.candidates)
    return TrustRegionLatentBO(context.space or latent.space, model, latent.bounds, config,
                               settings=_common(config, context)["settings"])
