"""The search-space protocol, shared helpers and the registry of spaces by name."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.constraints import GenerationConstraints

if TYPE_CHECKING:
    from graphvae_nas.spaces.rules import DecodingRules

INPUT = "input"
OUTPUT = "output"

Seed = int | random.Random | None


def as_rng(seed: Seed) -> random.Random:
    """A ``random.Random`` from a seed, or the generator itself when one is passed."""
    if isinstance(seed, random.Random):
        return seed
    return random.Random(seed)


@runtime_checkable
class SearchSpace(Protocol):
    """What every search space offers. A space is the single authority on validity and on
    the native string format of its architectures.

    Optional capability (not part of the protocol, so ``isinstance`` checks do not need it):
    ``to_module(arch, num_classes, *, in_channels=3, **kwargs) -> torch.nn.Module`` builds a
    trainable PyTorch network of a valid architecture (the built-in spaces have it; see
    :mod:`graphvae_nas.networks`). Search options never live here: the search layer's presets
    (:mod:`graphvae_nas.search.presets`) hold settings tuned for a kind of space."""

    name: str
    ops: tuple[str, ...]
    """Operation vocabulary of the inner nodes."""
    vocabulary: tuple[str, ...]
    """Every node label, ``(input, output, *ops)``: the one-hot order used by models."""
    max_nodes: int
    """Upper bound on nodes per architecture, input and output included."""

    def parse(self, text: str) -> Architecture:
        """Read the space's native string format; raises ArchitectureError."""
        ...

    def format(self, arch: Architecture) -> str:
        """Write the native string format (inverse of :meth:`parse`)."""
        ...

    def validate(self, arch: Architecture) -> None:
        """Raise ArchitectureError naming the reason if ``arch`` is not in this space."""
        ...

    def is_valid(self, arch: Architecture) -> bool: ...

    def sample(self, seed: Seed = None) -> Architecture:
        """One architecture drawn at random (the space's default distribution)."""
        ...

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """All architectures one elementary change away (for local search)."""
        ...

    def mutate(self, arch: Architecture, seed: Seed = None) -> Architecture:
        """One random neighbour (for evolution)."""
        ...

    def spec(self) -> dict[str, Any]:
        """Name and parameters that rebuild this space via :func:`space_from_spec`."""
        ...

    def decoding_rules(self) -> DecodingRules:
        """What a node-by-node decoder may emit at each step, given the partial graphs (see
        :mod:`graphvae_nas.spaces.rules`). :class:`SpaceBase` derives static rules from a
        space's ``generation_constraints()``."""
        ...


@runtime_checkable
class FiniteSearchSpace(SearchSpace, Protocol):
    """A space whose architectures can be listed."""

    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture of the space once (up to isomorphism)."""
        ...

    def size(self) -> int | None:
        """How many architectures :meth:`enumerate` yields, when known without enumerating."""
        ...


class SpaceBase:
    """Shared behaviour of the built-in spaces (validity and mutation built on the space's own
    ``validate`` and ``neighbours``)."""

    name: str
    ops: tuple[str, ...]
    max_nodes: int

    @property
    def vocabulary(self) -> tuple[str, ...]:
        return (INPUT, OUTPUT, *self.ops)

    def validate(self, arch: Architecture) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def neighbours(self, arch: Architecture) -> list[Architecture]:  # pragma: no cover
        raise NotImplementedError

    def generation_constraints(self) -> GenerationConstraints:  # pragma: no cover - overridden
        raise NotImplementedError(f"{type(self).__name__} defines neither decoding_rules() nor "
                                  "generation_constraints()")

    def decoding_rules(self) -> DecodingRules:
        """Static rules from :meth:`generation_constraints` (per-position masks); spaces whose
        rules depend on the partial graph override this."""
        from graphvae_nas.spaces.rules import StaticRules

        return StaticRules(self.generation_constraints())

    def is_valid(self, arch: Architecture) -> bool:
        try:
            self.validate(arch)
        except ArchitectureError:
            return False
        return True

    def mutate(self, arch: Architecture, seed: Seed = None) -> Architecture:
        options = self.neighbours(arch)
        if not options:
            raise ArchitectureError(f"{self.name}: architecture has no neighbours to mutate to")
        return as_rng(seed).choice(options)

    def distance(self, a: Architecture, b: Architecture) -> int:
        """How far apart two architectures are: the labelled edges ``(op of u, op of v)`` in one
        and not the other, counted as multisets (spaces with a natural unit override this)."""
        from collections import Counter

        def labelled(arch: Architecture) -> Counter:
            return Counter((arch.ops[u], arch.ops[v]) for u, v in arch.edges)

        first, second = labelled(a), labelled(b)
        return sum(((first - second) + (second - first)).values())

    def check_terminals(self, arch: Architecture) -> None:
        """Raise unless node 0 is labelled ``input`` and the last node ``output``."""
        if arch.ops[0] != INPUT:
            raise ArchitectureError(f"{self.name}: node 0 must be {INPUT!r}, got {arch.ops[0]!r}")
        if arch.ops[-1] != OUTPUT:
            raise ArchitectureError(
                f"{self.name}: node {arch.num_nodes - 1} must be {OUTPUT!r}, got {arch.ops[-1]!r}")
        for i, op in enumerate(arch.ops[1:-1], start=1):
            if op not in self._op_set():
                raise ArchitectureError(
                    f"{self.name}: node {i}: unknown op {op!r} (allowed: {list(self.ops)})")

    def _op_set(self) -> frozenset[str]:
        cached = getattr(self, "_ops_frozen", None)
        if cached is None:
            cached = self._ops_frozen = frozenset(self.ops)
        return cached

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "name")
        return f"{type(self).__name__}({params})"

    def spec(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpaceBase) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.spec().items())))


def structure_spec(space: SearchSpace) -> dict[str, Any]:
    """``space.spec()`` without the fields that only shape ``sample()`` (a space names them in
    an optional ``sampler_fields`` attribute, e.g. the ``bn`` space's ``arc_prob``)."""
    drop = getattr(space, "sampler_fields", frozenset())
    return {key: value for key, value in space.spec().items() if key not in drop}


def same_architectures(a: SearchSpace, b: SearchSpace) -> bool:
    """Whether two spaces hold the same architectures in the same encoding (equal specs but
    for sampler fields), so that a VAE, dataset or table of one serves the other: a VAE
    trained on sparse random DAGs (``bn:...;arc_prob=0.25``) searches ``bn:...``."""
    return structure_spec(a) == structure_spec(b)


def shape_spec(space: SearchSpace) -> dict[str, Any]:
    """:func:`structure_spec` with each field the space names in ``label_fields`` replaced by its
    length: the ``bn`` space's variable names are labels, so two sets of 8 variables with the
    same ``max_parents`` have one shape. A VAE of one space serves any space of its shape, op
    ``i`` of one standing for op ``i`` of the other (see :func:`same_shape`)."""
    spec = structure_spec(space)
    for name in getattr(space, "label_fields", frozenset()):
        spec[name] = len(spec[name])
    return spec


def same_shape(a: SearchSpace, b: SearchSpace) -> bool:
    """Whether ``a`` and ``b`` differ at most in the names of their labels (see :func:`shape_spec`)."""
    return shape_spec(a) == shape_spec(b)


def match_template(arch: Architecture, template: Architecture) -> list[int] | None:
    """A numbering ``m`` with ``arch`` node ``m[i]`` playing template node ``i`` (structure
    only, labels ignored; input and output fixed), or ``None`` when the shapes differ."""
    if arch.num_nodes != template.num_nodes or arch.num_edges != template.num_edges:
        return None
    if arch.edges == template.edges:
        return list(range(arch.num_nodes))
    from networkx.algorithms.isomorphism import DiGraphMatcher

    last = arch.num_nodes - 1
    g_t = template.to_networkx()
    g_a = arch.to_networkx()
    for v, role in ((0, "in"), (last, "out")):
        g_t.nodes[v]["role"] = role
        g_a.nodes[v]["role"] = role
    matcher = DiGraphMatcher(g_t, g_a, node_match=lambda a, b: a.get("role") == b.get("role"))
    mapping = next(matcher.isomorphisms_iter(), None)
    if mapping is None:
        return None
    return [mapping[i] for i in range(template.num_nodes)]


def sample_distinct(space: SearchSpace, num: int, seed: Seed = None,
                    max_draws: int | None = None) -> list[Architecture]:
    """``num`` architectures of ``space``, pairwise non-isomorphic, drawn with ``space.sample``.

    Raises when the space is known to be smaller than ``num`` or when ``max_draws`` (default
    ``100 * num + 1000``) draws do not give enough distinct ones.
    """
    size = getattr(space, "size", lambda: None)()
    if size is not None and num > size:
        raise ArchitectureError(f"asked for {num} distinct architectures; the space has {size}")
    rng = as_rng(seed)
    limit = max_draws if max_draws is not None else 100 * num + 1000
    archs: list[Architecture] = []
    seen: set[str] = set()
    for _ in range(limit):
        if len(archs) == num:
            return archs
        arch = space.sample(rng)
        if arch.canonical_hash not in seen:
            seen.add(arch.canonical_hash)
            archs.append(arch)
    if len(archs) == num:
        return archs
    raise ArchitectureError(f"found only {len(archs)} distinct architectures in {limit} draws")


# ---------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Callable[..., SearchSpace]] = {}


def register_space(name: str, factory: Callable[..., SearchSpace]) -> None:
    """Make ``get_space(name, **params)`` build spaces with ``factory(**params)``."""
    _REGISTRY[name] = factory


def available_spaces() -> list[str]:
    return sorted(_REGISTRY)


def get_space(name: str, **params: Any) -> SearchSpace:
    """Build a registered space, e.g. ``get_space("nb201")`` or ``get_space("enas", num_layers=12)``.

    ``name`` may also carry parameters, as the CLI writes them:
    ``"enas:num_layers=12"`` or ``"dag:ops=conv,pool;max_nodes=8"``. A value in double quotes
    is taken as it is, commas and semicolons included (``bn:data="my;data, v2.csv"``).
    """
    base, _, text = name.partition(":")
    if base not in _REGISTRY:
        raise ArchitectureError(f"unknown search space {base!r} (known: {available_spaces()})")
    for item in _split_params(text, name):
        key, sep, value = item.partition("=")
        if not sep:
            raise ArchitectureError(f"space parameter {item!r} in {name!r} is not key=value")
        value = value.strip()
        quoted = len(value) >= 2 and value[0] == value[-1] == '"'
        params.setdefault(key.strip(), value[1:-1] if quoted else _parse_param(value))
    factory = _REGISTRY[base]
    known = _parameter_names(factory)
    unknown = sorted(set(params) - known) if known is not None else []
    if unknown:
        raise ArchitectureError(f"unknown parameter(s) {', '.join(unknown)} of space {base!r} "
                                f"(known: {', '.join(sorted(known)) or 'none'})")
    try:
        return factory(**params)
    except TypeError as exc:
        raise ArchitectureError(f"bad parameters for space {base!r}: {exc}") from None


def _parameter_names(factory: Callable[..., Any]) -> set[str] | None:
    """The keyword parameters ``factory`` takes (None when it takes any)."""
    import inspect

    signature = inspect.signature(factory)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return {name for name, p in signature.parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"}


def space_from_spec(spec: dict[str, Any]) -> SearchSpace:
    """Inverse of ``space.spec()``."""
    params = dict(spec)
    name = params.pop("name", None)
    if not isinstance(name, str):
        raise ArchitectureError(f"space spec without a name: {spec!r}")
    return get_space(name, **params)


def _split_params(text: str, name: str) -> list[str]:
    """``key=value`` items separated by ``;`` outside double quotes."""
    items, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise ArchitectureError(f"unclosed double quote in the space {name!r}")
    items.append("".join(current))
    return [item for item in items if item.strip()]


def _parse_param(value: str) -> Any:
    """``a,b`` -> tuple of names; ``none`` -> None; numbers -> int or float; else the text."""
    if "," in value:
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if value.lower() == "none":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value
