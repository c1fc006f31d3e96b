"""Image classification data for training architectures for real: digits and CIFAR-10/100.

``digits`` is scikit-learn's bundled copy of the UCI handwritten digits (1,797 grey 8x8
images, 10 classes, no download): the default on CPU-only machines. It is split, stratified by
class, into a fixed test set of 360 images (always drawn with seed 0, so test scores are
comparable across seeds), and of the remaining 1,437 images into 360 validation and 1,077
training images by ``seed``.

``cifar10`` / ``cifar100`` are read from the official CIFAR "python version" in a local folder:
the archive (``cifar-10-python.tar.gz`` / ``cifar-100-python.tar.gz``, read in place) or its
extracted folder (``cifar-10-batches-py/`` / ``cifar-100-python/``). The validation set is
held out of the 50,000 training images (5,000 by default, stratified, chosen by ``seed``); the
test set is the official test batch. :func:`fetch_dataset` downloads an archive and checks its
md5.

Images are float32 ``(N, C, H, W)``, standardised per channel with the mean and standard
deviation of the training split; labels are int64.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import pickle
import tarfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphvae_nas.errors import DataFormatError
from graphvae_nas.files import atomic_write

KNOWN_DATASETS = ("digits", "cifar10", "cifar100")
BASE_URL = "https://www.cs.toronto.edu/~kriz/"
# md5 of the official archives as published on https://www.cs.toronto.edu/~kriz/cifar.html
# (the same values are in torchvision's CIFAR10/CIFAR100 dataset classes).
ARCHIVE_MD5 = {
    "cifar10": "c58f30108f718f92721af3b95e74349a",
    "cifar100": "eb9058c3a382ffc7106e4002c42a8d85",
}
DIGITS_TEST_SIZE = 360
DIGITS_VALID_SIZE = 360
DIGITS_TEST_SEED = 0
CIFAR_VALID_SIZE = 5000
CIFAR_PIXELS = 3 * 32 * 32
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class _Cifar:
    """Where one CIFAR variant keeps its pickles and labels."""

    archive: str
    folder: str
    train_members: tuple[str, ...]
    test_member: str
    label_key: str
    num_classes: int


_CIFAR = {
    "cifar10": _Cifar("cifar-10-python.tar.gz", "cifar-10-batches-py",
                      tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "labels", 10),
    "cifar100": _Cifar("cifar-100-python.tar.gz", "cifar-100-python", ("train",), "test",
                       "fine_labels", 100),
}


@dataclass(frozen=True, eq=False)
class ImageData:
    """Train/valid/test images and labels of one dataset.

    ``mean`` and ``std`` are the per-channel statistics of the raw training images that all
    three splits were standardised with (raw = x * std + mean).
    """

    name: str
    train_x: torch.Tensor = field(repr=False)
    train_y: torch.Tensor = field(repr=False)
    valid_x: torch.Tensor = field(repr=False)
    valid_y: torch.Tensor = field(repr=False)
    test_x: torch.Tensor = field(repr=False)
    test_y: torch.Tensor = field(repr=False)
    num_classes: int
    seed: int
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.train_x.shape[2]), int(self.train_x.shape[3])

    def spec(self) -> dict[str, Any]:
        """What identifies this data in a study's store: name, split sizes and seed."""
        return {"name": self.name, "train": len(self.train_y), "valid": len(self.valid_y),
                "test": len(self.test_y), "seed": self.seed}


# ------------------------------------------------------------------------------------ loading
def load_image_data(name: str, data_dir: str | Path | None = None, *, seed: int = 0,
                    valid_size: int | None = None) -> ImageData:
    """Load ``digits``, ``cifar10`` or ``cifar100`` (see the module docstring for the splits).

    CIFAR needs ``data_dir`` holding the official archive or its extracted folder. Their
    pickles are only read from those official files that the user put there, and only with an
    unpickler that refuses anything but plain containers and numpy arrays.
    """
    key = _dataset_key(name, data_dir)
    if key == "digits":
        return _load_digits(seed, valid_size)
    info = _CIFAR[key]
    if data_dir is None:
        raise DataFormatError(f"{key} needs a data folder holding {info.archive} or {info.folder}/ "
                              f"(get it with `graphvae-nas data fetch {key} --data-dir DIR`)",
                              field="data_dir")
    train, test = _read_cifar(key, Path(data_dir))
    pool_size = len(train[1])
    size = _check_valid_size(CIFAR_VALID_SIZE if valid_size is None else valid_size, pool_size,
                             f"the {pool_size} training images", data_dir)
    valid_idx, train_idx = _stratified_holdout(train[1], size, np.random.default_rng(seed))
    images = train[0].reshape(-1, 3, 32, 32)
    return _standardised(key, info.num_classes, seed,
                         (images[train_idx], train[1][train_idx]),
                         (images[valid_idx], train[1][valid_idx]),
                         (test[0].reshape(-1, 3, 32, 32), test[1]))


def _dataset_key(name: str, data_dir: str | Path | None) -> str:
    """Normalise a dataset name; unknown names list the known ones."""
    key = str(name).strip().lower()
    if key not in KNOWN_DATASETS:
        raise DataFormatError(f"unknown image dataset {name!r}; known: {', '.join(KNOWN_DATASETS)}",
                              path=None if data_dir is None else str(data_dir), field="name")
    return key


def _check_valid_size(size: int, pool: int, what: str, data_dir: str | Path | None) -> int:
    """``size`` if it leaves at least one training image, else an error."""
    if not 1 <= size < pool:
        raise DataFormatError(f"valid_size {size} must be at least 1 and below {what}",
                              path=None if data_dir is None else str(data_dir), field="valid_size")
    return int(size)


def _stratified_holdout(labels: np.ndarray, size: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (held out, kept), both sorted; each class is held out in proportion to its size.

    Within each class the order is random; every image gets the key (rank + 0.5) / class size
    and the ``size`` smallest keys are held out, so every class is spread evenly.
    """
    n = len(labels)
    order = rng.permutation(n)
    by_class = order[np.argsort(labels[order], kind="stable")]
    sorted_labels = labels[by_class]
    first = np.searchsorted(sorted_labels, sorted_labels, side="left")
    last = np.searchsorted(sorted_labels, sorted_labels, side="right")
    key = (np.arange(n) - first + 0.5) / (last - first)
    ranked = by_class[np.lexsort((rng.random(n), key))]
    held = np.sort(ranked[:size])
    kept = np.sort(ranked[size:])
    return held, kept


def _standardised(name: str, num_classes: int, seed: int,
                  *splits: tuple[np.ndarray, np.ndarray]) -> ImageData:
    """Build :class:`ImageData` from raw (images, labels) of train, valid and test."""
    xs = [torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)) for x, _ in splits]
    ys = [torch.from_numpy(np.asarray(y, dtype=np.int64)) for _, y in splits]
    std, mean = torch.std_mean(xs[0], dim=(0, 2, 3), correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    for x in xs:
        x.sub_(mean.view(1, -1, 1, 1)).div_(std.view(1, -1, 1, 1))
    return ImageData(name, xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], num_classes=num_classes,
                     seed=seed, mean=tuple(mean.tolist()), std=tuple(std.tolist()))


# ------------------------------------------------------------------------------------- digits
def _digits_indices(seed: int, valid_size: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, valid, test) row indices into ``sklearn.datasets.load_digits()``."""
    from sklearn.datasets import load_digits

    labels = np.asarray(load_digits().target, dtype=np.int64)
    test, pool = _stratified_holdout(labels, DIGITS_TEST_SIZE,
                                     np.random.default_rng(DIGITS_TEST_SEED))
    size = _check_valid_size(DIGITS_VALID_SIZE if valid_size is None else valid_size, len(pool),
                             f"the {len(pool)} digits images outside the test set", None)
    valid, train = _stratified_holdout(labels[pool], size, np.random.default_rng(seed))
    return pool[train], pool[valid], test


def _load_digits(seed: int, valid_size: int | None) -> ImageData:
    """scikit-learn's 8x8 digits as (N, 1, 8, 8) splits."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)[:, None]
    labels = np.asarray(bunch.target, dtype=np.int64)
    splits = [(images[idx], labels[idx]) for idx in _digits_indices(seed, valid_size)]
    return _standardised("digits", 10, seed, *splits)


# -------------------------------------------------------------------------------------- CIFAR
Batch = tuple[np.ndarray, np.ndarray]


def _read_cifar(key: str, data_dir: Path) -> tuple[Batch, Batch]:
    """(train, test) raw batches of a CIFAR variant from its folder or archive in ``data_dir``."""
    info = _CIFAR[key]
    if not data_dir.exists():
        raise DataFormatError("data folder does not exist", path=str(data_dir))
    if not data_dir.is_dir():
        raise DataFormatError("data_dir must be a folder", path=str(data_dir))
    folder = data_dir if data_dir.name == info.folder else data_dir / info.folder
    archive = data_dir / info.archive
    if folder.is_dir():
        raw = _read_folder(folder, info)
    elif archive.is_file():
        raw = _read_archive(archive, info)
    else:
        raise DataFormatError(
            f"found neither the archive {info.archive} nor the extracted folder {info.folder}/ "
            f"(get them with `graphvae-nas data fetch {key} --data-dir {data_dir}`)",
            path=str(data_dir))
    train = [raw[m] for m in info.train_members]
    train_batch = (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]))
    return train_batch, raw[info.test_member]


def _read_folder(folder: Path, info: _Cifar) -> dict[str, Batch]:
    """Every needed batch of an extracted CIFAR folder."""
    raw = {}
    members = (*info.train_members, info.test_member)
    for member in members:
        path = folder / member
        if not path.is_file():
            raise DataFormatError(f"missing file {member!r} of the extracted CIFAR folder "
                                  f"(expected {', '.join(members)})", path=str(path))
        raw[member] = _batch_arrays(_unpickle(path.read_bytes(), str(path)), info, str(path))
    return raw


def _read_archive(archive: Path, info: _Cifar) -> dict[str, Batch]:
    """Every needed batch of a CIFAR tar.gz, streamed through once without extracting."""
    wanted = {f"{info.folder}/{m}": m for m in (*info.train_members, info.test_member)}
    raw: dict[str, Batch] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None or not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                where = f"{archive} (member {member.name})"
                raw[name] = _batch_arrays(_unpickle(data, where), info, where)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"corrupt archive ({type(exc).__name__}: {exc})",
                              path=str(archive)) from exc
    missing = [m for m in wanted if wanted[m] not in raw]
    if missing:
        raise DataFormatError(f"archive lacks {', '.join(missing)}", path=str(archive))
    return raw


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays, and nothing else."""

    ALLOWED = frozenset({
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(data: bytes, where: str) -> dict[str, Any]:
    """A CIFAR batch pickle as a dict with str keys."""
    try:
        obj = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # a broken pickle can raise almost anything
        raise DataFormatError(f"unreadable pickle ({type(exc).__name__}: {exc})",
                              path=where) from exc
    if not isinstance(obj, dict):
        raise DataFormatError(f"expected a pickled dict, got {type(obj).__name__}", path=where)
    return {(k.decode("latin-1") if isinstance(k, bytes) else str(k)): v for k, v in obj.items()}


def _batch_arrays(batch: dict[str, Any], info: _Cifar, where: str) -> Batch:
    """Checked (uint8 (N, 3072) images, int64 (N,) labels) of one batch."""
    data = batch.get("data")
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != CIFAR_PIXELS \
            or data.dtype != np.uint8:
        got = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
               else type(data).__name__)
        raise DataFormatError(f"'data' must be a uint8 array of shape (N, {CIFAR_PIXELS}), "
                              f"got {got}", path=where, field="data")
    if info.label_key not in batch:
        raise DataFormatError(f"no {info.label_key!r} key; keys are {sorted(batch)}",
                              path=where, field=info.label_key)
    return data, _labels(batch[info.label_key], len(data), info, where)


def _labels(values: Any, count: int, info: _Cifar, where: str) -> np.ndarray:
    """Labels as int64, checked against the image count and the number of classes."""
    try:
        labels = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"labels are not a list of integers ({exc})", path=where,
                              field=info.label_key) from exc
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise DataFormatError("labels must be a flat list of integers", path=where,
                              field=info.label_key)
    if len(labels) != count:
        raise DataFormatError(f"{len(labels)} labels for {count} images", path=where,
                              field=info.label_key)
    if count and not (labels.min() >= 0 and labels.max() < info.num_classes):
        raise DataFormatError(f"labels must lie in 0..{info.num_classes - 1}, found "
                              f"{labels.min()}..{labels.max()}", path=where, field=info.label_key)
    return labels.astype(np.int64)


# ------------------------------------------------------------------------------------ fetching
def fetch_dataset(name: str, data_dir: str | Path, *, base_url: str | None = None,
                  progress: bool = True) -> Path:
    """Download a CIFAR archive into ``data_dir`` (made if missing) and return its path.

    The download goes to a temporary file in ``data_dir`` that is renamed to the archive's
    name only once its md5 matches :data:`ARCHIVE_MD5`; on a mismatch or a failed download
    nothing is left behind. An archive already there with the right md5 is kept as it is; one
    with a wrong md5 is replaced. ``base_url`` (default :data:`BASE_URL`) may be a mirror or a
    ``file://`` URL. ``digits`` ships with scikit-learn: asking to fetch it is an error that
    says so.
    """
    key = _dataset_key(name, data_dir)
    folder = Path(data_dir)
    if key == "digits":
        raise DataFormatError("'digits' is bundled with scikit-learn: nothing to fetch",
                              path=str(folder), field="name")
    info = _CIFAR[key]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFormatError(f"cannot make the data folder ({exc})", path=str(folder)) from exc
    target = folder / info.archive
    expected = ARCHIVE_MD5[key]
    if target.is_file() and file_md5(target) == expected:
        return target
    url = (BASE_URL if base_url is None else base_url).rstrip("/") + "/" + info.archive
    _download_verified(url, target, expected, progress)
    return target


def file_md5(path: str | Path) -> str:
    """Hex md5 of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _download_verified(url: str, target: Path, expected: str, progress: bool) -> None:
    """Download ``url`` to ``target`` through a temporary file, keeping it only if md5 matches
    (:func:`graphvae_nas.files.atomic_write`: only a regular file or nothing is replaced)."""
    def download(tmp: str) -> None:
        with open(tmp, "wb") as out:
            digest = _copy_url(url, out, progress, target.name)
        if digest != expected:
            raise DataFormatError(f"md5 of the download from {url} is {digest}, expected "
                                  f"{expected}; the download was discarded", path=str(target))

    try:
        atomic_write(target, download, suffix=".part")
    except DataFormatError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DataFormatError(f"download from {url} failed ({reason})", path=str(target)) from exc


def _copy_url(url: str, out: io.BufferedWriter, progress: bool, label: str) -> str:
    """Stream ``url`` into ``out`` with a progress bar; return the hex md5 of what was read."""
    from tqdm.auto import tqdm

    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                  disable=not progress) as bar:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()
