"""Building blocks shared by the network builders.

Every block maps ``(N, C, H, W)`` to ``(N, C_out, H', W')``; the cell operations keep the
spatial size (stride 1, "same" padding), the reduction blocks halve it rounding up, so every
network runs on any input of at least 8x8 pixels.
"""
from __future__ import annotations

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError


def check_network_args(num_classes: int, in_channels: int, **widths: int) -> None:
    """Raise :class:`ArchitectureError` unless ``num_classes >= 2``, ``in_channels >= 1`` and
    every named width in ``widths`` is a positive integer."""
    if not _is_int(num_classes) or num_classes < 2:
        raise ArchitectureError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if not _is_int(in_channels) or in_channels < 1:
        raise ArchitectureError(f"in_channels must be an integer >= 1, got {in_channels!r}")
    for name, value in widths.items():
        if not _is_int(value) or value < 1:
            raise ArchitectureError(f"{name} must be a positive integer, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ReLUConvBN(nn.Sequential):
    """ReLU, then a bias-free convolution with "same" padding, then BatchNorm (NB201's
    ``nor_conv`` and the ENAS convolutions)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class ConvBNReLU(nn.Sequential):
    """Bias-free convolution with "same" padding, BatchNorm, ReLU (NB101's ops and projections)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=False),
        )


class ReLUSepConvBN(nn.Sequential):
    """ReLU, depthwise ``k x k`` convolution, pointwise ``1 x 1`` convolution, BatchNorm."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, padding=kernel_size // 2, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` operation: zeros of the input's shape (keeps the autograd graph)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def pool3x3(kind: str) -> nn.Module:
    """A 3x3, stride-1, padding-1 pooling; ``kind`` is ``"avg"`` (padding not counted) or ``"max"``."""
    if kind == "avg":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if kind == "max":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"pool kind must be 'avg' or 'max', got {kind!r}")


def halve() -> nn.Module:
    """A 2x2, stride-2 max pool rounding the output size up (TF's "same" padding)."""
    return nn.MaxPool2d(2, stride=2, ceil_mode=True)


class ResidualReduction(nn.Module):
    """NB201's residual block between stages: two ReLU-Conv3x3-BN (the first with stride 2)
    plus a shortcut of 2x2 average pooling and a bias-free 1x1 convolution."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(
            # ceil_mode matches the strided convolution's size ceil(H / 2) for odd H too
            nn.AvgPool2d(2, stride=2, ceil_mode=True),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class Stem(nn.Sequential):
    """A bias-free 3x3 convolution and BatchNorm, optionally followed by ReLU."""

    def __init__(self, c_in: int, c_out: int, *, relu: bool = False) -> None:
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                   nn.BatchNorm2d(c_out)]
        if relu:
            layers.append(nn.ReLU(inplace=False))
        super().__init__(*layers)


class ClassifierHead(nn.Module):
    """Optional ``pre`` activation (``"none"``, ``"relu"`` or ``"bn_relu"``), global average
    pooling and a linear classifier: ``(N, C, H, W) -> (N, num_classes)``."""

    def __init__(self, channels: int, num_classes: int, *, pre: str = "none") -> None:
        super().__init__()
        if pre == "bn_relu":
            self.pre: nn.Module = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=False))
        elif pre == "relu":
            self.pre = nn.ReLU(inplace=False)
        elif pre == "none":
            self.pre = nn.Identity()
        else:
            raise ValueError(f"pre must be 'none', 'relu' or 'bn_relu', got {pre!r}")
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.pre(x)).flatten(1))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (BatchNorm's affine weights included, running stats not)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
