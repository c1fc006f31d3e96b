"""Tests for graphvae_nas.evaluation.images: digits, CIFAR readers, fetching, ``data fetch``.

CIFAR data here are tiny synthetic copies in the official "python version" layout: pickled
dicts with bytes keys, (N, 3072) uint8 ``data`` and a list of ``labels`` / ``fine_labels``.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from graphvae_nas.cli import main
from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation import images
from graphvae_nas.evaluation.images import ImageData, fetch_dataset, load_image_data


PER_BATCH = 12   # 5 batches: 60 CIFAR-10 training images
TEST_COUNT = 20
C100_TRAIN = 150


# ----------------------------------------------------------------------------- synthetic CIFAR
class _Py2Pickler(pickle._Pickler):
    """Protocol 2 with strings as Python 2 byte strings (BINSTRING), as cPickle wrote them."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_string(self, obj: str | bytes) -> None:
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _save_py2_string
    dispatch[bytes] = _save_py2_string


def _pickle(obj: object) -> bytes:
    """A pickle laid out like the official (Python 2, numpy 1) CIFAR batches."""
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def _images(first_id: int, count: int, seed: int) -> np.ndarray:
    """Random uint8 images whose first two bytes encode a unique id."""
    data = np.random.default_rng(seed).integers(0, 256, size=(count, 3072), dtype=np.uint8)
    ids = np.arange(first_id, first_id + count)
    data[:, 0], data[:, 1] = ids % 256, ids // 256
    return data


def _batch(first_id: int, count: int, label_key: bytes, num_classes: int) -> dict:
    labels = [int(i % num_classes) for i in range(first_id, first_id + count)]
    batch = {b"batch_label": b"synthetic batch", label_key: labels,
             b"data": _images(first_id, count, first_id), b"filenames": [b"x.png"] * count}
    if label_key == b"fine_labels":
        batch[b"coarse_labels"] = [v // 5 for v in labels]
    return batch


def _cifar10_files(**override: bytes) -> dict[str, bytes]:
    files = {f"data_batch_{i}": _pickle(_batch((i - 1) * PER_BATCH, PER_BATCH, b"labels", 10))
             for i in range(1, 6)}
    files["test_batch"] = _pickle(_batch(1000, TEST_COUNT, b"labels", 10))
    files["batches.meta"] = _pickle({b"label_names": [b"c%d" % i for i in range(10)]})
    files["readme.html"] = b"<html></html>"
    files.update(override)
    return files


def _cifar100_files() -> dict[str, bytes]:
    return {"train": _pickle(_batch(0, C100_TRAIN, b"fine_labels", 100)),
            "test": _pickle(_batch(1000, TEST_COUNT, b"fine_labels", 100)),
            "meta": _pickle({b"fine_label_names": [b"f%d" % i for i in range(100)]})}


def write_folder(root: Path, folder: str, files: dict[str, bytes]) -> Path:
    (root / folder).mkdir(parents=True)
    for name, data in files.items():
        (root / folder / name).write_bytes(data)
    return root


def write_archive(root: Path, archive: str, folder: str, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(root / archive, "w:gz") as tar:
        entry = tarfile.TarInfo(folder)
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return root / archive


@pytest.fixture(scope="module")
def cifar10_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cifar10")
    folder = write_folder(root / "folder", "cifar-10-batches-py", _cifar10_files())
    archive = write_archive(root / "archive", "cifar-10-python.tar.gz", "cifar-10-batches-py",
                            _cifar10_files())
    return {"folder": folder, "archive": archive.parent}


def _ids(data: ImageData, x: torch.Tensor) -> list[int]:
    """Undo the standardisation and read the ids back from the first two bytes."""
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    raw = torch.round(x * std + mean).to(torch.int64).reshape(len(x), -1)
    return (raw[:, 0] + 256 * raw[:, 1]).tolist()


# --------------------------------------------------------------------------------- CIFAR loading
def test_cifar10_shapes_dtypes_and_spec(cifar10_dirs):
    data = load_image_data("cifar10", cifar10_dirs["folder"], seed=0, valid_size=10)
    assert data.train_x.shape == (50, 3, 32, 32) and data.train_x.dtype == torch.float32
    assert data.valid_x.shape == (10, 3, 32, 32) and data.test_x.shape == (TEST_COUNT, 3, 32, 32)
    assert data.train_y.dtype == data.valid_y.dtype == data.test_y.dtype == torch.int64
    assert (data.num_classes, data.in_channels, data.image_size) == (10, 3, (32, 32))
    assert data.spec() == {"name": "cifar10", "train": 50, "valid": 10, "test": TEST_COUNT,
                           "seed": 0}
    assert "train_x" not in repr(data)


def test_cifar10_standardised_per_channel(cifar10_dirs):
    data = load_image_data("cifar10", cifar10_dirs["folder"], valid_size=10)
    std, mean = torch.std_mean(data.train_x, dim=(0, 2, 3), correction=0)
    assert torch.allclose(mean, torch.zeros(3), atol=1e-5)
    assert torch.allclose(std, torch.ones(3), atol=1e-5)


def test_cifar10_layout_and_test_batch_order(cifar10_dirs):
    data = load_image_data("cifar10", cifar10_dirs["folder"], valid_size=10)
    raw = _images(1000, TEST_COUNT, 1000).reshape(-1, 3, 32, 32)
    restored = data.test_x * torch.tensor(data.std).view(1, 3, 1, 1) \
        + torch.tensor(data.mean).view(1, 3, 1, 1)
    assert torch.allclose(restored, torch.from_numpy(raw).float(), atol=1e-3)
    assert data.test_y.tolist() == [i % 10 for i in range(1000, 1000 + TEST_COUNT)]


def test_cifar10_split_deterministic_disjoint_and_seeded(cifar10_dirs):
    a = load_image_data("cifar10", cifar10_dirs["folder"], seed=3, valid_size=10)
    b = load_image_data("cifar10", cifar10_dirs["folder"], seed=3, valid_size=10)
    c = load_image_data("cifar10", cifar10_dirs["folder"], seed=4, valid_size=10)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.valid_y, b.valid_y)
    train_ids, valid_ids = _ids(a, a.train_x), _ids(a, a.valid_x)
    assert not set(train_ids) & set(valid_ids)
    assert sorted(train_ids + valid_ids) == list(range(5 * PER_BATCH))
    assert sorted(a.valid_y.tolist()) == list(range(10))  # stratified: one per class
    assert set(_ids(c, c.valid_x)) != set(valid_ids)


def test_archive_and_folder_give_identical_tensors(cifar10_dirs):
    a = load_image_data("cifar10", cifar10_dirs["folder"], seed=1, valid_size=10)
    b = load_image_data("cifar10", cifar10_dirs["archive"], seed=1, valid_size=10)
    for name in ("train_x", "train_y", "valid_x", "valid_y", "test_x", "test_y"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.spec() == b.spec()


def test_python3_pickles_also_load(tmp_path, cifar10_dirs):
    batch = _batch(1000, TEST_COUNT, b"labels", 10)
    root = write_folder(tmp_path, "cifar-10-batches-py",
                        _cifar10_files(test_batch=pickle.dumps(batch, protocol=2)))
    a = load_image_data("cifar10", root, valid_size=10)
    b = load_image_data("cifar10", cifar10_dirs["folder"], valid_size=10)
    assert torch.equal(a.test_x, b.test_x) and torch.equal(a.test_y, b.test_y)


def test_extracted_folder_itself_as_data_dir(cifar10_dirs):
    a = load_image_data("CIFAR10", cifar10_dirs["folder"] / "cifar-10-batches-py", valid_size=10)
    assert a.name == "cifar10" and len(a.train_y) == 50


@pytest.mark.parametrize("kind", ["folder", "archive"])
def test_cifar100_fine_labels(tmp_path, kind):
    if kind == "folder":
        root = write_folder(tmp_path, "cifar-100-python", _cifar100_files())
    else:
        root = write_archive(tmp_path, "cifar-100-python.tar.gz", "cifar-100-python",
                             _cifar100_files()).parent
    data = load_image_data("cifar100", root, seed=0, valid_size=100)
    assert data.num_classes == 100
    assert (len(data.train_y), len(data.valid_y), len(data.test_y)) == (50, 100, TEST_COUNT)
    assert sorted(data.valid_y.tolist()) == list(range(100))
    assert data.test_y.tolist() == [i % 100 for i in range(1000, 1000 + TEST_COUNT)]


# ------------------------------------------------------------------------------------- digits
def test_digits_splits():
    from sklearn.datasets import load_digits

    data = load_image_data("digits", seed=0)
    assert data.spec() == {"name": "digits", "train": 1077, "valid": 360, "test": 360, "seed": 0}
    assert data.train_x.shape == (1077, 1, 8, 8) and data.in_channels == 1
    assert data.image_size == (8, 8) and data.num_classes == 10
    for y in (data.train_y, data.valid_y, data.test_y):
        assert sorted(set(y.tolist())) == list(range(10))
    std, mean = torch.std_mean(data.train_x, dim=(0, 2, 3), correction=0)
    assert abs(mean.item()) < 1e-5 and abs(std.item() - 1) < 1e-5

    train, valid, test = images._digits_indices(0, None)
    assert not set(train) & set(valid) and not set(train) & set(test) and not set(valid) & set(test)
    assert len(train) + len(valid) + len(test) == 1797
    assert data.train_y.tolist() == load_digits().target[train].tolist()


def test_digits_deterministic_and_seeded():
    a, b = images._digits_indices(5, None), images._digits_indices(5, None)
    c = images._digits_indices(6, None)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.array_equal(a[2], c[2])  # the test set does not depend on the seed
    assert not np.array_equal(a[1], c[1])
    small = load_image_data("digits", seed=5, valid_size=100)
    assert (len(small.train_y), len(small.valid_y)) == (1337, 100)


# ------------------------------------------------------------------------------------- errors
def _error(*args, **kwargs) -> str:
    with pytest.raises(DataFormatError) as info:
        load_image_data(*args, **kwargs)
    return str(info.value)


def test_missing_and_empty_data_dir(tmp_path):
    missing = tmp_path / "nowhere"
    message = _error("cifar10", missing)
    assert str(missing) in message and "does not exist" in message
    message = _error("cifar100", tmp_path)
    assert str(tmp_path) in message
    assert "cifar-100-python.tar.gz" in message and "cifar-100-python/" in message
    assert "data_dir" in _error("cifar10")


def test_unknown_name_and_valid_size(tmp_path, cifar10_dirs):
    message = _error("imagenet", tmp_path)
    assert "imagenet" in message and "digits, cifar10, cifar100" in message
    assert str(tmp_path) in message
    message = _error("cifar10", cifar10_dirs["folder"], valid_size=60)
    assert "valid_size 60" in message and str(cifar10_dirs["folder"]) in message
    assert "valid_size" in _error("digits", valid_size=1437)
    assert "valid_size" in _error("digits", valid_size=0)


def test_corrupt_archives(tmp_path):
    good = write_archive(tmp_path / "good", "cifar-10-python.tar.gz", "cifar-10-batches-py",
                         _cifar10_files()).read_bytes()
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "cifar-10-python.tar.gz").write_bytes(good[: len(good) // 2])
    bad_gzip = tmp_path / "bad_gzip"
    bad_gzip.mkdir()
    (bad_gzip / "cifar-10-python.tar.gz").write_bytes(b"not a gzip file at all" * 10)
    for root in (truncated, bad_gzip):
        message = _error("cifar10", root, valid_size=5)
        assert str(root / "cifar-10-python.tar.gz") in message and "corrupt archive" in message

    files = _cifar10_files()
    del files["data_batch_3"]
    root = write_archive(tmp_path / "missing", "cifar-10-python.tar.gz", "cifar-10-batches-py",
                         files).parent
    message = _error("cifar10", root, valid_size=5)
    assert "cifar-10-batches-py/data_batch_3" in message and str(root) in message


class _Sneaky:
    def __reduce__(self):
        return (os.getcwd, ())


BAD_BATCHES = {
    "garbage": (b"\x80\x02garbage", "unreadable pickle"),
    "code": (pickle.dumps({b"data": _Sneaky()}, protocol=2), "refusing to load"),
    "not a dict": (_pickle([1, 2, 3]), "expected a pickled dict"),
    "shape": (_pickle({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}), "(N, 3072)"),
    "dtype": (_pickle({b"data": np.zeros((4, 3072), np.float32), b"labels": [0] * 4}), "uint8"),
    "count": (_pickle({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0] * 3}),
              "3 labels for 4 images"),
    "range": (_pickle({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 10]}),
              "0..9"),
    "key": (_pickle({b"data": np.zeros((4, 3072), np.uint8), b"fine_labels": [0] * 4}),
            "no 'labels' key"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batches_name_the_file(tmp_path, case):
    data, reason = BAD_BATCHES[case]
    root = write_folder(tmp_path / "folder", "cifar-10-batches-py",
                        _cifar10_files(test_batch=data))
    message = _error("cifar10", root, valid_size=5)
    assert str(root / "cifar-10-batches-py" / "test_batch") in message and reason in message
    archive = write_archive(tmp_path / "archive", "cifar-10-python.tar.gz", "cifar-10-batches-py",
                            _cifar10_files(test_batch=data))
    message = _error("cifar10", archive.parent, valid_size=5)
    assert str(archive) in message and "test_batch" in message and reason in message


def test_missing_file_in_folder(tmp_path):
    files = _cifar10_files()
    del files["data_batch_5"]
    root = write_folder(tmp_path, "cifar-10-batches-py", files)
    message = _error("cifar10", root, valid_size=5)
    assert str(root / "cifar-10-batches-py" / "data_batch_5") in message


# ------------------------------------------------------------------------------------- fetching
@pytest.fixture()
def mirror(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A file:// mirror holding a synthetic CIFAR-10 archive whose md5 is the expected one."""
    archive = write_archive(tmp_path / "mirror", "cifar-10-python.tar.gz", "cifar-10-batches-py",
                            _cifar10_files())
    monkeypatch.setitem(images.ARCHIVE_MD5, "cifar10",
                        hashlib.md5(archive.read_bytes()).hexdigest())
    return archive.parent.as_uri() + "/", archive


def test_fetch_checks_md5_and_skips_a_good_archive(tmp_path, mirror):
    url, source = mirror
    dest = tmp_path / "data" / "cifar"
    path = fetch_dataset("cifar10", dest, base_url=url, progress=False)
    assert path == dest / "cifar-10-python.tar.gz"
    assert path.read_bytes() == source.read_bytes()
    assert os.listdir(dest) == ["cifar-10-python.tar.gz"]
    source.unlink()  # a second fetch must not download again
    assert fetch_dataset("cifar10", dest, base_url=url, progress=False) == path
    assert len(load_image_data("cifar10", dest, valid_size=10).train_y) == 50


def test_fetch_replaces_an_archive_with_a_wrong_md5(tmp_path, mirror):
    url, source = mirror
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"half a download")
    path = fetch_dataset("cifar10", tmp_path, base_url=url, progress=False)
    assert path.read_bytes() == source.read_bytes()


def test_fetch_wrong_md5_or_failure_leaves_nothing(tmp_path, mirror, monkeypatch):
    url, _ = mirror
    monkeypatch.setitem(images.ARCHIVE_MD5, "cifar10", "0" * 32)
    dest = tmp_path / "data"
    with pytest.raises(DataFormatError) as info:
        fetch_dataset("cifar10", dest, base_url=url, progress=False)
    assert "md5" in str(info.value) and str(dest / "cifar-10-python.tar.gz") in str(info.value)
    assert os.listdir(dest) == []
    with pytest.raises(DataFormatError) as info:
        fetch_dataset("cifar10", dest, base_url=(tmp_path / "void").as_uri(), progress=False)
    assert "download from" in str(info.value) and "failed" in str(info.value)
    assert os.listdir(dest) == []


def test_fetch_digits_and_unknown(tmp_path):
    with pytest.raises(DataFormatError, match="nothing to fetch"):
        fetch_dataset("digits", tmp_path)
    with pytest.raises(DataFormatError, match="known: digits, cifar10, cifar100"):
        fetch_dataset("mnist", tmp_path)


# ------------------------------------------------------------------------------------------ CLI
def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_fetch(tmp_path, capsys, mirror):
    url, _ = mirror
    rc, out, _ = _run(capsys, "data", "fetch", "digits")
    assert rc == 0 and "nothing to fetch" in out
    rc, _, err = _run(capsys, "data", "fetch", "imagenet", "--data-dir", tmp_path)
    assert rc == 2 and "unknown image dataset 'imagenet'" in err and "cifar100" in err
    rc, _, err = _run(capsys, "data", "fetch", "cifar10")
    assert rc == 2 and "--data-dir" in err
    rc, out, _ = _run(capsys, "data", "fetch", "cifar10", "--data-dir", tmp_path / "d",
                      "--base-url", url, "--no-progress")
    assert rc == 0 and str(tmp_path / "d" / "cifar-10-python.tar.gz") in out
    assert images.ARCHIVE_MD5["cifar10"] in out
