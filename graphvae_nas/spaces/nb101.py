"""NAS-Bench-101 cell space.

A cell spec is an upper-triangular adjacency matrix of up to 7 nodes and an ops list
(``input``, inner ops from conv3x3-bn-relu / conv1x1-bn-relu / maxpool3x3, ``output``). As in
the benchmark, nodes not on an input-to-output path are pruned before anything else; a spec
whose input and output are disconnected is invalid, and the pruned cell may have at most 7
nodes and 9 edges. The native string is the compact JSON ``{"matrix": [...], "ops": [...]}``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.base import INPUT, OUTPUT, Seed, as_rng, register_space
from graphvae_nas.spaces.generic import GenericDagSpace

if TYPE_CHECKING:
    from torch import nn

NB101_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")


class NasBench101Space(GenericDagSpace):
    """Cells of NAS-Bench-101: at most 7 nodes and 9 edges over three ops."""

    name = "nb101"

    def __init__(self) -> None:
        super().__init__(NB101_OPS, max_nodes=7, max_edges=9, min_nodes=2)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def from_spec(self, matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> Architecture:
        """Prune ``(matrix, ops)`` as the benchmark does and return the validated cell."""
        n = len(ops)
        if n < 2:
            raise ArchitectureError(f"nb101: a spec needs at least input and output, got {n} ops")
        if len(matrix) != n or any(len(row) != n for row in matrix):
            raise ArchitectureError(f"nb101: matrix must be {n}x{n} to match {n} ops")
        edges = []
        for s in range(n):
            for d in range(n):
                value = matrix[s][d]
                if value not in (0, 1):
                    raise ArchitectureError(f"nb101: matrix[{s}][{d}] is {value!r}, not 0 or 1")
                if value:
                    if d <= s:
                        raise ArchitectureError(
                            f"nb101: matrix must be strictly upper triangular; matrix[{s}][{d}] = 1")
                    edges.append((s, d))
        keep = _on_input_output_path(n, edges)
        if not keep:
            raise ArchitectureError("nb101: input and output are not connected")
        position = {v: i for i, v in enumerate(keep)}
        arch = Architecture([ops[v] for v in keep],
                            [(position[s], position[d]) for s, d in edges if s in position and d in position])
        self.validate(arch)
        return arch

    def to_spec(self, arch: Architecture) -> tuple[list[list[int]], list[str]]:
        """``(matrix, ops)`` of a (pruned) cell."""
        self.validate(arch)
        n = arch.num_nodes
        matrix = [[0] * n for _ in range(n)]
        for s, d in arch.edges:
            matrix[s][d] = 1
        return matrix, list(arch.ops)

    def parse(self, text: str) -> Architecture:
        """Read ``{"matrix": [[...]], "ops": [...]}`` (or ``[matrix, ops]``)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(f"nb101: invalid JSON ({exc.msg}) in {text!r}") from None
        if isinstance(data, dict) and "matrix" in data and "ops" in data:
            return self.from_spec(data["matrix"], data["ops"])
        if isinstance(data, list) and len(data) == 2:
            return self.from_spec(data[0], data[1])
        raise ArchitectureError(f"nb101: expected {{'matrix': ..., 'ops': ...}}, got {text!r}")

    def format(self, arch: Architecture) -> str:
        matrix, ops = self.to_spec(arch)
        return json.dumps({"matrix": matrix, "ops": ops}, separators=(",", ":"))

    def to_module(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                  stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3) -> nn.Module:
        """The NAS-Bench-101 network of ``arch`` (defaults: the benchmark's skeleton)."""
        from graphvae_nas.networks.nb101 import NB101Network

        self.validate(arch)
        return NB101Network(arch, num_classes, in_channels=in_channels, stem_channels=stem_channels,
                            num_stacks=num_stacks, cells_per_stack=cells_per_stack)

    def sample(self, seed: Seed = None) -> Architecture:
        """The benchmark's own scheme: a uniformly random 7x7 upper-triangular matrix and
        random ops, redrawn until the pruned cell is valid."""
        rng = as_rng(seed)
        n = self.max_nodes
        while True:
            matrix = [[1 if d > s and rng.random() < 0.5 else 0 for d in range(n)] for s in range(n)]
            ops = [INPUT] + [rng.choice(NB101_OPS) for _ in range(n - 2)] + [OUTPUT]
            try:
                return self.from_spec(matrix, ops)
            except ArchitectureError:
                continue


def _on_input_output_path(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Nodes reachable from node 0 that also reach node n-1 (empty if 0 cannot reach n-1)."""
    fwd = [False] * n
    fwd[0] = True
    for s, d in sorted(edges):
        if fwd[s]:
            fwd[d] = True
    bwd = [False] * n
    bwd[n - 1] = True
    for s, d in sorted(edges, reverse=True):
        if bwd[d]:
            bwd[s] = True
    if not fwd[n - 1]:
        return []
    return [v for v in range(n) if fwd[v] and bwd[v]]


register_space("nb101", NasBench101Space)
