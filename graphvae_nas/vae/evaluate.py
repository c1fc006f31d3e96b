"""One call for the full D-VAE-style evaluation of a trained VAE.

This module composes the VAE metrics with the GP surrogate (``graphvae_nas.surrogates``, a
leaf of layer 4 that knows nothing of the VAE), so the VAE package depends on it only here.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.vae.allocator import retain_freed_memory
from graphvae_nas.vae.metrics import (
    encode_means,
    prior_metrics,
    reconstruction_accuracy,
)
from graphvae_nas.vae.model import GraphVAE
from graphvae_nas.vae.trainer import autocast_context


def evaluate_vae(model: GraphVAE, train: ArchitectureDataset, test: ArchitectureDataset, *,
                 metric: str | None = None, encode_times: int = 10, decode_times: int = 10,
                 prior_samples: int = 1000, seed: int = 0, precision: str = "auto",
                 predictive: bool = True, predictive_train: int | None = None,
                 progress: bool = False,
                 on_generative: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """``recon_acc`` on ``test``; ``validity``/``uniqueness``/``novelty`` of prior decodes
    (against ``train``); with ``metric`` and ``predictive``, ``rmse``/``pearson`` of a GP on the
    training latent means predicting ``metric`` on the test graphs (the slow step on large
    sets: ``progress`` shows its optimiser steps on stderr; ``predictive_train`` fits it on a
    seeded random subset of that many training graphs instead of all). Timings in
    ``seconds``. ``on_generative`` receives the result so far before the GP is fitted (e.g. to
    save it: on 180,000 latents the fit takes about an hour of one CPU thread)."""
    model.eval()
    if model.device.type == "cpu":
        retain_freed_memory()
    seconds: dict[str, float] = {}
    result: dict[str, Any] = {"train": len(train), "test": len(test)}
    with autocast_context(model.device, precision):
        start = time.perf_counter()
        result["recon_acc"] = reconstruction_accuracy(
            model, test.archs, encode_times=encode_times, decode_times=decode_times, seed=seed)
        seconds["reconstruction"] = time.perf_counter() - start
        start = time.perf_counter()
        train_mu, _ = encode_means(model, train.archs)
        result.update(prior_metrics(model, train_mu, train.hashes, num_samples=prior_samples,
                                    decode_times=decode_times, seed=seed))
        seconds["prior"] = time.perf_counter() - start
    seconds["generative_total"] = seconds["reconstruction"] + seconds["prior"]
    result["rmse"] = result["pearson"] = None
    result["seconds"] = seconds
    if on_generative is not None:
        on_generative({**result, "seconds": dict(seconds)})
    if metric is not None and predictive:
        start = time.perf_counter()
        with autocast_context(model.device, precision):
            test_mu, _ = encode_means(model, test.archs)
        y_train, y_test = train.metric(metric), test.metric(metric)
        keep_train, keep_test = ~np.isnan(y_train), ~np.isnan(y_test)
        if predictive_train is not None and predictive_train < int(keep_train.sum()):
            rows = np.flatnonzero(keep_train)
            chosen = np.random.default_rng(seed).choice(rows, predictive_train, replace=False)
            keep_train = np.zeros_like(keep_train)
            keep_train[chosen] = True
        from tqdm.auto import tqdm

        from graphvae_nas.surrogates import predictive_performance

        bar = tqdm(desc=f"GP on {int(keep_train.sum())} latents", unit="L-BFGS step",
                   disable=not progress)
        try:
            score = predictive_performance(train_mu.double().cpu()[torch.from_numpy(keep_train)],
                                           y_train[keep_train],
                                           test_mu.double().cpu()[torch.from_numpy(keep_test)],
                                           y_test[keep_test], seed=seed,
                                           callback=lambda *_: bar.update(1))
        finally:
            bar.close()
        result.update(rmse=score.rmse, pearson=score.pearson, metric=metric,
                      gp_train=int(keep_train.sum()))
        seconds["predictive"] = time.perf_counter() - start
    result["seconds"] = seconds
    return result


def comparison_report(published: dict[str, float], ours: dict[str, Any],
                      targets: dict[str, tuple[str, float]]) -> list[str]:
    """Lines of a table of D-VAE's published generative metrics beside ``ours`` (from
    :func:`evaluate_vae`), then which ``targets`` (``{metric: (">=" | "<=", value)}``) are met."""
    lines = [f"{'':22s}{'recon':>8s}{'valid':>8s}{'unique':>8s}{'novel':>8s}{'RMSE':>8s}{'Pearson':>9s}"]
    for name, row in (("D-VAE (published)", published), ("graphvae_nas (ours)", ours)):
        lines.append(f"{name:22s}{100 * row['recon_acc']:7.2f}%{100 * row['validity']:7.2f}%"
                     f"{100 * row['uniqueness']:7.2f}%{100 * row['novelty']:7.2f}%"
                     f"{row['rmse']:8.3f}{row['pearson']:9.3f}")
    met = {k: (ours[k] >= v if op == ">=" else ours[k] <= v) for k, (op, v) in targets.items()}
    lines.append("targets met: " + ", ".join(f"{k} {'yes' if ok else 'NO'}" for k, ok in met.items()))
    return lines
