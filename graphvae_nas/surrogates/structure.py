"""Fixed encodings of an architecture's structure, for surrogates that compare graphs edge by
edge instead of through a learned latent space.

* :class:`LabelledAdjacencyEncoding`: for spaces whose node labels are all distinct (a Bayesian
  network: one node per variable), the adjacency indexed by label, so the same arc is the same
  column whatever order the nodes are listed in;
* :class:`~graphvae_nas.surrogates.gnn.DenseGraphEncoding`: the adjacency and one-hot labels by
  node position (cells whose node order is fixed by the space, e.g. NAS-Bench-201).

:func:`structure_encoding` picks the one that fits a space. On the Asia network, a GP on the
labelled adjacency ranks the one-arc moves of the best structures found so far far better
than a GP on the bn VAE's latent means (``benchmarks/bench_bn_surrogates.py``).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace
from graphvae_nas.surrogates.gnn import DenseGraphEncoding


class LabelledAdjacencyEncoding:
    """Architectures whose node labels are distinct, over ``vocabulary``, as float64 0/1 rows
    of ``len(vocabulary) ** 2``: entry ``a * V + b`` is 1 when the node labelled
    ``vocabulary[a]`` feeds the node labelled ``vocabulary[b]``."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.vocabulary = tuple(vocabulary)
        if len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError(f"the vocabulary repeats a label: {list(self.vocabulary)}")
        self._index = {label: i for i, label in enumerate(self.vocabulary)}

    @property
    def dim(self) -> int:
        return len(self.vocabulary) ** 2

    def groups_into(self, labels: Sequence[str]) -> list[list[int]]:
        """For each of ``labels``, the columns of the arcs into its node (from every label):
        in a Bayesian network, the variable's parent set, the scope of one term of BIC."""
        v = len(self.vocabulary)
        unknown = [label for label in labels if label not in self._index]
        if unknown:
            raise ValueError(f"labels {unknown} are not in the vocabulary {list(self.vocabulary)}")
        return [[a * v + self._index[label] for a in range(v)] for label in labels]

    def encode(self, archs: Sequence[Architecture]) -> torch.Tensor:
        v = len(self.vocabulary)
        rows: list[int] = []
        cells: list[int] = []
        for row, arch in enumerate(archs):
            try:
                label = [self._index[op] for op in arch.ops]
            except KeyError as exc:
                raise ValueError(f"architecture {row}: label {exc.args[0]!r} is not in the "
                                 f"vocabulary {list(self.vocabulary)}") from None
            if len(set(label)) != len(label):
                repeated = sorted({op for op in arch.ops if arch.ops.count(op) > 1})
                raise ValueError(f"architecture {row}: labels {repeated} occur more than once; "
                                 "a labelled adjacency needs distinct labels (use "
                                 "DenseGraphEncoding)")
            rows += [row] * arch.num_edges
            cells += [label[s] * v + label[d] for s, d in arch.edges]
        out = torch.zeros(len(archs), self.dim, dtype=torch.float64)
        out[rows, cells] = 1.0
        return out


class EquivalenceClassEncoding:
    """Bayesian-network structures as the invariants of their Markov equivalence class
    (:mod:`graphvae_nas.spaces.bn_equivalence`), float64 0/1 rows: one column per pair of
    variables (adjacent either way), then one per (child, pair of its parents) for each
    v-structure. Equivalent DAGs, which score-equivalent scores (BIC, BDeu) score alike, get
    the same row; an isotropic kernel's distance counts the skeleton and v-structure changes."""

    def __init__(self, space: SearchSpace) -> None:
        if not hasattr(space, "num_variables") or not hasattr(space, "equivalence_key"):
            raise ValueError(f"space {space.name!r} has no equivalence classes of structures")
        self.space = space
        n = self.num_variables = space.num_variables
        self._pair = {(a, b): k for k, (a, b) in
                      enumerate((a, b) for b in range(n) for a in range(b))}

    @property
    def dim(self) -> int:
        return len(self._pair) * (1 + self.num_variables)

    def _cells_of(self, arch: Architecture) -> list[int]:
        from graphvae_nas.spaces.bn_equivalence import equivalence_key, set_bits

        n, pairs = self.num_variables, len(self._pair)
        adjacent, colliders = equivalence_key(self.space.parent_masks(arch))
        cells = [self._pair[a, b] for b in range(n)
                 for a in set_bits(adjacent[b] & ((1 << b) - 1))]   # pairs a < b
        for c in range(n):
            for bit in set_bits(colliders[c]):   # a * n + b, each pair both ways
                a, b = divmod(bit, n)
                if a < b:
                    cells.append(pairs * (1 + c) + self._pair[a, b])
        return cells

    def encode(self, archs: Sequence[Architecture]) -> torch.Tensor:
        rows: list[int] = []
        cells: list[int] = []
        for row, arch in enumerate(archs):
            mine = self._cells_of(arch)
            rows += [row] * len(mine)
            cells += mine
        out = torch.zeros(len(archs), self.dim, dtype=torch.float64)
        out[rows, cells] = 1.0
        return out


Encoding = LabelledAdjacencyEncoding | DenseGraphEncoding | EquivalenceClassEncoding


def structure_encoding(space: SearchSpace, *, equivalence: bool = False) -> Encoding:
    """The labelled adjacency where the space places each label at most once (its decoding
    rules are :class:`~graphvae_nas.spaces.rules.LabelsOnceRules`: Bayesian networks), else the
    adjacency and labels by node position; with ``equivalence``, the equivalence class's
    invariants (Bayesian networks only)."""
    from graphvae_nas.spaces.rules import LabelsOnceRules

    if equivalence:
        return EquivalenceClassEncoding(space)
    if isinstance(space.decoding_rules(), LabelsOnceRules):
        return LabelledAdjacencyEncoding(space.vocabulary)
    return DenseGraphEncoding(space.vocabulary, space.max_nodes)


def unit_box(dim: int) -> torch.Tensor:
    """``[2, dim]`` bounds ``[0, 1]`` of 0/1 encodings (a GP's input normalisation)."""
    return torch.stack([torch.zeros(dim, dtype=torch.float64), torch.ones(dim, dtype=torch.float64)])
