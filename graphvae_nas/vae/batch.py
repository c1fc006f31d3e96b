"""Dense padded tensors for a set of architectures: the input format of the VAE.

All graphs of a space have at most ``max_nodes`` nodes, numbered topologically, so a batch is
``types [G, N]`` (vocabulary indices, ``-1`` past a graph's last node), ``adj [G, N, N]``
(``adj[g, s, d] = 1`` for an edge ``s -> d``) and ``num_nodes [G]``. Work is then organised by
node position over the whole batch, with no per-graph Python loops.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.graph.convert import op_index_map, op_indices

PAD = -1


@dataclass
class DenseGraphs:
    """A padded batch of DAGs (see module docstring)."""

    types: torch.Tensor
    adj: torch.Tensor
    num_nodes: torch.Tensor

    def __len__(self) -> int:
        return int(self.types.shape[0])

    @property
    def max_nodes(self) -> int:
        return int(self.types.shape[1])

    def __getitem__(self, index: torch.Tensor | slice | Sequence[int]) -> DenseGraphs:
        return DenseGraphs(self.types[index], self.adj[index], self.num_nodes[index])

    def to(self, device: torch.device | str) -> DenseGraphs:
        return DenseGraphs(self.types.to(device), self.adj.to(device), self.num_nodes.to(device))


def dense_graphs(archs: Sequence[Architecture], vocabulary: Sequence[str],
                 max_nodes: int) -> DenseGraphs:
    """Pad ``archs`` into one :class:`DenseGraphs` (raises if one has too many nodes or an op
    outside ``vocabulary``)."""
    mapping = op_index_map(vocabulary)
    count = len(archs)
    types = np.full((count, max_nodes), PAD, dtype=np.int64)
    adj = np.zeros((count, max_nodes, max_nodes), dtype=np.float32)
    sizes = np.empty(count, dtype=np.int64)
    for g, arch in enumerate(archs):
        n = arch.num_nodes
        if n > max_nodes:
            raise ArchitectureError(f"architecture {g} has {n} nodes, more than max_nodes={max_nodes}")
        types[g, :n] = op_indices(arch, mapping)
        sizes[g] = n
        if arch.edges:
            src, dst = zip(*arch.edges)
            adj[g, list(src), list(dst)] = 1.0
    return DenseGraphs(torch.from_numpy(types), torch.from_numpy(adj), torch.from_numpy(sizes))


def to_architectures(types: torch.Tensor, adj: torch.Tensor, num_nodes: torch.Tensor,
                     vocabulary: Sequence[str]) -> list[Architecture | None]:
    """Inverse of :func:`dense_graphs`; ``None`` where a graph is not a valid DAG."""
    types_np = types.cpu().numpy()
    adj_np = adj.cpu().numpy() > 0.5
    sizes = num_nodes.cpu().numpy()
    result: list[Architecture | None] = []
    for g in range(types_np.shape[0]):
        n = int(sizes[g])
        src, dst = np.nonzero(adj_np[g, :n, :n])
        try:
            result.append(Architecture([vocabulary[t] for t in types_np[g, :n]],
                                       zip(src.tolist(), dst.tolist())))
        except (ArchitectureError, IndexError):
            result.append(None)
    return result
