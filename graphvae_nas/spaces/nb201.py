"""NAS-Bench-201 (NATS-Bench topology) cell space.

A cell has 4 feature nodes and an op on each of its 6 edges ``i -> j`` (``i < j``). The
official string lists, for each target node ``j = 1, 2, 3``, the ops of the edges into it:
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. As a node-labelled DAG (one node per edge op, as
arch2vec encodes it) a cell has 8 nodes: input, the 6 edge ops in string order
(0->1, 0->2, 1->2, 0->3, 1->3, 2->3), output; an op node feeds every op node on an edge
leaving its target, and the ops on edges into cell node 3 feed the output.
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
    match_template,
    register_space,
)
from graphvae_nas.spaces.constraints import GenerationConstraints

if TYPE_CHECKING:
    from torch import nn

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""Cell edges in the order of the official string."""
NASLIB_EDGE_ORDER = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's op indices 0..4 (see ../shared/data/README.md)."""


def _dag_edges() -> tuple[tuple[int, int], ...]:
    node_of = {edge: k + 1 for k, edge in enumerate(CELL_EDGES)}
    output = len(CELL_EDGES) + 1
    edges = []
    for (i, j), node in node_of.items():
        if i == 0:
            edges.append((0, node))
        if j == 3:
            edges.append((node, output))
        for (k, _), later in node_of.items():
            if k == j:
                edges.append((node, later))
    return tuple(sorted(edges))


DAG_EDGES = _dag_edges()
_NASLIB_TO_STRING_POS = tuple(CELL_EDGES.index(e) for e in NASLIB_EDGE_ORDER)


class NasBench201Space(SpaceBase):
    """The 15,625 cells of NAS-Bench-201 as 8-node DAGs."""

    name = "nb201"
    ops = NB201_OPS
    max_nodes = 8

    def __init__(self) -> None:
        self._template = Architecture._trusted(
            (INPUT, *(["none"] * 6), OUTPUT), DAG_EDGES)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    # ------------------------------------------------------------------ formats
    def from_edge_ops(self, edge_ops: Sequence[str]) -> Architecture:
        """The cell whose edges, in official string order, carry ``edge_ops``."""
        if len(edge_ops) != 6:
            raise ArchitectureError(f"nb201: expected 6 edge ops, got {len(edge_ops)}")
        for k, op in enumerate(edge_ops):
            if op not in self._op_set():
                i, j = CELL_EDGES[k]
                raise ArchitectureError(
                    f"nb201: unknown op {op!r} on edge {i}->{j} (allowed: {list(NB201_OPS)})")
        return Architecture._trusted((INPUT, *edge_ops, OUTPUT), DAG_EDGES)

    def edge_ops(self, arch: Architecture) -> tuple[str, ...]:
        """The 6 edge ops in official string order (accepts any node numbering)."""
        self.validate(arch)
        if arch.edges == DAG_EDGES:
            return arch.ops[1:-1]
        mapping = match_template(arch, self._template)
        assert mapping is not None  # validate() checked the shape
        return tuple(arch.ops[mapping[k]] for k in range(1, 7))

    def distance(self, a: Architecture, b: Architecture) -> int:
        """The number of the 6 cell edges whose ops differ."""
        return sum(x != y for x, y in zip(self.edge_ops(a), self.edge_ops(b)))

    def parse(self, text: str) -> Architecture:
        """Read ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        groups = text.strip().split("+")
        if len(groups) != 3:
            raise ArchitectureError(
                f"nb201: expected 3 groups separated by '+', got {len(groups)} in {text!r}")
        edge_ops: list[str] = []
        for target, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise ArchitectureError(f"nb201: group {group!r} must be enclosed in '|' in {text!r}")
            tokens = group[1:-1].split("|")
            if len(tokens) != target:
                raise ArchitectureError(
                    f"nb201: node {target} needs {target} incoming ops, got {len(tokens)} in {text!r}")
            for source, token in enumerate(tokens):
                op, sep, src = token.partition("~")
                if not sep or src != str(source):
                    raise ArchitectureError(
                        f"nb201: token {token!r} should be 'op~{source}' (edge {source}->{target}) "
                        f"in {text!r}")
                edge_ops.append(op)
        return self.from_edge_ops(edge_ops)

    def format(self, arch: Architecture) -> str:
        ops = self.edge_ops(arch)
        return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)

    def parse_naslib(self, value: str | Sequence[int]) -> Architecture:
        """Read a NASLib op-index tuple such as ``(4, 0, 3, 1, 4, 3)`` or its text."""
        if isinstance(value, str):
            body = value.strip()
            if not (body.startswith("(") and body.endswith(")")):
                raise ArchitectureError(f"nb201: NASLib tuple must look like '(a, b, ...)': {value!r}")
            try:
                indices = [int(v) for v in body[1:-1].split(",")]
            except ValueError:
                raise ArchitectureError(f"nb201: NASLib tuple holds a non-integer: {value!r}") from None
        else:
            indices = [int(v) for v in value]
        if len(indices) != 6:
            raise ArchitectureError(f"nb201: NASLib tuple needs 6 op indices, got {len(indices)}: {value!r}")
        string_order = [""] * 6
        for pos, k in zip(_NASLIB_TO_STRING_POS, indices):
            if not 0 <= k < len(NASLIB_OPS):
                raise ArchitectureError(f"nb201: NASLib op index {k} outside 0..4 in {value!r}")
            string_order[pos] = NASLIB_OPS[k]
        return self.from_edge_ops(string_order)

    def to_naslib(self, arch: Architecture) -> tuple[int, ...]:
        ops = self.edge_ops(arch)
        return tuple(NASLIB_OPS.index(ops[pos]) for pos in _NASLIB_TO_STRING_POS)

    # ------------------------------------------------------------------ validity
    def validate(self, arch: Architecture) -> None:
        if arch.num_nodes != 8:
            raise ArchitectureError(f"nb201: a cell has 8 nodes, got {arch.num_nodes}")
        self.check_terminals(arch)
        if arch.edges != DAG_EDGES and match_template(arch, self._template) is None:
            raise ArchitectureError("nb201: edges do not form the NAS-Bench-201 cell")

    # ------------------------------------------------------------------ sampling
    def sample(self, seed: Seed = None) -> Architecture:
        rng = as_rng(seed)
        return self.from_edge_ops([rng.choice(NB201_OPS) for _ in range(6)])

    def enumerate(self) -> Iterator[Architecture]:
        """All 15,625 cells, first edge varying slowest."""
        for edge_ops in itertools.product(NB201_OPS, repeat=6):
            yield Architecture._trusted((INPUT, *edge_ops, OUTPUT), DAG_EDGES)

    def size(self) -> int:
        return len(NB201_OPS) ** 6

    def generation_constraints(self) -> GenerationConstraints:
        """Fixed shape: 8 nodes, edges of the cell DAG forced, only the 6 op types free."""
        return GenerationConstraints.fixed(
            self.vocabulary, [[INPUT]] + [list(NB201_OPS)] * 6 + [[OUTPUT]],
            forced_edges=list(DAG_EDGES))

    def to_module(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                  C: int = 16, N: int = 5) -> nn.Module:
        """The NAS-Bench-201 network of ``arch``: ``C`` stem channels, ``N`` cells per stage
        (the benchmark's C=16, N=5 reproduce its parameter counts)."""
        from graphvae_nas.networks.nb201 import NB201Network

        return NB201Network(self.edge_ops(arch), num_classes, in_channels=in_channels, C=C, N=N)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """The 24 cells differing in exactly one edge op."""
        ops = list(self.edge_ops(arch))
        result = []
        for k, current in enumerate(ops):
            for op in NB201_OPS:
                if op != current:
                    result.append(self.from_edge_ops(ops[:k] + [op] + ops[k + 1:]))
        return result


register_space("nb201", NasBench201Space)
