"""The ENAS macro-space network (Pham et al. 2018) for D-VAE's ENAS architectures.

The DAG has START (node 0, the stem's output), layers ``1..L`` and END. Layer ``d`` applies
its op to the output of node ``d - 1``; its other predecessors are skip connections whose
outputs are added to the op's result, and every layer after the first normalises that sum
with BatchNorm (as the ENAS macro child network does). Convolutions are ReLU-Conv-BN,
separable ones ReLU-depthwise-pointwise-BN, pools 3x3 with stride 1. A 3x3 conv-BN stem
comes first; ReLU, global average pooling and a linear classifier come last. All layers keep the
``channels`` width (36 by default, ENAS's ``out_filters`` in its macro search); the
optional pooling layers of ENAS's full network are not built.
"""
from __future__ import annotations

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.networks.ops import (
    ClassifierHead,
    ReLUConvBN,
    ReLUSepConvBN,
    Stem,
    check_network_args,
    pool3x3,
)
from graphvae_nas.spaces.enas import ENAS_OPS  # the space owns its op vocabulary


def enas_op(name: str, channels: int) -> nn.Module:
    """The module of one ENAS layer op (``channels`` in and out, spatial size kept)."""
    if name == "conv3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "conv5x5":
        return ReLUConvBN(channels, channels, 5)
    if name == "sep_conv3x3":
        return ReLUSepConvBN(channels, channels, 3)
    if name == "sep_conv5x5":
        return ReLUSepConvBN(channels, channels, 5)
    if name == "avg_pool3x3":
        return pool3x3("avg")
    if name == "max_pool3x3":
        return pool3x3("max")
    raise ArchitectureError(f"enas: unknown op {name!r} (allowed: {list(ENAS_OPS)})")


class EnasLayer(nn.Module):
    """``op(previous) + sum(skips)``, then BatchNorm when ``normalise``."""

    def __init__(self, op: str, channels: int, skips: list[int], *, normalise: bool) -> None:
        super().__init__()
        self.op = enas_op(op, channels)
        self.skips = skips
        self.norm: nn.Module = nn.BatchNorm2d(channels) if normalise else nn.Identity()

    def forward(self, values: list[torch.Tensor]) -> torch.Tensor:
        out = self.op(values[-1])
        for s in self.skips:
            out = out + values[s]
        return self.norm(out)


class EnasNetwork(nn.Module):
    """ENAS macro network of ``arch`` (START, layers, END; chain edges plus skip edges)."""

    def __init__(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                 channels: int = 36) -> None:
        check_network_args(num_classes, in_channels, channels=channels)
        super().__init__()
        num_layers = arch.num_nodes - 2
        preds = arch.predecessors()
        if num_layers < 1 or preds[-1] != [num_layers]:
            raise ArchitectureError("enas: END must be fed by the last layer only")
        self.stem = Stem(in_channels, channels)
        layers = []
        for d in range(1, num_layers + 1):
            if d - 1 not in preds[d]:
                raise ArchitectureError(f"enas: missing chain edge {d - 1}->{d} into layer {d - 1}")
            skips = [s for s in preds[d] if s != d - 1]
            layers.append(EnasLayer(arch.ops[d], channels, skips, normalise=d > 1))
        self.layers = nn.ModuleList(layers)
        self.head = ClassifierHead(channels, num_classes, pre="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [self.stem(x)]
        for layer in self.layers:
            values.append(layer(values))
        return self.head(values[-1])
