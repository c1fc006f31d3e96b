"""What a node-by-node generator may emit in a space: the seam between spaces and decoders.

A decoder that builds an architecture one node at a time (type, then edges from earlier nodes)
asks the space for these constraints, so that what it decodes is valid by construction where
the space allows; every decode is still checked by the space afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORBIDDEN, FORCED, FREE = 0, 1, -1


@dataclass(frozen=True)
class GenerationConstraints:
    """Per-position rules for generating architectures over ``vocabulary``.

    * ``node_types[p, t]``: type ``t`` may be placed at position ``p``. Placing the output
      type ends the architecture, so spaces with a variable node count allow it at several
      positions.
    * ``edges[s, d]`` (``s < d``): :data:`FORCED`, :data:`FORBIDDEN` or :data:`FREE`.
    * ``connect_loose_ends``: when the output is placed, every node without a successor is
      joined to it (as D-VAE does), so no node dead-ends.
    * ``require_predecessor``: a non-input node that chose no incoming edge gets its most
      likely one, so every node is reachable from the input.
    """

    vocabulary: tuple[str, ...]
    node_types: np.ndarray
    edges: np.ndarray
    connect_loose_ends: bool = True
    require_predecessor: bool = True

    @property
    def max_nodes(self) -> int:
        return int(self.node_types.shape[0])

    @property
    def output_index(self) -> int:
        return self.vocabulary.index("output")

    @classmethod
    def fixed(cls, vocabulary: tuple[str, ...], types_per_position: list[list[str]],
              forced_edges: list[tuple[int, int]] | None = None,
              free_edges: list[tuple[int, int]] | None = None) -> GenerationConstraints:
        """A fixed node count: allowed type names per position, forced and free edges (all
        other edges forbidden)."""
        n = len(types_per_position)
        types = np.zeros((n, len(vocabulary)), dtype=bool)
        for p, names in enumerate(types_per_position):
            for name in names:
                types[p, vocabulary.index(name)] = True
        edges = np.full((n, n), FORBIDDEN, dtype=np.int8)
        for s, d in forced_edges or []:
            edges[s, d] = FORCED
        for s, d in free_edges or []:
            edges[s, d] = FREE
        return cls(vocabulary, types, edges)

    @classmethod
    def variable(cls, vocabulary: tuple[str, ...], ops: tuple[str, ...], max_nodes: int,
                 min_nodes: int = 2) -> GenerationConstraints:
        """Any DAG of ``min_nodes..max_nodes`` nodes over ``ops``; all edges free."""
        types = np.zeros((max_nodes, len(vocabulary)), dtype=bool)
        types[0, vocabulary.index("input")] = True
        op_idx = [vocabulary.index(op) for op in ops]
        out = vocabulary.index("output")
        for p in range(1, max_nodes):
            if p < max_nodes - 1:
                types[p, op_idx] = True
            if p >= min_nodes - 1:
                types[p, out] = True
        edges = np.full((max_nodes, max_nodes), FORBIDDEN, dtype=np.int8)
        edges[np.triu_indices(max_nodes, 1)] = FREE
        return cls(vocabulary, types, edges)
