"""Typed options of the named strategies, checked field by field.

``make_config(BOConfig, {"acquisition": "ucb"})`` returns a frozen dataclass or raises
:class:`~graphvae_nas.errors.GraphVAENASError` naming the unknown or invalid option.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.acquisition import DEFAULT_ACQUISITION, all_acquisition_names

REMOVED_OPTIONS = {
    "rerank": "decode mode always chooses among the decoded candidates by the acquisition "
              "(rerank=true); the rerank=false variant was removed",
}


class ConfigError(GraphVAENASError):
    """An unknown or invalid strategy option."""


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"option {field!r}: {message}")


@dataclass(frozen=True)
class EmptyConfig:
    """Strategies without options (random)."""

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""


@dataclass(frozen=True)
class LocalConfig:
    """``local``: with ``between_classes`` (bn) it climbs over Markov equivalence classes."""

    between_classes: bool = False

    def validate(self) -> None:
        """Nothing to check beyond the type."""


@dataclass(frozen=True)
class EvolutionConfig:
    population_size: int = 20
    sample_size: int = 5

    def validate(self) -> None:
        _check(self.population_size >= 1, "population_size", "must be >= 1")
        _check(1 <= self.sample_size <= self.population_size, "sample_size",
               "must be between 1 and population_size")


@dataclass(frozen=True)
class NSGA2Config:
    population_size: int = 20
    tournament: int = 2

    def validate(self) -> None:
        _check(self.population_size >= 2, "population_size", "must be >= 2")
        _check(1 <= self.tournament <= self.population_size, "tournament",
               "must be between 1 and population_size")


@dataclass(frozen=True)
class SurrogateConfig:
    """What every surrogate strategy has: random start, target transform, acquisition, and
    restarts: with ``restart_after``, once the best of the current climb is that many
    evaluations old, a batch of random architectures starts a new climb (with ``restart_kick``
    = k: the best so far, each changed by k random mutations, as iterated local search kicks),
    and the generators search around the new climb's best (the surrogate still learns from
    every evaluation)."""

    n_init: int = 10
    acquisition: str = DEFAULT_ACQUISITION
    ucb_beta: float = 2.0
    mc_samples: int = 128
    pool_shortlist: int = 500
    copula: bool = True
    restart_after: int | None = None
    restart_kick: int = 0

    def validate(self) -> None:
        _check(self.n_init >= 1, "n_init", "must be >= 1")
        _check(self.restart_after is None or self.restart_after >= 1, "restart_after",
               "must be >= 1 or null")
        _check(self.restart_kick >= 0, "restart_kick", "must be >= 0 (0: random restarts)")
        _check(self.acquisition in all_acquisition_names(), "acquisition",
               f"must be one of {', '.join(all_acquisition_names())}, got {self.acquisition!r}")
        _check(self.ucb_beta > 0, "ucb_beta", "must be > 0")
        _check(self.mc_samples >= 1, "mc_samples", "must be >= 1")
        _check(self.pool_shortlist >= 1, "pool_shortlist", "must be >= 1")


@dataclass(frozen=True)
class RetrainConfig:
    """Weighted retraining of the VAE of a latent strategy (Tripp et al., NeurIPS 2020; see
    :class:`~graphvae_nas.search.strategies.retraining.WeightedRetraining`): every
    ``retrain_every`` evaluations (0: never) a copy of the VAE is fine-tuned for
    ``retrain_epochs`` epochs at learning rate ``retrain_lr`` on ``retrain_samples`` evaluated
    architectures drawn with weights ``1 / (retrain_k N + rank)``."""

    retrain_every: int = 0
    retrain_k: float = 1e-3
    retrain_samples: int = 1000
    retrain_epochs: int = 1
    retrain_lr: float = 1e-3

    def check_retraining(self) -> None:
        _check(self.retrain_every >= 0, "retrain_every", "must be >= 0 (0: never)")
        _check(self.retrain_k > 0, "retrain_k", "must be > 0")
        _check(self.retrain_samples >= 1, "retrain_samples", "must be >= 1")
        _check(self.retrain_epochs >= 1, "retrain_epochs", "must be >= 1")
        _check(self.retrain_lr > 0, "retrain_lr", "must be > 0")


@dataclass(frozen=True)
class BOPoolConfig(SurrogateConfig, RetrainConfig):
    """``bo-pool``: GP on VAE latent means, candidates from the pool; optionally the VAE
    retrained during the search (:class:`RetrainConfig`). The GP's options (shared by ``bo``
    and ``bo-structure``): ``kernel`` (``ard`` or ``isotropic``, and for ``bo-structure`` also
    ``additive``; see :data:`graphvae_nas.surrogates.latent_gp.KERNELS`), ``fit_maxiter`` and
    ``fit_points`` (hyper-parameters fitted on a random subset of at most that many
    observations; null: all)."""

    KERNEL_NAMES: ClassVar[tuple[str, ...]] = ("ard", "isotropic")
    """The ``kernel`` values this strategy takes."""

    fit_maxiter: int = 100
    kernel: str = "ard"
    fit_points: int | None = None

    def validate(self) -> None:
        super().validate()
        self.check_retraining()
        _check(self.fit_maxiter >= 1, "fit_maxiter", "must be >= 1")
        _check(self.kernel in self.KERNEL_NAMES, "kernel",
               f"must be one of {', '.join(self.KERNEL_NAMES)}, got {self.kernel!r}")
        _check(self.fit_points is None or self.fit_points >= 2, "fit_points",
               "must be >= 2 or null")


def _check_neighbourhood(config: Any) -> None:
    _check(config.neighbourhood >= 0, "neighbourhood", "must be >= 0")
    _check(config.neighbourhood_top >= 1, "neighbourhood_top", "must be >= 1")
    _check(config.neighbourhood_scale > 0, "neighbourhood_scale", "must be > 0")
    _check(config.explore >= 0, "explore", "must be >= 0")


@dataclass(frozen=True)
class BOConfig(BOPoolConfig):
    """``bo``: GP on VAE latent means, candidates decoded from the latent space."""

    samples: int = 10
    num_restarts: int = 4
    raw_samples: int = 256
    max_jitter: int = 5
    trust_region: float | None = None
    acq_maxiter: int = 50
    sequential: bool = False
    neighbourhood: int = 1000
    neighbourhood_top: int = 5
    neighbourhood_scale: float = 0.1
    explore: int = 4000

    def validate(self) -> None:
        super().validate()
        for name in ("samples", "num_restarts", "raw_samples", "acq_maxiter"):
            _check(getattr(self, name) >= 1, name, "must be >= 1")
        _check(self.max_jitter >= 0, "max_jitter", "must be >= 0")
        _check(self.trust_region is None or 0 < self.trust_region <= 1, "trust_region",
               "must be in (0, 1] or null")
        _check_neighbourhood(self)


@dataclass(frozen=True)
class GNNConfig(SurrogateConfig):
    """The GNN-ensemble surrogate's settings."""

    members: int = 5
    hidden: int = 32
    layers: int = 2
    epochs: int = 60
    lr: float = 0.02

    def validate(self) -> None:
        super().validate()
        for name in ("members", "hidden", "layers", "epochs"):
            _check(getattr(self, name) >= 1, name, "must be >= 1")
        _check(self.lr > 0, "lr", "must be > 0")


@dataclass(frozen=True)
class BananasConfig(GNNConfig):
    """``bananas``: GNN ensemble, candidates mutated from the best architectures."""

    mutation_top: int = 10
    mutations: int = 200

    def validate(self) -> None:
        super().validate()
        _check(self.mutation_top >= 1, "mutation_top", "must be >= 1")
        _check(self.mutations >= 0, "mutations", "must be >= 0")


@dataclass(frozen=True)
class DecodedCandidatesConfig:
    """Candidates decoded around the latent means of the ``neighbourhood_top`` best
    architectures (``neighbourhood`` points, std ``neighbourhood_scale`` x the box) and
    ``explore`` points uniform in the latent box (no acquisition optimisation)."""

    neighbourhood: int = 1000
    neighbourhood_top: int = 5
    neighbourhood_scale: float = 0.1
    explore: int = 4000

    def check_decoded_candidates(self) -> None:
        _check_neighbourhood(self)
        _check(self.neighbourhood + self.explore > 0, "explore",
               "neighbourhood and explore cannot both be 0")


@dataclass(frozen=True)
class BOGNNConfig(GNNConfig, DecodedCandidatesConfig, RetrainConfig):
    """``bo-gnn``: GNN ensemble, candidates decoded around the best latents and uniformly."""

    def validate(self) -> None:
        super().validate()
        self.check_decoded_candidates()
        self.check_retraining()


@dataclass(frozen=True)
class BOStructureConfig(BOPoolConfig, DecodedCandidatesConfig):
    """``bo-structure``: GP on the architectures' structure encoding (see
    :func:`graphvae_nas.surrogates.structure_encoding`), candidates decoded around the best
    latents and uniformly in the latent box; with ``mutation_top`` > 0 also the neighbours of
    that many best architectures and ``mutations`` random two-step mutations of them. With
    ``equivalence`` (spaces with equivalence classes of structures, bn, under a
    score-equivalent score such as BIC or BDeu): the neighbours are the moves out of each
    parent's Markov equivalence class, and candidates are kept one per class, none of a class
    evaluated already. ``kernel: "additive"`` (spaces with one node per label, bn): the GP sums
    one kernel per node over the arcs into it (a variable's parent set, the scope of one BIC or
    BDeu term), on the structure's arcs also with ``equivalence``."""

    KERNEL_NAMES: ClassVar[tuple[str, ...]] = ("ard", "isotropic", "additive")

    mutation_top: int = 0
    mutations: int = 200
    equivalence: bool = False

    def validate(self) -> None:
        super().validate()
        self.check_decoded_candidates()
        _check(self.mutation_top >= 0, "mutation_top", "must be >= 0 (0: decodes only)")
        _check(self.mutations >= 0, "mutations", "must be >= 0")


def _accepts(value: Any, annotation: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits ``annotation`` (int, float, bool, str, or X | None), and the
    value converted (ints become floats for float fields)."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None:
        return type(None) in args, value
    for kind in args:
        if kind is bool and isinstance(value, bool):
            return True, value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        if kind is str and isinstance(value, str):
            return True, value
    return False, value


def make_config(cls: type, options: dict[str, Any], *, strategy: str = "") -> Any:
    """``cls(**options)`` after checking every option's name, type and value."""
    where = f" of strategy {strategy!r}" if strategy else ""
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key in options:
        if key in REMOVED_OPTIONS:
            raise ConfigError(f"option {key!r}{where} no longer exists: {REMOVED_OPTIONS[key]}")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}{where} "
                          f"(known: {', '.join(known) if known else 'none'})")
    values = {}
    for key, value in options.items():
        ok, converted = _accepts(value, hints[key])
        if not ok:
            raise ConfigError(f"option {key!r}{where}: expected {_type_name(hints[key])}, "
                              f"got {value!r}")
        values[key] = converted
    config = cls(**values)
    config.validate()
    return config


def _type_name(annotation: Any) -> str:
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    return " or ".join("null" if a is type(None) else a.__name__ for a in args)
