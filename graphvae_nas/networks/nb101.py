"""The NAS-Bench-101 network (Ying et al., ICML 2019) around one cell.

Skeleton: 3x3 conv stem (``stem_channels``, 128 in the benchmark) + BN + ReLU; ``num_stacks``
stacks of ``cells_per_stack`` cells, a 2x2 max-pool and a doubling of the channels before
every stack but the first; global average pooling and a linear classifier.

Cell (the benchmark's ``build_module``): the output's channels are split as evenly as
possible among the nodes that feed the output (earlier nodes get the remainder), every other
inner node gets the largest width among its successors. A node sums its inputs: the input
projected by a 1x1 conv-BN-ReLU when the input feeds it, other nodes' outputs truncated to
its width; then applies its op (conv3x3 / conv1x1 conv-BN-ReLU or 3x3 max-pool). The output
concatenates the nodes that feed it and adds the projected input when the input feeds the
output directly. With the defaults and 10 classes the parameter counts are the benchmark's.
"""
from __future__ import annotations

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.networks.ops import (
    ClassifierHead,
    ConvBNReLU,
    Stem,
    check_network_args,
    halve,
)
from graphvae_nas.spaces.nb101 import NB101_OPS  # the space owns its op vocabulary


def nb101_op(name: str, channels: int) -> nn.Module:
    """The module of one NB101 op (``channels`` in and out, spatial size kept)."""
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ArchitectureError(f"nb101: unknown op {name!r} (allowed: {list(NB101_OPS)})")


def vertex_channels(arch: Architecture, in_channels: int, out_channels: int) -> list[int]:
    """Width of every node of the cell, as the benchmark computes it."""
    n = arch.num_nodes
    out = n - 1
    widths = [0] * n
    widths[0], widths[out] = in_channels, out_channels
    if n == 2:
        return widths
    succs = arch.successors()
    feeding = [v for v in range(1, out) if out in succs[v]]
    share, remainder = divmod(out_channels, len(feeding))
    if share == 0:
        raise ArchitectureError(
            f"nb101: {out_channels} channels cannot be split among the {len(feeding)} nodes that "
            f"feed the output; use at least {len(feeding)} channels")
    for k, v in enumerate(feeding):
        widths[v] = share + (1 if k < remainder else 0)
    for v in range(out - 1, 0, -1):
        if out not in succs[v]:
            widths[v] = max(widths[d] for d in succs[v])
    return widths


class NB101Cell(nn.Module):
    """One NB101 module for a pruned cell ``arch`` (nodes in topological order)."""

    def __init__(self, arch: Architecture, in_channels: int, out_channels: int) -> None:
        super().__init__()
        n = arch.num_nodes
        self.num_nodes = n
        self.preds = arch.predecessors()
        self.widths = vertex_channels(arch, in_channels, out_channels)
        self.projections = nn.ModuleDict(
            {str(v): ConvBNReLU(in_channels, self.widths[v] if v < n - 1 else out_channels, 1)
             for v in range(1, n) if 0 in self.preds[v]})
        self.ops = nn.ModuleDict({str(v): nb101_op(arch.ops[v], self.widths[v])
                                  for v in range(1, n - 1)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.num_nodes - 1
        values: list[torch.Tensor] = [x]
        for v in range(1, out):
            inputs = [values[s][:, :self.widths[v]] for s in self.preds[v] if s != 0]
            if 0 in self.preds[v]:
                inputs.append(self.projections[str(v)](x))
            values.append(self.ops[str(v)](sum(inputs)))
        concat = [values[s] for s in self.preds[out] if s != 0]
        result = torch.cat(concat, dim=1) if concat else None
        if 0 in self.preds[out]:
            projected = self.projections[str(out)](x)
            result = projected if result is None else result + projected
        assert result is not None  # the output always has a predecessor
        return result


class NB101Network(nn.Module):
    """NAS-Bench-101's skeleton around ``arch`` (a pruned cell with NB101 ops)."""

    def __init__(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                 stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3) -> None:
        check_network_args(num_classes, in_channels, stem_channels=stem_channels,
                           num_stacks=num_stacks, cells_per_stack=cells_per_stack)
        super().__init__()
        self.stem = Stem(in_channels, stem_channels, relu=True)
        layers: list[nn.Module] = []
        c_in = channels = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(halve())
                channels *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(arch, c_in, channels))
                c_in = channels
        self.cells = nn.Sequential(*layers)
        self.head = ClassifierHead(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))
