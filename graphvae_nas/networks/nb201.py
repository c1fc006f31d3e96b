"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020) around one cell.

Skeleton: 3x3 conv stem (``C`` channels) + BN; three stages of ``N`` identical cells with
``C``, ``2C`` and ``4C`` channels, a residual reduction block (stride 2) between stages;
BN-ReLU, global average pooling and a linear classifier. The cell has 4 nodes; node ``j``
is the sum over ``i < j`` of ``op_ij(node_i)`` and node 3 is the cell's output. Edge ops:
``none`` (zero), ``skip_connect`` (identity), ``nor_conv_1x1`` / ``nor_conv_3x3``
(ReLU-Conv-BN) and ``avg_pool_3x3``. With C=16, N=5 and 10 classes the parameter count
equals the benchmark's (BatchNorm's affine weights included).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.networks.ops import (
    ClassifierHead,
    ReLUConvBN,
    ResidualReduction,
    Stem,
    Zero,
    check_network_args,
    count_parameters,
    pool3x3,
)
from graphvae_nas.spaces.nb201 import NB201_OPS  # the space owns its op vocabulary

CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""Cell edges in the order of the official string (same as ``graphvae_nas.spaces.nb201``)."""


def nb201_op(name: str, channels: int) -> nn.Module:
    """The module of one NB201 edge op (stride 1, ``channels`` in and out)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return pool3x3("avg")
    raise ArchitectureError(f"nb201: unknown op {name!r} (allowed: {list(NB201_OPS)})")


def _check_edge_ops(edge_ops: Sequence[str]) -> tuple[str, ...]:
    ops = tuple(edge_ops)
    if len(ops) != len(CELL_EDGES):
        raise ArchitectureError(f"nb201: a cell has {len(CELL_EDGES)} edge ops, got {len(ops)}")
    for op in ops:
        if op not in NB201_OPS:
            raise ArchitectureError(f"nb201: unknown op {op!r} (allowed: {list(NB201_OPS)})")
    return ops


class NB201Cell(nn.Module):
    """The 4-node cell; ``edge_ops`` in official string order (0->1, 0->2, 1->2, 0->3, 1->3, 2->3)."""

    def __init__(self, edge_ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edge_ops = _check_edge_ops(edge_ops)
        self.edges = nn.ModuleList(nb201_op(op, channels) for op in self.edge_ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(self.edges[k](nodes[i])
                             for k, (i, dst) in enumerate(CELL_EDGES) if dst == j))
        return nodes[3]


class NB201Network(nn.Module):
    """NAS-Bench-201's macro skeleton with ``N`` cells per stage and ``C`` stem channels."""

    def __init__(self, edge_ops: Sequence[str], num_classes: int, *, in_channels: int = 3,
                 C: int = 16, N: int = 5) -> None:
        check_network_args(num_classes, in_channels, C=C, N=N)
        super().__init__()
        ops = _check_edge_ops(edge_ops)
        self.stem = Stem(in_channels, C)
        layers: list[nn.Module] = []
        c_prev = C
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(ResidualReduction(c_prev, width))
            layers.extend(NB201Cell(ops, width) for _ in range(N))
            c_prev = width
        self.cells = nn.Sequential(*layers)
        self.head = ClassifierHead(c_prev, num_classes, pre="bn_relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


@cache
def _op_parameters(op: str, channels: int) -> int:
    return count_parameters(nb201_op(op, channels))


@cache
def _skeleton_parameters(num_classes: int, in_channels: int, C: int, N: int) -> int:
    return count_parameters(NB201Network(("none",) * 6, num_classes, in_channels=in_channels,
                                         C=C, N=N))


def nb201_parameter_count(edge_ops: Sequence[str], num_classes: int = 10, *,
                          in_channels: int = 3, C: int = 16, N: int = 5) -> int:
    """Trainable parameters of ``NB201Network(edge_ops, ...)`` without building it: the
    skeleton (an all-``none`` network) plus ``N`` times each stage's cell ops."""
    ops = _check_edge_ops(edge_ops)
    check_network_args(num_classes, in_channels, C=C, N=N)
    cells = sum(N * _op_parameters(op, width) for width in (C, 2 * C, 4 * C) for op in ops)
    return _skeleton_parameters(num_classes, in_channels, C, N) + cells
