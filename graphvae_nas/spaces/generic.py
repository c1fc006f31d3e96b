"""Generic DAG space: a user-given op vocabulary and limits on nodes and edges.

Architectures are any DAG with an ``input`` node, an ``output`` node and inner nodes labelled
from the vocabulary, every node on an input-to-output path. The native format is the
architecture's JSON (``{"ops": [...], "edges": [[s, d], ...]}``). It serves custom search
spaces and other DAG-structured objects (e.g. Bayesian network structures given a common
source and sink).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.base import (
    INPUT,
    OUTPUT,
    Seed,
    SpaceBase,
    as_rng,
    register_space,
)
from graphvae_nas.spaces.constraints import GenerationConstraints

if TYPE_CHECKING:
    from torch import nn


class GenericDagSpace(SpaceBase):
    """DAGs over ``ops`` with at most ``max_nodes`` nodes (input and output included) and at
    most ``max_edges`` edges (unbounded when ``None``)."""

    name = "dag"

    def __init__(self, ops: Sequence[str], max_nodes: int, max_edges: int | None = None,
                 min_nodes: int = 2, edge_prob: float = 0.3) -> None:
        ops_t = (ops,) if isinstance(ops, str) else tuple(ops)
        if not ops_t or len(set(ops_t)) != len(ops_t):
            raise ArchitectureError(f"dag: ops must be a non-empty list of distinct names, got {ops!r}")
        if INPUT in ops_t or OUTPUT in ops_t:
            raise ArchitectureError(f"dag: {INPUT!r} and {OUTPUT!r} are reserved node labels")
        if not 2 <= min_nodes <= max_nodes:
            raise ArchitectureError(f"dag: need 2 <= min_nodes <= max_nodes, got {min_nodes}, {max_nodes}")
        if max_edges is not None and max_edges < 1:
            raise ArchitectureError(f"dag: max_edges must be positive, got {max_edges}")
        if not 0.0 <= edge_prob <= 1.0:
            raise ArchitectureError(f"dag: edge_prob must lie in [0, 1], got {edge_prob}")
        self.ops = ops_t
        self.max_nodes = int(max_nodes)
        self.max_edges = None if max_edges is None else int(max_edges)
        self.min_nodes = int(min_nodes)
        self.edge_prob = float(edge_prob)

    sampler_fields = frozenset({"edge_prob"})
    """Spec fields that only shape :meth:`sample` (see :func:`~graphvae_nas.spaces.same_architectures`)."""

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "ops": list(self.ops), "max_nodes": self.max_nodes,
                "max_edges": self.max_edges, "min_nodes": self.min_nodes,
                "edge_prob": self.edge_prob}

    # ------------------------------------------------------------------ formats
    def parse(self, text: str) -> Architecture:
        arch = Architecture.from_json(text)
        self.validate(arch)
        return arch

    def format(self, arch: Architecture) -> str:
        self.validate(arch)
        return arch.to_json()

    # ------------------------------------------------------------------ validity
    def validate(self, arch: Architecture) -> None:
        if arch.num_nodes < self.min_nodes:
            raise ArchitectureError(
                f"{self.name}: too few nodes: {arch.num_nodes} < min_nodes={self.min_nodes}")
        try:
            arch.check(max_nodes=self.max_nodes, max_edges=self.max_edges)
        except ArchitectureError as exc:
            raise ArchitectureError(f"{self.name}: {exc}") from None
        self.check_terminals(arch)

    def to_module(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                  channels: int = 16, num_cells: int = 3) -> nn.Module:
        """A network of ``num_cells`` stacked copies of ``arch`` (see
        :mod:`graphvae_nas.networks.generic`); every op needs a factory registered with
        :func:`graphvae_nas.networks.register_op`."""
        from graphvae_nas.networks.generic import GenericNetwork

        self.validate(arch)
        return GenericNetwork(arch, num_classes, in_channels=in_channels, channels=channels,
                              num_cells=num_cells)

    def missing_network_ops(self) -> list[str]:
        """The ops of this space without a network module (none registered with
        :func:`graphvae_nas.networks.register_op`); ``to_module`` fails for any architecture
        that uses one of them."""
        from graphvae_nas.networks.generic import registered_ops

        return sorted(set(self.ops) - set(registered_ops()))

    def generation_constraints(self) -> GenerationConstraints:
        """Any node count from ``min_nodes`` to ``max_nodes``; all edges free (edge limits are
        checked on the decoded result)."""
        return GenerationConstraints.variable(self.vocabulary, self.ops, self.max_nodes,
                                              self.min_nodes)

    # ------------------------------------------------------------------ sampling
    def sample(self, seed: Seed = None) -> Architecture:
        """A random DAG: node count uniform, each node fed by one random earlier node plus
        further edges with probability ``edge_prob``, dead ends joined to a later node."""
        rng = as_rng(seed)
        for _ in range(1000):
            n = rng.randint(self.min_nodes, self.max_nodes)
            ops = [INPUT] + [rng.choice(self.ops) for _ in range(n - 2)] + [OUTPUT]
            edges = set()
            for d in range(1, n):
                edges.add((rng.randrange(d), d))
                edges.update((s, d) for s in range(d) if rng.random() < self.edge_prob)
            has_succ = {s for s, _ in edges}
            for s in range(n - 1):
                if s not in has_succ:
                    edges.add((s, rng.randrange(s + 1, n)))
            arch = Architecture(ops, edges)
            if self.max_edges is None or arch.num_edges <= self.max_edges:
                return arch
        raise ArchitectureError(
            f"{self.name}: could not sample a DAG within max_edges={self.max_edges} in 1000 tries; "
            "lower edge_prob or raise max_edges")

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every valid DAG one elementary change away: an inner op changed, an edge added or
        removed, a node inserted (fed by one node, feeding a later one) or an inner node removed.
        Results are distinct up to isomorphism and never isomorphic to ``arch``."""
        n = arch.num_nodes
        ops = list(arch.ops)
        candidates: list[Architecture | None] = []
        for i in range(1, n - 1):
            for op in self.ops:
                if op != ops[i]:
                    candidates.append(Architecture._trusted(
                        tuple(ops[:i] + [op] + ops[i + 1:]), arch.edges))
        edge_set = set(arch.edges)
        for pair in itertools.combinations(range(n), 2):
            candidates.append(_try_architecture(arch.ops, edge_set ^ {pair}))
        if n < self.max_nodes:  # new node placed just before node d, fed by s < d
            for s, d in itertools.combinations(range(n), 2):
                shifted = [(a + (a >= d), b + (b >= d)) for a, b in arch.edges]
                for op in self.ops:
                    candidates.append(_try_architecture(
                        ops[:d] + [op] + ops[d:], shifted + [(s, d), (d, d + 1)]))
        for v in range(1, n - 1):
            kept = [(a - (a > v), b - (b > v)) for a, b in arch.edges if v not in (a, b)]
            candidates.append(_try_architecture(ops[:v] + ops[v + 1:], kept))
        seen = {arch.canonical_hash}
        result = []
        for cand in candidates:
            if cand is not None and cand.canonical_hash not in seen and self.is_valid(cand):
                seen.add(cand.canonical_hash)
                result.append(cand)
        return result

    def enumerate(self) -> Iterator[Architecture]:
        """Every DAG of the space once up to isomorphism, smallest first.

        The count grows very fast with ``max_nodes``: keep this for small spaces.
        """
        seen: set[str] = set()
        for n in range(self.min_nodes, self.max_nodes + 1):
            pairs = list(itertools.combinations(range(n), 2))
            limit = len(pairs) if self.max_edges is None else min(self.max_edges, len(pairs))
            for k in range(n - 1, limit + 1):
                for edges in itertools.combinations(pairs, k):
                    shape = _try_architecture((INPUT,) * (n - 1) + (OUTPUT,), edges)
                    if shape is None:
                        continue
                    for inner in itertools.product(self.ops, repeat=n - 2):
                        arch = Architecture._trusted((INPUT, *inner, OUTPUT), shape.edges)
                        h = arch.canonical_hash
                        if h not in seen:
                            seen.add(h)
                            yield arch

    def size(self) -> int | None:
        return None


def _try_architecture(ops: Sequence[str], edges: Any) -> Architecture | None:
    try:
        return Architecture(ops, edges)
    except ArchitectureError:
        return None


register_space("dag", GenericDagSpace)
