"""Saving and loading trained VAEs and training checkpoints, safely.

File format (version 2): a ``torch.save`` archive holding only a dict of plain values::

    {"format": "graphvae_nas.vae", "version": 2, "meta": "<JSON text>",
     "tensors": {"t0": tensor, "t1": tensor, ...}, "sha256": "<hex>"}

It is read with ``torch.load(weights_only=True)``, which unpickles nothing but tensors and
builtin containers, so a crafted file cannot run code. ``meta`` is JSON (config, space spec,
``extra``, training state) in which every tensor is a reference ``{"__tensor__": "tN"}``.
``sha256`` covers the JSON text and every tensor's name, dtype, shape and bytes, so damaged
bytes are reported instead of loading changed weights.

Version-1 files (before checksums) are refused with the command that converts them:
``graphvae-nas vae convert OLD NEW`` reads them with ``weights_only=True`` too (never running
code) and writes version 2.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.files import atomic_write
from graphvae_nas.spaces import SearchSpace, same_architectures, same_shape, space_from_spec
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.model import GraphVAE

MODEL_FORMAT = "graphvae_nas.vae"
MODEL_VERSION = 2
_TENSOR, _TUPLE, _ITEMS = "__tensor__", "__tuple__", "__items__"


# ------------------------------------------------------------------------------ encoding
def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """``obj`` as JSON-ready data; tensors move into ``tensors`` and leave a reference."""
    if isinstance(obj, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = obj.detach().cpu().contiguous()
        return {_TENSOR: name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {_TUPLE: [_encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and k not in (_TENSOR, _TUPLE, _ITEMS) for k in obj):
            return {k: _encode(v, tensors) for k, v in obj.items()}
        return {_ITEMS: [[_encode(k, tensors), _encode(v, tensors)] for k, v in obj.items()]}
    raise TypeError(f"cannot save a {type(obj).__name__} in a model file (only tensors, "
                    "numbers, strings, lists, tuples and dicts)")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if _TENSOR in obj:
            return tensors[obj[_TENSOR]]
        if _TUPLE in obj:
            return tuple(_decode(v, tensors) for v in obj[_TUPLE])
        if _ITEMS in obj:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in obj[_ITEMS]}
        return {k: _decode(v, tensors) for k, v in obj.items()}
    return obj


def _checksum(meta: str, tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256(meta.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------ files
def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename into place (only
    over a regular file or a new name: :func:`graphvae_nas.files.atomic_write`); the folder is
    created when missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save_payload(payload: dict[str, Any], path: str | Path, *, file_format: str = MODEL_FORMAT) -> None:
    """Write ``payload`` (tensors, numbers, strings, lists, tuples, dicts) atomically in the
    safe, checksummed format of the module docstring."""
    tensors: dict[str, torch.Tensor] = {}
    meta = json.dumps(_encode(payload, tensors), allow_nan=True)
    atomic_torch_save({"format": file_format, "version": MODEL_VERSION, "meta": meta,
                       "tensors": tensors, "sha256": _checksum(meta, tensors)}, path)


def _load_container(path: str) -> Any:
    if not os.path.exists(path):
        raise GraphVAENASError(f"{path}: no such model file")
    if os.path.isdir(path):
        raise GraphVAENASError(f"{path}: is a folder, not a model file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise GraphVAENASError(
            f"{path}: not a readable model file; it is damaged, or it holds objects other than "
            f"tensors and plain data, which are never loaded ({_load_failure(exc)})") from None


def _load_failure(exc: Exception) -> str:
    """Why torch could not load a file, without torch's advice to load it unsafely."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reasons = [line for line in lines if "weights_only" not in line and "arbitrary code" not in line
               and not line.startswith("Weights only load failed")]
    return reasons[0] if reasons else type(exc).__name__


def load_payload(path: str | Path, *, file_format: str = MODEL_FORMAT) -> dict[str, Any]:
    """The checked payload written by :func:`save_payload` (raises with the reason)."""
    path = str(path)
    container = _load_container(path)
    if not isinstance(container, dict) or container.get("format") != file_format:
        raise GraphVAENASError(f"{path}: not a {file_format} file")
    version = container.get("version")
    if version == 1:
        raise GraphVAENASError(
            f"{path}: model file version 1 (no checksum) is no longer read; convert it with "
            f"`graphvae-nas vae convert {path} NEW_FILE`")
    if version != MODEL_VERSION:
        raise GraphVAENASError(f"{path}: model file version {version!r}; this graphvae_nas reads "
                               f"version {MODEL_VERSION}")
    meta, tensors, stored = container.get("meta"), container.get("tensors"), container.get("sha256")
    if not isinstance(meta, str) or not isinstance(tensors, dict) or not isinstance(stored, str) \
            or not all(isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in tensors.items()):
        raise GraphVAENASError(f"{path}: malformed model file (meta, tensors or sha256 missing)")
    if _checksum(meta, tensors) != stored:
        raise GraphVAENASError(f"{path}: checksum mismatch, the file is damaged")
    try:
        return _decode(json.loads(meta), tensors)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GraphVAENASError(f"{path}: malformed model file ({exc})") from None


def convert_v1(old: str | Path, new: str | Path) -> None:
    """Rewrite a version-1 model or checkpoint file in the current format. The old file is
    read with ``weights_only=True``: one holding anything but tensors and plain data is refused."""
    container = _load_container(str(old))
    if not isinstance(container, dict) or container.get("format") != MODEL_FORMAT:
        raise GraphVAENASError(f"{old}: not a graphvae_nas VAE file")
    if container.get("version") != 1:
        raise GraphVAENASError(f"{old}: version {container.get('version')!r}, not 1; nothing to convert")
    payload = {k: v for k, v in container.items() if k not in ("format", "version")}
    save_payload(payload, new)


# ------------------------------------------------------------------------------ models
def model_payload(model: GraphVAE, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`save_model` writes: config, space spec, weights and ``extra``."""
    return {"config": model.config.to_dict(), "space": model.space.spec(),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "extra": dict(extra or {})}


def save_model(model: GraphVAE, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write a trained model (atomically). ``extra`` holds e.g. training-latent statistics:
    tensors, numbers, strings and containers of them."""
    save_payload(model_payload(model, extra), path)


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The checked payload of a model or checkpoint file (raises with the reason)."""
    payload = load_payload(path)
    for key in ("config", "space", "state_dict"):
        if key not in payload:
            raise GraphVAENASError(f"{path}: model file lacks {key!r}")
    return payload


def load_model(path: str | Path, space: SearchSpace | None = None,
               device: str | torch.device = "cpu", *,
               relabel: bool = False) -> tuple[GraphVAE, dict[str, Any]]:
    """Rebuild a saved model (and return its ``extra``); ``space``, if given, must match. With
    ``relabel`` a space of the same shape is enough (e.g. other names of bn's variables, variable
    ``i`` for variable ``i``; see :func:`~graphvae_nas.spaces.shape_spec`)."""
    payload = read_model_file(path)
    file_space = space_from_spec(payload["space"])
    if space is not None:
        fits = same_shape if relabel else same_architectures
        if not fits(space, file_space):
            raise GraphVAENASError(
                f"{path}: model was trained on space {file_space.spec()}, not {space.spec()}")
        file_space = space   # the same architectures; the caller's sampler settings
    model = GraphVAE(file_space, VAEConfig.from_dict(payload["config"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise GraphVAENASError(f"{path}: weights do not fit the saved config ({exc})") from None
    return model.to(device).eval(), payload.get("extra", {})
