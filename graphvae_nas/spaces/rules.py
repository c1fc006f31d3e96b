"""Decoding rules: what a node-by-node decoder may emit next, asked of the space at every step.

A decoder builds the graphs of a batch one node at a time. Node 0 is the input (type
``input_type``); then, for each position ``p = 1, 2, ...``, it chooses the type of node ``p``
and then the incoming edges of node ``p`` from earlier nodes. Placing ``output_type`` ends a
graph. Before each choice the decoder asks the space's :class:`DecodingRules`, batched over the
graphs being decoded; it never decides validity itself:

* :meth:`~DecodingRules.allowed_types` ``(types [B, p], adj [B, p, p]) -> [B, V] bool``: the
  types node ``p`` may take, given the partial graphs (types of nodes ``0..p-1`` and their
  edges);
* :meth:`~DecodingRules.predecessors` ``(types [B, p + 1], adj [B, p, p]) -> PredecessorRule``:
  once node ``p``'s type is chosen (last column of ``types``), which earlier nodes feed it:
  forced, forbidden or free (sampled by the model) per source, plus counts (at least / at most
  ``k`` predecessors; exactly ``k`` when both are ``k``) and how a shortfall is topped up;
* :meth:`~DecodingRules.closing_edges` ``(types [B, p + 1], adj [B, p + 1, p + 1]) -> [B, p]
  bool``: when node ``p`` is the output, the extra edges into it (e.g. every loose end).

``types`` hold vocabulary indices and ``-1`` (padding) in rows whose graph has already ended;
what the rules answer for those rows is ignored. ``adj[b, s, d]`` is 1 for an edge ``s -> d``.
Masks may have a leading dimension of 1 instead of ``B`` when they are the same for every
graph (they broadcast).

Two static descriptions let the decoder lay out its work once: ``candidate_edges`` (``[N, N]``
bool, ``N = max_nodes``) holds every edge that may ever be *free* (scored by the model); the
decoder decides free edges of node ``p`` from the newest source to the oldest, and the
teacher-forced likelihood scores, per training graph, the candidate edges that
:meth:`~DecodingRules.teacher_edge_masks` marks free. :meth:`~DecodingRules.teacher_type_masks`
gives the allowed-type masks of all positions of complete graphs at once, for training.

Implementations here: :class:`StaticRules` (per-position masks of a
:class:`~graphvae_nas.spaces.constraints.GenerationConstraints`: NAS-Bench-201/101, ENAS and
generic DAG spaces) and :class:`LabelsOnceRules` (every label of a fixed set exactly once, any
DAG over them: Bayesian networks). This module imports torch; spaces import it lazily in
``decoding_rules()`` so that ``import graphvae_nas.spaces`` stays light.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.spaces.constraints import FORCED, FREE, GenerationConstraints

INPUT = "input"
OUTPUT = "output"


@dataclass
class PredecessorRule:
    """How the new node ``p`` of every graph gets its incoming edges (see module docstring).

    * ``forced`` ``[B|1, p]`` bool: edges present before the model decides anything.
    * ``free`` ``[B|1, p]`` bool: edges the model samples (newest source first); must lie in
      the space's ``candidate_edges``. Sources neither forced nor free are forbidden.
    * ``max_count`` (int, ``[B]`` tensor or ``None`` for no limit): once a graph's new node has
      this many predecessors (forced ones included), its remaining free edges are not drawn.
    * ``min_count`` (int or ``[B]`` tensor): after sampling, a node with fewer predecessors is
      topped up: with the ``fallback`` sources (lowest index first) when ``fallback`` is given,
      otherwise with its undrawn free sources, highest edge score first. A graph that cannot
      be topped up stays short, and the space's validity check rejects it.
    """

    forced: torch.Tensor
    free: torch.Tensor
    min_count: int | torch.Tensor = 0
    max_count: int | torch.Tensor | None = None
    fallback: torch.Tensor | None = None


@runtime_checkable
class DecodingRules(Protocol):
    """The batched questions a node-by-node decoder asks a space (see module docstring)."""

    vocabulary: tuple[str, ...]
    max_nodes: int
    input_type: int
    """Vocabulary index of node 0."""
    output_type: int
    """Vocabulary index whose placement ends a graph."""
    candidate_edges: np.ndarray
    """``[max_nodes, max_nodes]`` bool: edges the model may ever be asked to score."""

    def allowed_types(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """``[B|1, V]`` bool: the types node ``p = types.shape[1]`` may take."""
        ...

    def predecessors(self, types: torch.Tensor, adj: torch.Tensor) -> PredecessorRule:
        """Incoming-edge rule of node ``p = adj.shape[1]``, whose type is ``types[:, p]``."""
        ...

    def closing_edges(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        """``[B, p]`` bool: edges added into node ``p = adj.shape[1] - 1`` when it is the output
        (used only for graphs that placed it); ``None`` for none."""
        ...

    def teacher_type_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """``[B|1, n - 1, V]`` bool: allowed types of positions ``1..n-1`` of complete graphs
        ``types [B, n]``, ``adj [B, n, n]`` (the masks :meth:`allowed_types` gives along the way)."""
        ...

    def teacher_edge_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        """``[B, n, n]`` bool: which candidate edges of complete graphs were the model's to
        decide (free, and under ``max_count`` when drawn); ``None`` when all candidates were."""
        ...


def loose_ends(adj: torch.Tensor) -> torch.Tensor:
    """``[B, p]`` bool: nodes ``0..p-1`` without a successor in ``adj [B, p + 1, p + 1]``."""
    p = adj.shape[1] - 1
    return adj[:, :p, :p + 1].sum(2) == 0


def capped_free_edges(adj: torch.Tensor, free: torch.Tensor, max_count: int | None,
                      forced: torch.Tensor | None = None) -> torch.Tensor:
    """The free edges ``free [B|1, n, n]`` of complete graphs ``adj [B, n, n]`` that the decoder
    draws: those decided while their target still had fewer than ``max_count`` predecessors
    (its ``forced [B|1, n, n]`` ones and the free ones from newer sources; free edges are
    drawn newest first). A teacher-forcing helper for rules with a ``max_count``."""
    if max_count is None:
        return free.expand(adj.shape[0], -1, -1)
    edges = (adj > 0.5) & free
    # before[b, u, v]: predecessors of v when u -> v is decided: free edges w -> v with w > u
    before = edges.flip(1).cumsum(1).flip(1) - edges.long()
    if forced is not None:
        before = before + ((adj > 0.5) & forced).sum(1, keepdim=True)
    return free & (before < max_count)


class StaticRules:
    """Decoding rules from per-position masks (:class:`GenerationConstraints`): the type mask
    of a position, forced / free / forbidden edges, an incoming edge for every node that has
    free sources (its best-scored one if none was drawn) and loose ends joined to the output,
    when the constraints ask for them."""

    def __init__(self, constraints: GenerationConstraints) -> None:
        self.constraints = constraints
        self.vocabulary = tuple(constraints.vocabulary)
        self.max_nodes = constraints.max_nodes
        self.input_type = self.vocabulary.index(INPUT)
        self.output_type = constraints.output_index
        self.candidate_edges = np.triu(constraints.edges == FREE, 1)
        self._forced = np.triu(constraints.edges == FORCED, 1)
        needs_one = constraints.require_predecessor & self.candidate_edges.any(0)
        self._min_counts = [int(x) for x in needs_one]
        self._tensors: dict[torch.device, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def _on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Type mask, forced and free edges as tensors on ``device`` (made once per device)."""
        cached = self._tensors.get(device)
        if cached is None:
            cached = self._tensors[device] = (
                torch.from_numpy(self.constraints.node_types.copy()).to(device),
                torch.from_numpy(self._forced.copy()).to(device),
                torch.from_numpy(self.candidate_edges.copy()).to(device))
        return cached

    def allowed_types(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self._on(types.device)[0][types.shape[1]].unsqueeze(0)

    def predecessors(self, types: torch.Tensor, adj: torch.Tensor) -> PredecessorRule:
        p = adj.shape[1]
        _, forced, free = self._on(types.device)
        return PredecessorRule(forced[:p, p].unsqueeze(0), free[:p, p].unsqueeze(0),
                               min_count=self._min_counts[p])

    def closing_edges(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        return loose_ends(adj) if self.constraints.connect_loose_ends else None

    def teacher_type_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self._on(types.device)[0][1:types.shape[1]].unsqueeze(0)

    def teacher_edge_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        return None


class LabelsOnceRules:
    """Every label of ``labels`` exactly once, in any order, with any DAG over them (Bayesian
    networks: one node per variable).

    Architectures have input and output nodes, so a labelled DAG ``G`` over ``labels`` is
    written as: node 0 ``input``; the labels in a topological order of ``G`` (nodes
    ``1..K``), with ``G``'s arcs between them; the ``output`` (node ``K + 1``). The input feeds
    exactly the labels without a parent in ``G`` and exactly the labels without a child in
    ``G`` feed the output, so each ``G`` has one such form up to the order of its labels, and
    every form is a valid :class:`~graphvae_nas.graph.Architecture`.

    The decoder chooses each label among those not yet placed, draws the arcs from earlier
    labels (at most ``max_parents`` of them when given), gives a label without a drawn parent
    the edge from the input and joins every label without a child to the output.
    """

    def __init__(self, vocabulary: Sequence[str], labels: Sequence[str],
                 max_parents: int | None = None) -> None:
        self.vocabulary = tuple(vocabulary)
        labels = tuple(labels)
        for name in (INPUT, OUTPUT, *labels):
            if name not in self.vocabulary:
                raise ArchitectureError(f"labels-once rules: {name!r} is not in the vocabulary "
                                        f"{list(self.vocabulary)}")
        if not labels or len(set(labels)) != len(labels) or {INPUT, OUTPUT} & set(labels):
            raise ArchitectureError(f"labels-once rules need distinct labels other than input and "
                                    f"output, got {list(labels)}")
        if max_parents is not None and max_parents < 0:
            raise ArchitectureError(f"labels-once rules: max_parents must be >= 0, got {max_parents}")
        self.labels = labels
        self.max_parents = max_parents
        self.max_nodes = len(labels) + 2
        self.input_type = self.vocabulary.index(INPUT)
        self.output_type = self.vocabulary.index(OUTPUT)
        n = self.max_nodes
        self.candidate_edges = np.zeros((n, n), dtype=bool)
        self.candidate_edges[1:n - 1, 1:n - 1] = np.triu(np.ones((n - 2, n - 2), dtype=bool), 1)
        label_mask = np.zeros(len(self.vocabulary), dtype=bool)
        label_mask[[self.vocabulary.index(x) for x in labels]] = True
        only_output = np.zeros(len(self.vocabulary), dtype=bool)
        only_output[self.output_type] = True
        from_input = np.zeros(n, dtype=bool)
        from_input[0] = True
        self._arrays = (label_mask, only_output, self.candidate_edges, from_input,
                        np.zeros(n, dtype=bool))
        self._cache: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def _on(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        """Label mask, output-only mask, candidate edges, input-only and empty source rows as
        tensors on ``device`` (made once per device)."""
        cached = self._cache.get(device)
        if cached is None:
            cached = self._cache[device] = tuple(torch.from_numpy(a.copy()).to(device)
                                                 for a in self._arrays)
        return cached

    def _used(self, types: torch.Tensor) -> torch.Tensor:
        """``[B, V]`` bool: types present among ``types [B, p]`` (padding ignored)."""
        used = torch.zeros(types.shape[0], len(self.vocabulary), dtype=torch.bool,
                           device=types.device)
        return used.scatter_(1, types.clamp(min=0), types >= 0)

    def allowed_types(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        labels, only_output = self._on(types.device)[:2]
        if types.shape[1] >= self.max_nodes - 1:
            return only_output.unsqueeze(0)
        return labels.unsqueeze(0) & ~self._used(types)

    def predecessors(self, types: torch.Tensor, adj: torch.Tensor) -> PredecessorRule:
        p = adj.shape[1]
        _, _, candidates, from_input, empty = self._on(types.device)
        none = empty[:p].unsqueeze(0)
        if p >= self.max_nodes - 1:   # the output: fed by the loose ends (closing_edges)
            return PredecessorRule(none, none)
        # a label without a drawn parent is a root of the DAG: the input feeds it
        return PredecessorRule(none, candidates[:p, p].unsqueeze(0), min_count=1,
                               max_count=self.max_parents, fallback=from_input[:p].unsqueeze(0))

    def closing_edges(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        ends = loose_ends(adj)
        ends[:, 0] = False            # the input always feeds the first label
        return ends

    def teacher_type_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        n = types.shape[1]
        onehot = torch.zeros(*types.shape, len(self.vocabulary), dtype=torch.long,
                             device=types.device)
        onehot.scatter_(2, types.clamp(min=0).unsqueeze(-1), (types >= 0).long().unsqueeze(-1))
        used_before = onehot.cumsum(1)[:, :n - 1] > 0            # [B, n-1, V]: in nodes 0..v-1
        allowed = self._on(types.device)[0] & ~used_before
        last = torch.arange(1, n, device=types.device) >= self.max_nodes - 1
        allowed[:, last] = False
        allowed[:, last, self.output_type] = True
        return allowed

    def teacher_edge_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        if self.max_parents is None:
            return None
        n = adj.shape[1]
        free = self._on(adj.device)[2][:n, :n].unsqueeze(0)
        return capped_free_edges(adj, free, self.max_parents)
