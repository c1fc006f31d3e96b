"""Networks for generic DAG spaces: a registry of op factories and a stacked-cell network.

``register_op(name, factory)`` makes the op label ``name`` buildable; ``factory(channels)``
returns a module mapping ``(N, channels, H, W)`` to the same shape. The ops of the built-in
spaces (NB101, NB201, ENAS names) and ``identity`` / ``zero`` are registered already.

The network: 3x3 conv-BN stem to ``channels``; ``num_cells`` copies of the cell; ReLU, global
average pooling and a linear classifier. In the cell the input node holds the cell's input,
every inner node applies its op to the sum of its predecessors' outputs, and the output node
averages its predecessors' outputs.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.networks.enas import ENAS_OPS, enas_op
from graphvae_nas.networks.nb101 import NB101_OPS, nb101_op
from graphvae_nas.networks.nb201 import nb201_op
from graphvae_nas.networks.ops import (
    ClassifierHead,
    ReLUConvBN,
    Stem,
    Zero,
    check_network_args,
)

OpFactory = Callable[[int], nn.Module]
"""``factory(channels)`` -> a module keeping the shape ``(N, channels, H, W)``."""

_RESERVED = ("input", "output")
_FACTORIES: dict[str, OpFactory] = {}


def register_op(name: str, factory: OpFactory) -> None:
    """Build nodes labelled ``name`` with ``factory(channels)`` (replaces an earlier factory)."""
    if not isinstance(name, str) or not name:
        raise ArchitectureError(f"op name must be a non-empty string, got {name!r}")
    if name in _RESERVED:
        raise ArchitectureError(f"{name!r} is a reserved node label, not an op")
    if not callable(factory):
        raise ArchitectureError(f"factory for op {name!r} is not callable: {factory!r}")
    _FACTORIES[name] = factory


def unregister_op(name: str) -> None:
    """Forget the factory of ``name`` (no error when there is none)."""
    _FACTORIES.pop(name, None)


def registered_ops() -> list[str]:
    """Names of the ops that have a factory, sorted."""
    return sorted(_FACTORIES)


def build_op(name: str, channels: int) -> nn.Module:
    """The module of op ``name``; raises :class:`ArchitectureError` if it has no factory."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ArchitectureError(
            f"no network module registered for op {name!r} (registered: {registered_ops()}); "
            "add one with graphvae_nas.networks.register_op(name, factory)")
    module = factory(channels)
    if not isinstance(module, nn.Module):
        raise ArchitectureError(
            f"factory of op {name!r} returned {type(module).__name__}, not a torch.nn.Module")
    return module


class _ShapeKeeping(nn.Module):
    """Runs an op and raises a clear error when it changes the tensor's shape."""

    def __init__(self, name: str, op: nn.Module) -> None:
        super().__init__()
        self.name = name
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.op(x)
        if y.shape != x.shape:
            raise ArchitectureError(
                f"op {self.name!r} changed the shape {tuple(x.shape)} to {tuple(y.shape)}; "
                "a registered op must keep (N, C, H, W)")
        return y


class GenericCell(nn.Module):
    """One cell of ``arch``: inner nodes sum their inputs and apply their op, the output
    node averages its inputs."""

    def __init__(self, arch: Architecture, channels: int) -> None:
        super().__init__()
        self.preds = arch.predecessors()
        self.ops = nn.ModuleList(
            _ShapeKeeping(op, build_op(op, channels)) for op in arch.ops[1:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [x]
        for v, op in enumerate(self.ops, start=1):
            values.append(op(sum(values[s] for s in self.preds[v])))
        inputs = self.preds[-1]
        return sum(values[s] for s in inputs) / len(inputs)


class GenericNetwork(nn.Module):
    """``num_cells`` stacked copies of the cell ``arch`` at constant width ``channels``."""

    def __init__(self, arch: Architecture, num_classes: int, *, in_channels: int = 3,
                 channels: int = 16, num_cells: int = 3) -> None:
        check_network_args(num_classes, in_channels, channels=channels, num_cells=num_cells)
        missing = sorted({op for op in arch.ops[1:-1] if op not in _FACTORIES})
        if missing:
            raise ArchitectureError(
                f"no network module registered for op(s) {missing} "
                f"(registered: {registered_ops()}); "
                "add them with graphvae_nas.networks.register_op(name, factory)")
        super().__init__()
        self.stem = Stem(in_channels, channels)
        self.cells = nn.Sequential(*(GenericCell(arch, channels) for _ in range(num_cells)))
        self.head = ClassifierHead(channels, num_classes, pre="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


def _register_builtins() -> None:
    for name in ENAS_OPS:
        register_op(name, lambda c, name=name: enas_op(name, c))
    for name in NB101_OPS:
        register_op(name, lambda c, name=name: nb101_op(name, c))
    for name in ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none"):
        register_op(name, lambda c, name=name: nb201_op(name, c))
    register_op("conv1x1", lambda c: ReLUConvBN(c, c, 1))
    register_op("identity", lambda c: nn.Identity())
    register_op("zero", lambda c: Zero())


_register_builtins()
