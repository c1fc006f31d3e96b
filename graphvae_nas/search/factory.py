"""The registry of named strategies, as the command line and the examples choose them.

Each entry has a typed config (:mod:`graphvae_nas.search.configs`) and a builder; the
strategies that search a VAE's latent space say so (``needs_vae``). Register more with
:func:`register_strategy`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.configs import (
    BananasConfig,
    BOConfig,
    BOGNNConfig,
    BOPoolConfig,
    BOStructureConfig,
    EmptyConfig,
    EvolutionConfig,
    LocalConfig,
    LOLBOConfig,
    NSGA2Config,
    as_options,
    make_config,
    merge,
)
from graphvae_nas.search.presets import automatic_preset, check_presets, preset_options
from graphvae_nas.spaces import SearchSpace


@dataclass(frozen=True)
class StrategyContext:
    """What a builder may use: the space, a trained VAE (with its file name) and candidate
    architectures (the pool of pool strategies, the span of a latent box)."""

    space: SearchSpace | None = None
    model: Any = None
    model_name: str = ""
    candidates: Sequence[Architecture] | None = None
    preset: str | None = None
    """The preset whose values the config holds (recorded in the strategy's spec)."""


@dataclass(frozen=True)
class StrategyEntry:
    """``build(config, context)`` returns the strategy; ``config`` is the options' dataclass."""

    config: type
    build: Callable[[Any, StrategyContext], Any]
    needs_vae: bool = False
    description: str = ""


def _random(config, context):
    from graphvae_nas.search.strategies import RandomSearch

    return RandomSearch()


def _evolution(config: EvolutionConfig, context):
    from graphvae_nas.search.strategies import RegularizedEvolution

    return RegularizedEvolution(config.population_size, config.sample_size)


def _nsga2(config: NSGA2Config, context):
    from graphvae_nas.search.strategies import NSGA2Evolution

    return NSGA2Evolution(config.population_size, config.tournament)


def _local(config, context):
    from graphvae_nas.search.strategies import LocalSearch

    return LocalSearch(between_classes=config.between_classes)


def _latent(builder_name: str):
    def build(config, context: StrategyContext):
        from graphvae_nas.search.strategies import builders

        def on(model):
            return getattr(builders, builder_name)(config, model, context)
        if not config.retrain.every:
            return on(context.model)
        from graphvae_nas.search.strategies.retraining import WeightedRetraining

        return WeightedRetraining(on, context.model, config.retrain)
    return build


def _lolbo(config: LOLBOConfig, context: StrategyContext):
    from graphvae_nas.search.strategies.builders import build_lolbo

    return build_lolbo(config, context.model, context)


def _bananas(config: BananasConfig, context: StrategyContext):
    from graphvae_nas.search.strategies.builders import build_bananas

    space = context.space or getattr(context.model, "space", None)
    if space is None:
        raise GraphVAENASError("strategy 'bananas' needs the search space (space=...)")
    return build_bananas(config, space, context)


_REGISTRY: dict[str, StrategyEntry] = {}


def register_strategy(name: str, entry: StrategyEntry) -> None:
    """Make ``make_strategy(name, ...)`` build strategies with ``entry``."""
    _REGISTRY[name] = entry


def available_strategies() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def strategy_entry(name: str) -> StrategyEntry:
    if name not in _REGISTRY:
        raise GraphVAENASError(f"unknown strategy {name!r} (known: {', '.join(_REGISTRY)})")
    return _REGISTRY[name]


def needs_vae(name: str) -> bool:
    """Whether strategy ``name`` searches a trained VAE's latent space."""
    return strategy_entry(name).needs_vae


register_strategy("random", StrategyEntry(EmptyConfig, _random, description="uniform samples"))
register_strategy("evolution", StrategyEntry(EvolutionConfig, _evolution,
                                             description="regularised (aging) evolution "
                                                         "(over Pareto rank with several objectives)"))
register_strategy("nsga2", StrategyEntry(NSGA2Config, _nsga2,
                                         description="NSGA-II: non-dominated sorting and crowding"))
register_strategy("local", StrategyEntry(LocalConfig, _local, description="local search"))
register_strategy("bo", StrategyEntry(BOConfig, _latent("build_bo"), needs_vae=True,
                                      description="latent BO, candidates decoded"))
register_strategy("bo-pool", StrategyEntry(BOPoolConfig, _latent("build_bo_pool"), needs_vae=True,
                                           description="latent BO over a pool"))
register_strategy("bananas", StrategyEntry(BananasConfig, _bananas,
                                           description="GNN ensemble, mutation candidates"))
register_strategy("bo-gnn", StrategyEntry(BOGNNConfig, _latent("build_bo_gnn"), needs_vae=True,
                                          description="GNN ensemble, latent decodes"))
register_strategy("bo-structure", StrategyEntry(BOStructureConfig, _latent("build_bo_structure"),
                                                needs_vae=True,
                                                description="GP on the graph's arcs, latent decodes"))
register_strategy("lolbo", StrategyEntry(LOLBOConfig, _lolbo, needs_vae=True,
                                         description="latent BO in a trust region, encoder "
                                                     "fine-tuned with the GP"))

STRATEGY_NAMES = available_strategies()
"""The built-in strategies (``available_strategies()`` includes later registrations)."""


def option_defaults(name: str) -> dict[str, Any]:
    """The default value of every option of strategy ``name``, nested by group (empty for
    unknown names)."""
    entry = _REGISTRY.get(name)
    return as_options(entry.config()) if entry is not None else {}


def resolve_preset(preset: str | None, space: SearchSpace | None, *, training: bool = False
                   ) -> str | None:
    """``preset`` itself, or for ``"auto"`` the documented automatic choice for ``space``
    (:func:`~graphvae_nas.search.presets.automatic_preset`)."""
    if preset != "auto":
        return preset
    return automatic_preset(getattr(space, "name", None), training=training)


def make_strategy(name: str, *, model=None, model_name: str = "",
                  candidates: Sequence[Architecture] | None = None,
                  space: SearchSpace | None = None, preset: str | None = "auto",
                  options: dict[str, Any] | None = None, **kwargs):
    """The strategy ``name`` with ``options`` (nested by group, checked against its config,
    see :mod:`graphvae_nas.search.configs`; keyword arguments are options too, e.g.
    ``gp={"kernel": "isotropic"}``).

    The VAE strategies (``bo``, ``bo-pool``, ``bo-gnn``, ``bo-structure``, ``lolbo``) need a trained VAE
    (``model``) and ``candidates`` (the pool of ``bo-pool``, and the architectures whose latents
    span the search box); ``bananas`` needs the ``space`` (or a model of it).

    Options not given take the ``preset``'s values (:mod:`graphvae_nas.search.presets`;
    ``"auto"``: ``bn`` on a Bayesian-network space, else none), then the config's defaults.
    The strategy's ``spec()`` records the preset and every option's value.
    """
    entry = strategy_entry(name)
    space = space or getattr(model, "space", None)
    chosen = resolve_preset(preset, space)
    given = merge(options or {}, kwargs)
    config = make_config(entry.config, merge(preset_options(chosen, name), given), strategy=name)
    if entry.needs_vae:
        if model is None:
            raise GraphVAENASError(f"strategy {name!r} needs a trained VAE (--model; train one with "
                                   "`graphvae-nas vae train`)")
        if not candidates:
            raise GraphVAENASError(f"strategy {name!r} needs candidate architectures for its latent box")
    return entry.build(config, StrategyContext(space, model, model_name, candidates, chosen))


check_presets()
