"""The options of the named strategies: grouped, typed, documented and validated in one place.

Each strategy has one frozen dataclass config; related options sit in nested groups
(``acquisition``, ``gp``, ``gnn``, ``decode``, ``optimise``, ``mutate``, ``retrain``). Every
field is declared with :func:`option` (or :func:`group`), which carries its one-line meaning,
its check and, where a measurement justifies it, that measurement; :func:`make_config` is the
only validator, and ``docs/strategies.md`` and ``graphvae-nas search --list-options`` are
generated from these declarations (:mod:`graphvae_nas.search.options_reference`).

    make_config(BOConfig, {"gp": {"kernel": "isotropic"}, "acquisition": {"name": "ucb"}})

returns the config or raises :class:`ConfigError` naming the option (``gp.kernel``) and the
reason; an unknown name lists the valid ones.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.acquisition import DEFAULT_ACQUISITION, all_acquisition_names


class ConfigError(GraphVAENASError):
    """An unknown or invalid strategy option."""


@dataclass(frozen=True)
class Check:
    """A condition on one value, and how an error describes it (``must be ...``)."""

    test: Callable[[Any], bool]
    text: str


def at_least(low: float) -> Check:
    return Check(lambda v: v >= low, f">= {low:g}")


def above(low: float) -> Check:
    return Check(lambda v: v > low, f"> {low:g}")


def one_of(names: Callable[[], tuple[str, ...]] | tuple[str, ...]) -> Check:
    choices = names if callable(names) else (lambda: names)
    return Check(lambda v: v in choices(), "one of " + "|".join(choices()))


def option(default: Any, help: str, *, check: Check | None = None, measured: str = "",
           experimental: bool = False) -> Any:
    """A config field: its default, one line on what it does, the check its value must pass
    (``None`` always passes), the measurement that justifies it, and whether it is
    experimental (kept, but with no measured effect; the docs mark it so)."""
    return field(default=default, metadata={"help": help, "check": check, "measured": measured,
                                            "experimental": experimental})


def group(cls: type, help: str, **changes: Any) -> Any:
    """A nested group of options (``cls``, with ``changes`` to its defaults)."""
    return field(default_factory=lambda: cls(**changes),
                 metadata={"help": help, "group": True, "changes": changes})


# --- the groups ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AcquisitionConfig:
    name: str = option(DEFAULT_ACQUISITION, "acquisition function; the default means qLogNEHVI "
                       "with several objectives", check=one_of(all_acquisition_names),
                       measured="qlogei: BIC is exact, the noisy variant buys nothing and costs "
                       "time (Asia BIC, docs/results/asia-bic.md)")
    ucb_beta: float = option(2.0, "exploration weight of ucb", check=above(0))
    mc_samples: int = option(128, "quasi-Monte-Carlo samples of the batch acquisitions",
                             check=at_least(1), experimental=True)
    shortlist: int = option(500, "candidates kept by the analytic acquisition for the greedy "
                            "batch selection (at most 100 with several objectives)",
                            check=at_least(1),
                            measured="30, with the isotropic kernel, fit_points 200 and qlogei: "
                            "bo's Asia overhead 0.18 s/proposal instead of 0.88 at equal BIC "
                            "(docs/results/asia-bic.md)")


@dataclass(frozen=True)
class GPConfig:
    kernel: str = option("ard", "ard (a lengthscale per input), isotropic (one), or additive "
                         "(bo-structure on bn: one kernel per node over the arcs into it)",
                         check=one_of(("ard", "isotropic", "additive")),
                         measured="isotropic ranks Asia's structures about as well as ard, "
                         "cheaper (docs/results/asia-bic.md)")
    fit_points: int | None = option(None, "fit the hyper-parameters on a random subset of at "
                                    "most this many observations (null: all)",
                                    check=at_least(2),
                                    measured="200: the GP's fit stops growing with the "
                                    "history (Asia round times, docs/results/asia-bic.md)")
    fit_maxiter: int = option(100, "L-BFGS iterations of the hyper-parameter fit",
                              check=at_least(1), experimental=True)


@dataclass(frozen=True)
class GNNConfig:
    members: int = option(5, "networks in the ensemble (its mean and spread are the posterior)",
                          check=at_least(1))
    hidden: int = option(32, "width of each GIN layer", check=at_least(1))
    layers: int = option(2, "GIN layers", check=at_least(1))
    epochs: int = option(60, "training epochs of each member every round", check=at_least(1))
    lr: float = option(0.02, "Adam learning rate", check=above(0))


@dataclass(frozen=True)
class DecodeConfig:
    neighbourhood: int = option(1000, "latent points decoded around the best architectures' "
                                "latent means", check=at_least(0))
    top: int = option(5, "how many of the best architectures the neighbourhood surrounds",
                      check=at_least(1))
    scale: float = option(0.1, "std of the neighbourhood points, as a share of the latent box",
                          check=above(0), measured="0.02 on bn, where decodes stay close "
                          "(docs/results/asia-bic.md)")
    explore: int = option(4000, "latent points decoded uniformly in the latent box",
                          check=at_least(0))


@dataclass(frozen=True)
class OptimiseConfig:
    restarts: int = option(4, "L-BFGS restarts of optimize_acqf over the latent box",
                           check=at_least(1))
    raw_samples: int = option(256, "raw samples that seed those restarts", check=at_least(1))
    maxiter: int = option(50, "L-BFGS iterations of each restart", check=at_least(1))
    jitters: int = option(5, "jittered copies of each optimum (5 % of the box)",
                          check=at_least(0), measured="cheaper optimise settings (restarts 2, "
                          "raw_samples 64, maxiter 15, jitters 3, decodes 3) left bo on Asia "
                          "level with random search (docs/results/asia-bic.md)")
    decodes: int = option(10, "stochastic decodes of each optimised or jittered point",
                          check=at_least(1))


@dataclass(frozen=True)
class MutateConfig:
    top: int = option(10, "mutate the neighbours of this many best architectures (0: none)",
                      check=at_least(0))
    count: int = option(200, "random two-step mutations of them", check=at_least(0))


@dataclass(frozen=True)
class RetrainConfig:
    """Weighted retraining (Tripp et al., NeurIPS 2020;
    :class:`~graphvae_nas.search.strategies.retraining.WeightedRetraining`)."""

    every: int = option(0, "fine-tune a copy of the VAE after every N evaluations (0: never)",
                        check=at_least(0), measured="every 50 on Asia: the best decode-mode "
                        "bo row (docs/results/asia-bic.md)")
    k: float = option(1e-3, "rank weights 1 / (k N + rank) of the training draws",
                      check=above(0))
    samples: int = option(1000, "evaluated architectures drawn (with replacement) per "
                          "fine-tuning", check=at_least(1))
    epochs: int = option(1, "epochs of each fine-tuning", check=at_least(1))
    lr: float = option(1e-3, "learning rate of each fine-tuning", check=above(0))


@dataclass(frozen=True)
class TrustRegionConfig:
    """TuRBO's adaptive trust region (Eriksson et al., NeurIPS 2019) in the latent space:
    a box around the incumbent's latent that doubles after ``success_tolerance`` improving
    rounds in a row, halves after ``failure_tolerance`` rounds without one, and starts again
    at ``length`` when it falls below ``min_length``."""

    length: float = option(0.8, "initial side of the region, as a share of the latent box's "
                           "sides (weighted by the GP's lengthscales)", check=above(0))
    min_length: float = option(0.5 ** 7, "the region restarts at length when its side falls "
                               "below this", check=above(0))
    max_length: float = option(1.6, "the side grows up to this share of the box",
                               check=above(0))
    success_tolerance: int = option(3, "improving rounds in a row before the side doubles",
                                    check=at_least(1))
    failure_tolerance: int | None = option(None, "rounds without improvement in a row before "
                                           "the side halves (null: ceil(max(4, latent size) / "
                                           "batch), TuRBO's rule)", check=at_least(1))
    points: int = option(2000, "latent points drawn in the region (TuRBO's perturbations of "
                         "the centre) and decoded once each, every round", check=at_least(1))

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield ("min_length", self.min_length < self.length, "must be < length")
        yield ("max_length", self.max_length >= self.length, "must be >= length")


@dataclass(frozen=True)
class JointConfig:
    """Fine-tuning the VAE together with a GP on the evaluated architectures (LOL-BO, Maus et
    al., NeurIPS 2022): the VAE's loss plus ``weight`` x the GP's negative marginal
    log-likelihood of the objective at the encoder's means, so that the latent space follows
    the objective where the search is."""

    every: int = option(20, "fine-tune after every N evaluations (0: never; the pretrained "
                        "latent space throughout)", check=at_least(0))
    epochs: int = option(20, "epochs over the evaluated architectures per fine-tuning",
                         check=at_least(1), measured="20 at weight 10: median 58.5 queries "
                         "to the NB201 optimum on seeds 0-9, against 69.5 for 2 at weight 1 and "
                         "79.5 without fine-tuning (docs/results/nb201-search.md)")
    lr: float = option(1e-3, "Adam learning rate of the fine-tuning", check=above(0))
    weight: float = option(10.0, "weight of the GP's loss beside the VAE's loss per graph",
                           check=at_least(0), measured="on a small synthetic table weight 1 "
                           "did not raise the GP's marginal likelihood on the encoder's means, "
                           "10 did (tests/test_lolbo.py checks 10)")
    batch_size: int = option(32, "architectures per step", check=at_least(2))
    points: int = option(500, "train on at most this many of the best evaluations",
                         check=at_least(2))


# --- the strategies --------------------------------------------------------------------------

@dataclass(frozen=True)
class EmptyConfig:
    """``random``: no options."""


@dataclass(frozen=True)
class LocalConfig:
    between_classes: bool = option(False, "bn: climb over Markov equivalence classes instead "
                                   "of single arcs", measured="8/30 Asia runs at the optimum, "
                                   "against 0/30 over arcs (docs/results/asia-bic.md)")


@dataclass(frozen=True)
class EvolutionConfig:
    population_size: int = option(20, "the most recent evaluations that form the population",
                                  check=at_least(1))
    sample_size: int = option(5, "tournament: a parent is the best of this many members",
                              check=at_least(1))

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield ("sample_size", self.sample_size <= self.population_size,
               "must be <= population_size")


@dataclass(frozen=True)
class NSGA2Config:
    population_size: int = option(20, "survivors kept by non-dominated sorting and crowding",
                                  check=at_least(2))
    tournament: int = option(2, "members compared to pick each parent", check=at_least(1))

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield ("tournament", self.tournament <= self.population_size,
               "must be <= population_size")


@dataclass(frozen=True)
class SurrogateConfig:
    """What every surrogate strategy has: a random start, the target transform and the
    acquisition."""

    n_init: int = option(10, "random architectures before the surrogate takes over",
                         check=at_least(1))
    copula: bool = option(True, "fit the surrogate to normal scores of the ranks, not raw "
                          "values", experimental=True)
    acquisition: AcquisitionConfig = group(AcquisitionConfig, "the acquisition function")


@dataclass(frozen=True)
class BOPoolConfig(SurrogateConfig):
    """``bo-pool``: a GP on the VAE's latent means, candidates from a finite pool."""

    gp: GPConfig = group(GPConfig, "the Gaussian process")
    retrain: RetrainConfig = group(RetrainConfig, "weighted retraining of the VAE")

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield ("gp.kernel", self.gp.kernel != "additive",
               "additive is for bo-structure (a kernel per node of a bn's arcs)")


@dataclass(frozen=True)
class BOConfig(BOPoolConfig):
    """``bo``: a GP on the VAE's latent means, candidates decoded from the latent space."""

    optimise: OptimiseConfig = group(OptimiseConfig, "optimising the acquisition over the "
                                     "latent box (single objective)")
    decode: DecodeConfig = group(DecodeConfig, "decodes around the best and uniform in the box")


def _decodes_given(decode: DecodeConfig) -> tuple[str, bool, str]:
    return ("decode.explore", decode.neighbourhood + decode.explore > 0,
            "decode.neighbourhood and decode.explore cannot both be 0")


@dataclass(frozen=True)
class BOGNNConfig(SurrogateConfig):
    """``bo-gnn``: a GNN ensemble scores decodes around the best latents and uniform."""

    gnn: GNNConfig = group(GNNConfig, "the GNN ensemble")
    decode: DecodeConfig = group(DecodeConfig, "decodes around the best and uniform in the box")
    retrain: RetrainConfig = group(RetrainConfig, "weighted retraining of the VAE")

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield _decodes_given(self.decode)


@dataclass(frozen=True)
class BOStructureConfig(BOPoolConfig):
    """``bo-structure``: a GP on the structure scores decodes (and optionally mutations)."""

    decode: DecodeConfig = group(DecodeConfig, "decodes around the best and uniform in the box")
    mutate: MutateConfig = group(MutateConfig, "mutations of the best as candidates too", top=0)
    equivalence: bool = option(False, "bn: work over Markov equivalence classes (one candidate "
                               "per class, moves between classes)",
                               measured="11/30 Asia runs at the optimum with mutate.top 10 "
                               "(docs/results/asia-bic.md)")

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield _decodes_given(self.decode)


@dataclass(frozen=True)
class BananasConfig(SurrogateConfig):
    """``bananas``: a GNN ensemble scores mutations of the best architectures."""

    gnn: GNNConfig = group(GNNConfig, "the GNN ensemble")
    mutate: MutateConfig = group(MutateConfig, "mutations of the best as candidates")


@dataclass(frozen=True)
class LOLBOConfig(SurrogateConfig):
    """``lolbo``: latent BO in a trust region, the encoder fine-tuned with the GP."""

    gp: GPConfig = group(GPConfig, "the Gaussian process on the (fine-tuned) encoder's means")
    region: TrustRegionConfig = group(TrustRegionConfig, "the trust region")
    optimise: OptimiseConfig = group(OptimiseConfig, "optimising the acquisition inside the "
                                     "region (single objective)")
    joint: JointConfig = group(JointConfig, "fine-tuning the VAE jointly with the GP")

    def cross_checks(self) -> Iterator[tuple[str, bool, str]]:
        yield ("gp.kernel", self.gp.kernel != "additive",
               "additive is for bo-structure (a kernel per node of a bn's arcs)")


# --- building and checking -------------------------------------------------------------------

REMOVED_OPTIONS = {
    "rerank": "decode mode always chooses among the decoded candidates by the acquisition",
    "restart_after": "restarts were measured not to help on the Asia BIC (docs/results/asia-bic.md)",
    "restart_kick": "restarts were measured not to help on the Asia BIC (docs/results/asia-bic.md)",
    "trust_region": "a fixed box with no measured effect; adaptive trust regions are strategy "
                    "lolbo's (region.*)",
    "sequential": "sequential acquisition optimisation had no measured effect",
}
"""Options that existed once, and why they went."""

LEGACY_NAMES = {
    "acquisition": "acquisition.name", "ucb_beta": "acquisition.ucb_beta",
    "mc_samples": "acquisition.mc_samples", "pool_shortlist": "acquisition.shortlist",
    "kernel": "gp.kernel", "fit_points": "gp.fit_points", "fit_maxiter": "gp.fit_maxiter",
    "members": "gnn.members", "hidden": "gnn.hidden", "layers": "gnn.layers",
    "epochs": "gnn.epochs", "lr": "gnn.lr",
    "neighbourhood": "decode.neighbourhood", "neighbourhood_top": "decode.top",
    "neighbourhood_scale": "decode.scale", "explore": "decode.explore",
    "num_restarts": "optimise.restarts", "raw_samples": "optimise.raw_samples",
    "acq_maxiter": "optimise.maxiter", "max_jitter": "optimise.jitters",
    "samples": "optimise.decodes",
    "mutation_top": "mutate.top", "mutations": "mutate.count",
    "retrain_every": "retrain.every", "retrain_k": "retrain.k",
    "retrain_samples": "retrain.samples", "retrain_epochs": "retrain.epochs",
    "retrain_lr": "retrain.lr",
}
"""The flat option names of graphvae_nas 0.1 (``--bo-options``, old study headers and run
files) and where each lives now."""

_REMOVED_DEFAULTS = {"restart_after": None, "restart_kick": 0, "trust_region": None,
                     "sequential": False}


def nest(path: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for the dotted ``path`` ``a.b``."""
    head, _, rest = path.partition(".")
    return {head: nest(rest, value) if rest else value}


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, group by group."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def from_legacy(options: Mapping[str, Any], *, drop_removed_defaults: bool = False) -> dict[str, Any]:
    """Flat 0.1 options in today's groups (``{"kernel": "ard"}`` -> ``{"gp": {"kernel":
    "ard"}}``); names that are not legacy pass unchanged. With ``drop_removed_defaults``
    removed options at the value that reproduces today's behaviour are dropped (old study
    headers record every option)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if drop_removed_defaults and key in _REMOVED_DEFAULTS and value == _REMOVED_DEFAULTS[key]:
            continue
        if key in LEGACY_NAMES and not isinstance(value, Mapping):
            out = merge(out, nest(LEGACY_NAMES[key], value))
        else:
            out = merge(out, {key: value})
    return out


def _union_args(annotation: Any) -> tuple[Any, ...]:
    """The types of ``X | Y`` (just ``X`` for a plain type)."""
    return typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)


def _accepts(value: Any, annotation: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits ``annotation`` (int, float, bool, str, or X | None), and the
    value converted (ints become floats for float fields)."""
    args = _union_args(annotation)
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


def type_name(annotation: Any) -> str:
    return " or ".join("null" if a is type(None) else a.__name__ for a in _union_args(annotation))


def _build(cls: type, options: Any, prefix: str, where: str) -> Any:
    if not isinstance(options, Mapping):
        raise ConfigError(f"option {prefix.rstrip('.')!r}{where}: expected a JSON object of "
                          f"options, got {options!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in options:
        if key in REMOVED_OPTIONS:
            raise ConfigError(f"option {prefix + key!r}{where} no longer exists: "
                              f"{REMOVED_OPTIONS[key]}")
    unknown = sorted(set(options) - set(fields))
    if unknown:
        hint = [f" ({k!r} is now {LEGACY_NAMES[k]!r})" for k in unknown if k in LEGACY_NAMES]
        known = ", ".join(prefix + name for name in fields) or "none"
        raise ConfigError(f"unknown option(s) {', '.join(prefix + k for k in unknown)}{where}"
                          f"{''.join(hint)} (known: {known})")
    values = {}
    for name, value in options.items():
        spec = fields[name]
        if spec.metadata.get("group"):
            default = dict(spec.metadata["changes"])
            values[name] = _build(hints[name], merge(default, value) if isinstance(value, Mapping)
                                  else value, f"{prefix}{name}.", where)
            continue
        ok, converted = _accepts(value, hints[name])
        if not ok:
            raise ConfigError(f"option {prefix + name!r}{where}: expected "
                              f"{type_name(hints[name])}, got {value!r}")
        check = spec.metadata.get("check")
        if check is not None and converted is not None and not check.test(converted):
            raise ConfigError(f"option {prefix + name!r}{where}: must be {check.text}, "
                              f"got {converted!r}")
        values[name] = converted
    config = cls(**values)
    for name, ok, message in getattr(config, "cross_checks", lambda: ())():
        if not ok:
            raise ConfigError(f"option {prefix + name!r}{where}: {message}")
    return config


def make_config(cls: type, options: Mapping[str, Any], *, strategy: str = "") -> Any:
    """``cls`` built from the nested ``options``, every name, type and value checked (the one
    place options are validated)."""
    return _build(cls, options, "", f" of strategy {strategy!r}" if strategy else "")


def as_options(config: Any) -> dict[str, Any]:
    """A config as nested options (what :func:`make_config` takes back)."""
    return dataclasses.asdict(config)


def walk(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any, Any]]:
    """Every option of ``cls``: (dotted name, field, type, default), groups flattened."""
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for spec in dataclasses.fields(cls):
        if spec.metadata.get("group"):
            inner = getattr(defaults, spec.name)
            for name, sub, kind, default in walk(hints[spec.name], f"{prefix}{spec.name}."):
                yield name, sub, kind, getattr(inner, name.rsplit(".", 1)[1])
        else:
            yield prefix + spec.name, spec, hints[spec.name], getattr(defaults, spec.name)
