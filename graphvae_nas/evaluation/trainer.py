"""Train one network on an image classification split and measure it.

NAS-Bench-201's recipe is the default: SGD with Nesterov momentum 0.9, weight decay 5e-4,
learning rate 0.1 annealed to 0 by a cosine schedule, batch 256, random crop (padding 4) and
horizontal flip on 32x32 images. On a GPU the whole split is kept on the device when it fits,
activations run in bf16 autocast with channels-last memory layout, and ``torch.compile`` is
optional. Every random choice comes from ``config.seed``: on CPU a run is bit-reproducible.

A loss that turns NaN/inf raises :class:`TrainingDiverged`; callers that run searches turn
that (and out-of-memory) into a failed evaluation rather than a crash.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.images import ImageData


class TrainingDiverged(GraphVAENASError):
    """The training loss became NaN or infinite."""


@dataclass
class TrainingConfig:
    """How to train a network (defaults: NAS-Bench-201's recipe).

    ``augment``: random crop + flip (``None``: on for 32x32 colour images, off otherwise);
    ``bf16`` / ``channels_last``: ``None`` means on when training on a GPU;
    ``device``: ``None`` picks CUDA when available; ``compile``: ``True`` for ``torch.compile``
    with its default mode, or a mode name (``"reduce-overhead"`` replays CUDA graphs, which
    removes the kernel-launch cost that dominates small networks on a GPU).
    """

    epochs: int = 200
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = True
    augment: bool | None = None
    seed: int = 0
    device: str | None = None
    bf16: bool | None = None
    channels_last: bool | None = None
    compile: bool | str = False
    eval_batch_size: int = 1024

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise GraphVAENASError(f"training config: {name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise GraphVAENASError(f"training config: lr must be positive, got {self.lr}")

    def check_data(self, data: ImageData) -> None:
        """Raise when the batch size exceeds the training split."""
        if self.batch_size > len(data.train_y):
            raise GraphVAENASError(f"batch size {self.batch_size} is larger than the training split of "
                                   f"{data.name} ({len(data.train_y)} images)")

    def resolved_device(self) -> torch.device:
        if self.device:
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_flops(module: nn.Module, sample: torch.Tensor) -> int:
    """Forward FLOPs of one input image (torch's flop counter; a multiply-add counts 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = module.training
    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(sample[:1])
    module.train(was_training)
    return int(counter.get_total_flops())


def _augment(x: torch.Tensor, generator: torch.Generator, flip: bool) -> torch.Tensor:
    """Random crop with 4 pixels of zero padding, and a random horizontal flip, batched."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator, device=generator.device)
    dx = torch.randint(0, 9, (n,), generator=generator, device=generator.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])  # n, h
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])  # n, w
    if flip:
        mirror = torch.rand(n, generator=generator, device=generator.device) < 0.5
        cols = torch.where(mirror[:, None], cols.flip(1), cols)
    index = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[index, channel, rows[:, None, :, None], cols[:, None, None, :]]


def _fits_on_device(data: ImageData, device: torch.device) -> bool:
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    size = sum(t.numel() * t.element_size() for t in (data.train_x, data.valid_x, data.test_x))
    return size < 0.25 * free


def _macro_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(target.cpu().numpy(), pred.cpu().numpy(), labels=list(range(num_classes)),
                          average="macro", zero_division=0))


class _Runner:
    """The device, precision and layout choices of one training run."""

    def __init__(self, config: TrainingConfig) -> None:
        self.device = config.resolved_device()
        gpu = self.device.type == "cuda"
        self.bf16 = gpu if config.bf16 is None else config.bf16
        self.channels_last = gpu if config.channels_last is None else config.channels_last

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, runner: _Runner,
              batch_size: int, num_classes: int) -> dict[str, float]:
    model.eval()
    loss_sum, preds = 0.0, []
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            xb = runner.inputs(x[start:start + batch_size])
            yb = y[start:start + batch_size].to(runner.device)
            with runner.autocast():
                logits = model(xb)
            loss_sum += float(nn.functional.cross_entropy(logits.float(), yb, reduction="sum"))
            preds.append(logits.argmax(1))
    pred = torch.cat(preds).cpu()
    return {"loss": loss_sum / len(y), "acc": 100.0 * float((pred == y.cpu()).double().mean()),
            "f1": 100.0 * _macro_f1(pred, y, num_classes)}


def train_network(module: nn.Module, data: ImageData, config: TrainingConfig, *,
                  progress: bool = False,
                  on_epoch: Callable[[int, float, float], None] | None = None) -> dict[str, Any]:
    """Train ``module`` on ``data.train``, then measure it on every split.

    ``on_epoch(epoch, mean_loss, seconds)`` is called after each epoch (1-based).

    Returns a metrics record: ``train_acc/valid_acc/test_acc`` (%), ``valid_f1/test_f1``
    (macro F1, %), ``train_loss/valid_loss/test_loss``, ``params``, ``flops`` (per image,
    forward), ``seconds``, ``epochs`` and ``device``. Raises :class:`TrainingDiverged` when
    the loss stops being finite.
    """
    return train_network_until(module, data, config, progress=progress, on_epoch=on_epoch)[0]


def train_network_until(module: nn.Module, data: ImageData, config: TrainingConfig, *,
                        until: int | None = None, state: dict[str, Any] | None = None,
                        progress: bool = False,
                        on_epoch: Callable[[int, float, float], None] | None = None
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`train_network` for part of a schedule: train ``module`` through epoch ``until``
    (default: ``config.epochs``) of the schedule planned for ``config.epochs``, starting from
    ``state`` (what an earlier call returned, or None to start at epoch 0), then measure it.

    Returns the metrics record (``epochs``: the epochs done in all; ``seconds``: this call's)
    and the state to continue from: the model's, optimizer's and scheduler's state dicts,
    the data-order and augmentation generators' states and the epoch reached, all tensors and
    plain values (``torch.load(..., weights_only=True)`` reads it back). Continuing gives the
    same network as one uninterrupted training on a CPU.
    """
    config.check_data(data)
    until = config.epochs if until is None else until
    done = 0 if state is None else int(state["epoch"])
    if not done <= until <= config.epochs or until < 1:
        raise GraphVAENASError(f"cannot train from epoch {done} through {until} of a "
                               f"{config.epochs}-epoch schedule")
    start = time.perf_counter()
    runner = _Runner(config)
    if runner.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    torch.manual_seed(config.seed)
    generator = torch.Generator(device="cpu").manual_seed(config.seed)
    model = module.to(runner.device)
    if runner.channels_last:
        model = model.to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    flops = count_flops(model, runner.inputs(data.train_x[:1]))
    step = model
    if config.compile:
        step = torch.compile(model, mode=config.compile if isinstance(config.compile, str) else None)
    graphs = config.compile == "reduce-overhead"

    on_device = _fits_on_device(data, runner.device)
    train_x = data.train_x.to(runner.device) if on_device else data.train_x
    train_y = data.train_y.to(runner.device) if on_device else data.train_y
    augment = config.augment if config.augment is not None else (
        data.in_channels == 3 and min(data.image_size) >= 32)
    aug_gen = torch.Generator(device=train_x.device).manual_seed(config.seed + 1)

    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay, nesterov=config.nesterov)
    steps_per_epoch = math.ceil(len(train_y) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        aug_gen.set_state(state["aug_generator"])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=until - done, desc="train", unit="epoch", leave=False)
    loss_sum = torch.zeros((), device=runner.device)
    for epoch in range(done, until):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_y), generator=generator).to(train_x.device)
        loss_sum.zero_()
        for first in range(0, len(order), config.batch_size):
            index = order[first:first + config.batch_size]
            xb, yb = train_x[index], train_y[index]
            if augment:
                xb = _augment(xb, aug_gen, flip=True)
            xb, yb = runner.inputs(xb), yb.to(runner.device, non_blocking=True)
            if graphs:
                torch.compiler.cudagraph_mark_step_begin()
            with runner.autocast():
                loss = nn.functional.cross_entropy(step(xb).float(), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.detach() * len(yb)
        epoch_loss = float(loss_sum) / len(train_y)  # one device sync per epoch
        if not math.isfinite(epoch_loss):
            raise TrainingDiverged(f"training loss became {epoch_loss} in epoch {epoch + 1}")
        if on_epoch is not None:
            on_epoch(epoch + 1, epoch_loss, time.perf_counter() - epoch_start)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{epoch_loss:.3f}")
    if bar is not None:
        bar.close()

    record: dict[str, Any] = {}
    for split, x, y in (("train", data.train_x, data.train_y), ("valid", data.valid_x, data.valid_y),
                        ("test", data.test_x, data.test_y)):
        result = _evaluate(model, x, y, runner, config.eval_batch_size, data.num_classes)
        record[f"{split}_acc"] = result["acc"]
        record[f"{split}_loss"] = result["loss"]
        if split != "train":
            record[f"{split}_f1"] = result["f1"]
    if not math.isfinite(record["valid_loss"]):
        raise TrainingDiverged(f"validation loss is {record['valid_loss']} after training")
    record.update(params=params, flops=flops, seconds=time.perf_counter() - start,
                  epochs=until, device=str(runner.device))
    return record, {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(), "aug_generator": aug_gen.get_state().cpu(),
                    "epoch": until}
