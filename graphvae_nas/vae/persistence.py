"""Saving and loading trained VAEs: one file with weights, config and search space."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.permissions import give_default_permissions
from graphvae_nas.spaces import SearchSpace, space_from_spec
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.model import GraphVAE

MODEL_FORMAT = "graphvae_nas.vae"
MODEL_VERSION = 1


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        give_default_permissions(tmp)  # mkstemp creates 0600; models get 0644 like datasets
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_payload(model: GraphVAE, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`save_model` writes: format tag, config, space spec, weights and ``extra``."""
    return {"format": MODEL_FORMAT, "version": MODEL_VERSION, "config": model.config.to_dict(),
            "space": model.space.spec(),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "extra": dict(extra or {})}


def save_model(model: GraphVAE, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write a trained model (atomically). ``extra`` holds e.g. training-latent statistics."""
    atomic_torch_save(model_payload(model, extra), path)


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The checked payload of a model or checkpoint file (raises with the reason)."""
    path = str(path)
    if not os.path.exists(path):
        raise GraphVAENASError(f"{path}: no such model file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for corrupt files
        raise GraphVAENASError(f"{path}: not a readable model file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise GraphVAENASError(f"{path}: not a graphvae_nas VAE file")
    if payload.get("version") != MODEL_VERSION:
        raise GraphVAENASError(
            f"{path}: model file version {payload.get('version')!r}; this graphvae_nas reads "
            f"version {MODEL_VERSION}")
    return payload


def load_model(path: str | Path, space: SearchSpace | None = None,
               device: str | torch.device = "cpu") -> tuple[GraphVAE, dict[str, Any]]:
    """Rebuild a saved model (and return its ``extra``); ``space``, if given, must match."""
    payload = read_model_file(path)
    file_space = space_from_spec(payload["space"])
    if space is not None and space.spec() != file_space.spec():
        raise GraphVAENASError(
            f"{path}: model was trained on space {file_space.spec()}, not {space.spec()}")
    model = GraphVAE(file_space, VAEConfig.from_dict(payload["config"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise GraphVAENASError(f"{path}: weights do not fit the saved config ({exc})") from None
    return model.to(device).eval(), payload.get("extra", {})
