"""ENAS macro search space, as D-VAE uses it.

An architecture is a chain of ``num_layers`` layers, each with one of 6 ops, plus optional
skip connections into each layer from any earlier vertex. D-VAE's text format writes row
``i`` as ``[op_i, b_0, ..., b_{i-1}]``: bit ``b_j = 1`` is a skip edge into layer ``i`` from
vertex ``j``, where vertex 0 is the input (stem) and vertex ``j >= 1`` is layer ``j - 1``;
the edge from the previous vertex is always present and not written. As a DAG (D-VAE's
construction) vertex 0 is START (``input``), vertices ``1..N`` the layers, and vertex
``N + 1`` END (``output``), fed by the last layer.
"""
from __future__ import annotations

import itertools
import json
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

ENAS_OPS = ("conv3x3", "sep_conv3x3", "conv5x5", "sep_conv5x5", "avg_pool3x3", "max_pool3x3")
"""D-VAE's op indices 0..5, in order."""

Rows = list[list[int]]


class EnasMacroSpace(SpaceBase):
    """ENAS macro space with ``num_layers`` layers (D-VAE uses 6; 12 is ENAS's full size)."""

    name = "enas"
    ops = ENAS_OPS

    def __init__(self, num_layers: int = 6) -> None:
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ArchitectureError(f"enas: num_layers must be a positive integer, got {num_layers!r}")
        self.num_layers = num_layers
        self.max_nodes = num_layers + 2
        self._op_index = {op: i for i, op in enumerate(ENAS_OPS)}

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "num_layers": self.num_layers}

    # ------------------------------------------------------------------ rows <-> DAG
    def from_rows(self, rows: Sequence[Sequence[int]], *, where: str = "") -> Architecture:
        """The DAG of D-VAE rows ``[[op0], [op1, b0], ...]``."""
        n = self.num_layers
        prefix = f"enas{where}: "
        if len(rows) != n:
            raise ArchitectureError(f"{prefix}expected {n} layers, got {len(rows)}")
        ops = [INPUT]
        edges = []
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)) or len(row) != i + 1:
                raise ArchitectureError(
                    f"{prefix}layer {i} must be [op, {i} skip bits], got {row!r}")
            op = row[0]
            if type(op) is not int:
                raise ArchitectureError(f"{prefix}layer {i}: op index {op!r} is not an integer")
            if not 0 <= op < len(ENAS_OPS):
                raise ArchitectureError(f"{prefix}layer {i}: op index {op!r} outside 0..5")
            ops.append(ENAS_OPS[op])
            for j, bit in enumerate(row[1:]):
                if type(bit) is not int or bit not in (0, 1):
                    raise ArchitectureError(f"{prefix}layer {i}: skip bit {j} is {bit!r}, not 0 or 1")
                if bit:
                    edges.append((j, i + 1))
            edges.append((i, i + 1))
        ops.append(OUTPUT)
        edges.append((n, n + 1))
        return Architecture._trusted(tuple(ops), tuple(sorted(edges)))

    def to_rows(self, arch: Architecture) -> Rows:
        """Inverse of :meth:`from_rows`."""
        self.validate(arch)
        rows: Rows = [[self._op_index[op]] for op in arch.ops[1:-1]]
        for i in range(1, self.num_layers):
            rows[i].extend([0] * i)
        for s, d in arch.edges:
            if d <= self.num_layers and s < d - 1:
                rows[d - 1][1 + s] = 1
        return rows

    # ------------------------------------------------------------------ formats
    def parse(self, text: str) -> Architecture:
        """Read D-VAE's ``[[op0], [op1, b0], ...]`` (a trailing ``, score`` is not accepted here;
        see :func:`graphvae_nas.datasets.importers.read_dvae_enas`)."""
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(f"enas: not a list of lists ({exc.msg}) in {text!r}") from None
        if not isinstance(rows, list):
            raise ArchitectureError(f"enas: expected a list of layers, got {text!r}")
        return self.from_rows(rows)

    def format(self, arch: Architecture) -> str:
        """D-VAE's exact text, e.g. ``[[1], [4, 0], [5, 0, 0]]`` (Python list spacing)."""
        return str(self.to_rows(arch))

    # ------------------------------------------------------------------ validity
    def validate(self, arch: Architecture) -> None:
        n = self.num_layers
        if arch.num_nodes != n + 2:
            raise ArchitectureError(
                f"enas: expected {n + 2} nodes (START, {n} layers, END), got {arch.num_nodes}")
        self.check_terminals(arch)
        edge_set = set(arch.edges)
        for i in range(n):
            if (i, i + 1) not in edge_set:
                raise ArchitectureError(f"enas: missing chain edge {i}->{i + 1} into layer {i}")
        for s, d in arch.edges:
            if d == n + 1 and s != n:
                raise ArchitectureError(f"enas: END may only follow the last layer, found edge {s}->{d}")

    def to_module(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                  channels: int = 36) -> nn.Module:
        """The ENAS macro network of ``arch``, every layer ``channels`` wide."""
        from graphvae_nas.networks.enas import EnasNetwork

        self.validate(arch)
        return EnasNetwork(arch, num_classes, in_channels=in_channels, channels=channels)

    def generation_constraints(self) -> GenerationConstraints:
        """START, N layers, END; chain edges forced, skips into layers free, END after the last layer."""
        n = self.num_layers
        chain = [(i, i + 1) for i in range(n + 1)]
        skips = [(j, d) for d in range(2, n + 1) for j in range(d - 1)]
        return GenerationConstraints.fixed(
            self.vocabulary, [[INPUT]] + [list(ENAS_OPS)] * n + [[OUTPUT]],
            forced_edges=chain, free_edges=skips)

    # ------------------------------------------------------------------ sampling
    def _num_bits(self) -> int:
        return self.num_layers * (self.num_layers - 1) // 2

    def sample(self, seed: Seed = None) -> Architecture:
        """Ops uniform, each skip connection present with probability 1/2."""
        rng = as_rng(seed)
        rows = [[rng.randrange(len(ENAS_OPS))] + [rng.randrange(2) for _ in range(i)]
                for i in range(self.num_layers)]
        return self.from_rows(rows)

    def size(self) -> int:
        return len(ENAS_OPS) ** self.num_layers * 2 ** self._num_bits()

    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture (6^N * 2^(N(N-1)/2) of them: lazy, and huge for N = 6)."""
        n = self.num_layers
        for op_choice in itertools.product(range(len(ENAS_OPS)), repeat=n):
            for bits in itertools.product((0, 1), repeat=self._num_bits()):
                rows, k = [], 0
                for i in range(n):
                    rows.append([op_choice[i], *bits[k:k + i]])
                    k += i
                yield self.from_rows(rows)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture with one op changed or one skip connection toggled."""
        rows = self.to_rows(arch)
        result = []
        for i, row in enumerate(rows):
            for op in range(len(ENAS_OPS)):
                if op != row[0]:
                    result.append(self.from_rows(rows[:i] + [[op, *row[1:]]] + rows[i + 1:]))
            for j in range(1, len(row)):
                flipped = list(row)
                flipped[j] = 1 - flipped[j]
                result.append(self.from_rows(rows[:i] + [flipped] + rows[i + 1:]))
        return result


register_space("enas", EnasMacroSpace)
