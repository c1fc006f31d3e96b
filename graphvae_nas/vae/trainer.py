"""Training the graph VAE: Adam with reduce-on-plateau, seeded, resumable, per-epoch atomic
checkpoints, a progress bar, the GPU when there is one and bf16 autocast where it is fast."""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.locking import exclusive_lock
from graphvae_nas.threads import DEFAULT_THREADS, cpu_threads
from graphvae_nas.vae.allocator import retain_freed_memory
from graphvae_nas.vae.batch import DenseGraphs
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.model import GraphVAE
from graphvae_nas.vae.persistence import model_payload, read_model_file, save_payload

PRECISIONS = ("auto", "fp32", "bf16")
SCHEDULES = ("plateau", "cosine")


@dataclass
class TrainConfig:
    """Training settings; the defaults are D-VAE's (batch 32, lr 1e-4, plateau factor 0.1
    with patience 10 on the epoch loss). ``restore_best`` ends training with the weights of the
    epoch of lowest loss (a loss spike late in training then costs nothing). ``threads``: CPU
    intra-op threads while training (default 1, see :mod:`graphvae_nas.threads`; ``None`` keeps
    torch's setting)."""

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-4
    seed: int = 0
    threads: int | None = DEFAULT_THREADS
    device: str = "auto"
    precision: str = "auto"
    plateau_factor: float = 0.1
    plateau_patience: int = 10
    time_budget_s: float | None = None
    progress: bool = True
    restore_best: bool = False
    schedule: str = "plateau"
    """``plateau``: D-VAE's reduce-on-plateau; ``cosine``: the learning rate falls from ``lr``
    to 0 along a half cosine over the planned ``epochs``, step by step (better in a fixed
    number of epochs, see :data:`graphvae_nas.vae.default_model.SPACE_TRAINING`)."""

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.epochs < 0 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs >= 0, batch_size >= 1 and lr > 0 are required")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 (or None: torch's setting), got {self.threads}")


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: the first CUDA GPU when one is available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_is_fast(device: torch.device) -> bool:
    """Whether bf16 matrix products beat fp32 here (CUDA with bf16, or AVX512-BF16/AMX CPUs)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(probe and probe())


def autocast_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast when asked (or ``auto`` and fast), else a no-op context."""
    use_bf16 = precision == "bf16" or (precision == "auto" and bf16_is_fast(device))
    if not use_bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _as_graphs(model: GraphVAE, data: DenseGraphs | Sequence[Architecture]) -> DenseGraphs:
    graphs = data if isinstance(data, DenseGraphs) else model.batch(list(data))
    if len(graphs) == 0:
        raise GraphVAENASError("the training set is empty")
    return graphs.to(model.device)


def train_vae(model: GraphVAE, data: DenseGraphs | Sequence[Architecture], config: TrainConfig,
              *, checkpoint: str | Path | None = None, resume: bool = False,
              on_epoch: Callable[[dict[str, Any]], None] | None = None,
              targets: torch.Tensor | Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Train ``model`` in place; returns the per-epoch history. On the CPU, freed memory is
    kept in the process for the next step (:func:`~graphvae_nas.vae.allocator.retain_freed_memory`).

    With ``checkpoint`` the full state (weights, optimiser, scheduler, random generators,
    history) is written atomically after every epoch; ``resume=True`` continues from it and
    gives the same result as an uninterrupted run. A NaN or infinite loss stops training with
    an error; the last checkpoint is kept. With ``config.restore_best`` the checkpoint also
    holds the weights of the best epoch so far, and the model ends with them. While training,
    ``CHECKPOINT.lock`` is locked: a second process training into the same checkpoint is refused.
    ``config.threads`` CPU threads (default 1, see :mod:`graphvae_nas.threads`) are used during
    training only; torch's setting is restored afterwards.

    ``targets`` (one score per graph of ``data``, standardised by the caller) train the
    model's predictor head (``model.config.predictor_weight`` > 0); without them the head is
    not trained (a search's retraining of the VAE on its picks), and a model without a head
    refuses them.
    """
    with contextlib.ExitStack() as scope:
        scope.enter_context(cpu_threads(config.threads))
        if checkpoint is not None:
            scope.enter_context(exclusive_lock(
                f"{checkpoint}.lock", what=f"checkpoint {checkpoint}",
                hint="another training writes it; wait for it or choose another checkpoint"))
        return _train(model, data, config, checkpoint, resume, on_epoch, targets)


def _checked_targets(model: GraphVAE, targets: torch.Tensor | Sequence[float] | None,
                     count: int) -> torch.Tensor | None:
    if model.predictor is None:
        if targets is not None:
            raise GraphVAENASError("targets were given but the model has no predictor head "
                                   "(VAEConfig.predictor_weight is 0)")
        return None
    if targets is None:   # e.g. a search's retraining on its picks: the head is left as it is
        return None
    values = torch.as_tensor(targets, dtype=torch.float32).reshape(-1)
    if len(values) != count:
        raise GraphVAENASError(f"got {len(values)} targets for {count} training graphs")
    if not torch.isfinite(values).all():
        raise GraphVAENASError("targets contain NaN or infinity")
    return values.to(model.device)


def _train(model: GraphVAE, data: DenseGraphs | Sequence[Architecture], config: TrainConfig,
           checkpoint: str | Path | None, resume: bool,
           on_epoch: Callable[[dict[str, Any]], None] | None,
           targets: torch.Tensor | Sequence[float] | None = None) -> list[dict[str, Any]]:
    device = pick_device(config.device)
    if device.type == "cpu":
        retain_freed_memory()
    model.to(device)
    graphs = _as_graphs(model, data)
    targets = _checked_targets(model, targets, len(graphs))
    shuffle_gen = torch.Generator().manual_seed(config.seed)
    noise_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    scheduler = _scheduler(optimizer, config, len(graphs))
    history: list[dict[str, Any]] = []
    start_epoch = 0
    best: dict[str, Any] | None = None    # with restore_best: epoch, loss and weights
    if resume:
        if checkpoint is None:
            raise GraphVAENASError("resume needs a checkpoint path")
        if os.path.exists(checkpoint):
            state = _load_checkpoint(checkpoint, model, config)
            _check_same_data(checkpoint, state, graphs)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            shuffle_gen.set_state(state["shuffle_gen"])
            noise_gen.set_state(state["noise_gen"].to(noise_gen.get_state().device))
            history = state["history"]
            best = state.get("best")
            start_epoch = len(history)
    num = len(graphs)
    already_spent = sum(h["seconds"] for h in history)  # the budget counts across resumes
    started = time.perf_counter()
    bar = _progress(config, start_epoch)
    try:
        for epoch in range(start_epoch, config.epochs):
            spent = already_spent + time.perf_counter() - started
            if config.time_budget_s is not None and spent > config.time_budget_s:
                break
            model.train()
            order = torch.randperm(num, generator=shuffle_gen).to(device)
            sums = torch.zeros(5, dtype=torch.float64)
            epoch_start = time.perf_counter()
            for first in range(0, num, config.batch_size):
                rows = order[first:first + config.batch_size]
                batch = graphs[rows]
                with autocast_context(device, config.precision):
                    parts = model.loss(batch, noise_gen,
                                       None if targets is None else targets[rows])
                if not torch.isfinite(parts.loss):
                    where = f"epoch {epoch + 1}, batch {first // config.batch_size + 1}"
                    kept = f"; the checkpoint {checkpoint} holds the last good epoch" if checkpoint else ""
                    raise GraphVAENASError(f"training loss became {parts.loss.item()} at {where}"
                                           f" (try a lower learning rate){kept}")
                optimizer.zero_grad(set_to_none=True)
                parts.loss.backward()
                optimizer.step()
                if config.schedule == "cosine":
                    scheduler.step()
                se = 0.0 if parts.predictor_se is None else parts.predictor_se.item()
                sums += torch.tensor([parts.loss.item(), -parts.type_ll.item(),
                                      -parts.edge_ll.item(), parts.kl.item(), se],
                                     dtype=torch.float64)
            seconds = time.perf_counter() - epoch_start
            record = {"epoch": epoch + 1, "loss": float(sums[0] / num), "type_nll": float(sums[1] / num),
                      "edge_nll": float(sums[2] / num), "kl": float(sums[3] / num),
                      **({} if targets is None else {"predictor_mse": float(sums[4] / num)}),
                      "lr": optimizer.param_groups[0]["lr"], "seconds": seconds,
                      "graphs_per_s": num / seconds}
            if config.schedule == "plateau":
                scheduler.step(record["loss"])
            history.append(record)
            if config.restore_best and (best is None or record["loss"] < best["loss"]):
                best = {"epoch": record["epoch"], "loss": record["loss"],
                        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            if checkpoint is not None:
                _save_checkpoint(checkpoint, model, optimizer, scheduler, shuffle_gen, noise_gen,
                                 history, config, best, data_fingerprint(graphs))
            if on_epoch is not None:
                on_epoch(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{record['loss']:.4f}", lr=f"{record['lr']:.1e}")
    finally:
        if bar is not None:
            bar.close()
    if best is not None and history and best["epoch"] != history[-1]["epoch"]:
        model.load_state_dict(best["state_dict"])
    model.eval()
    return history


def _scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, num: int) -> Any:
    """The learning-rate schedule of ``config`` (stepped per epoch on the loss, or per batch)."""
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience)
    total = max(1, config.epochs * math.ceil(num / config.batch_size))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total)))


def _progress(config: TrainConfig, start_epoch: int):
    if not config.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.epochs, initial=start_epoch, desc="vae train", unit="epoch")


def _save_checkpoint(path: str | Path, model: GraphVAE, optimizer: torch.optim.Optimizer,
                     scheduler: Any, shuffle_gen: torch.Generator, noise_gen: torch.Generator,
                     history: list[dict[str, Any]], config: TrainConfig,
                     best: dict[str, Any] | None, data: str) -> None:
    payload = model_payload(model)
    payload["train"] = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "shuffle_gen": shuffle_gen.get_state(),
                        "noise_gen": noise_gen.get_state().cpu(), "history": history,
                        "config": asdict(config), "best": best, "data": data}
    save_payload(payload, path)


def data_fingerprint(graphs: DenseGraphs) -> str:
    """A digest of the training graphs in their order (what a resumed training must see again)."""
    digest = hashlib.sha256(str(len(graphs)).encode())
    for tensor in (graphs.types, graphs.adj, graphs.num_nodes):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _check_same_data(path: str | Path, state: dict[str, Any], graphs: DenseGraphs) -> None:
    """A checkpoint resumes only on the data it was trained on (checkpoints written before
    the fingerprint existed are not checked)."""
    saved = state.get("data")
    if saved is not None and saved != data_fingerprint(graphs):
        raise GraphVAENASError(f"{path}: checkpoint was trained on other data than these "
                               f"{len(graphs)} architectures; resume with the same --dataset, "
                               "or train without --resume")


def _load_checkpoint(path: str | Path, model: GraphVAE, config: TrainConfig) -> dict[str, Any]:
    payload = read_model_file(path)
    # fields added later than the checkpoint take their defaults
    saved_config = {**VAEConfig().to_dict(), **payload["config"]}
    if payload["space"] != model.space.spec() or saved_config != model.config.to_dict():
        raise GraphVAENASError(
            f"{path}: checkpoint is of another model (space {payload['space']}, config "
            f"{payload['config']}); remove it or train without --resume")
    state = payload.get("train")
    if state is None:
        raise GraphVAENASError(f"{path}: a saved model, not a training checkpoint")
    saved = {"schedule": "plateau", **state["config"]}   # checkpoints before cosine: plateau
    keys = ("batch_size", "lr", "seed", "schedule") + (("epochs",) if config.schedule == "cosine" else ())
    for key in keys:
        if saved.get(key) != getattr(config, key):
            raise GraphVAENASError(
                f"{path}: checkpoint was trained with {key}={saved.get(key)!r}, not "
                f"{getattr(config, key)!r}; resume with the same settings")
    model.load_state_dict(payload["state_dict"])
    return state
