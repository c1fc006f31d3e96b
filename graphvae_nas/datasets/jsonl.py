"""The on-disk dataset format: JSON Lines, gzipped when the name ends in ``.gz``.

Line 1 is a header::

    {"format": "graphvae_nas.dataset", "version": 1, "space": {"name": "nb201"},
     "metrics": ["cifar10_valid", ...], "count": 15625, "provenance": [...]}

and every further line one record::

    {"hash": "<32 hex>", "arch": "<native string of the space>",
     "metrics": {"cifar10_valid": 91.6, ...}, "source": "table.csv:7"}

``arch`` is the space's native string (NB201 cell string, D-VAE ENAS rows, NB101 spec JSON,
generic DAG JSON) and ``hash`` the canonical hash of its DAG, checked on load. A missing
metric value is simply absent from ``metrics``. Files are written atomically (a temporary
file renamed into place), so a crash never leaves half a dataset under the final name.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from graphvae_nas.datasets.dataset import ArchitectureDataset
from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.files import atomic_write
from graphvae_nas.spaces import SearchSpace, same_architectures, space_from_spec

FORMAT_NAME = "graphvae_nas.dataset"
FORMAT_VERSION = 1


def open_text(path: str | Path, mode: str = "r", *, gz: bool | None = None) -> IO[str]:
    """Open a UTF-8 text file (a byte-order mark is skipped when reading), gzipped when ``gz``
    (default: when the name ends in ``.gz``)."""
    encoding = "utf-8-sig" if "r" in mode else "utf-8"
    if gz if gz is not None else str(path).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, mode.replace("t", "") + "b"), encoding=encoding,
                                newline="")
    return open(path, mode, encoding=encoding, newline="")


@contextlib.contextmanager
def reading_errors(path: str | Path) -> Iterator[None]:
    """Turn I/O and decoding failures while reading ``path`` into :class:`DataFormatError`."""
    try:
        yield
    except IsADirectoryError:
        raise DataFormatError("is a directory, not a file", path=str(path)) from None
    except FileNotFoundError:
        raise DataFormatError("no such file", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"not UTF-8 text (byte {exc.start}: {exc.reason})",
                              path=str(path)) from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(f"cannot read: {exc}", path=str(path)) from None


def save_dataset(dataset: ArchitectureDataset, path: str | Path) -> None:
    """Write ``dataset`` to ``path`` atomically (gzip when the name ends in ``.gz``); only a
    regular file or a new name is replaced (:func:`graphvae_nas.files.atomic_write`)."""
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "space": dataset.space.spec(),
              "metrics": dataset.metric_names, "count": len(dataset),
              "provenance": dataset.provenance}
    columns = [(name, values.tolist()) for name, values in dataset.metrics.items()]
    space = dataset.space

    def write(tmp: str) -> None:
        with open_text(tmp, "w", gz=Path(path).name.endswith(".gz")) as out:
            out.write(json.dumps(header) + "\n")
            for i in range(len(dataset)):
                metrics = {name: col[i] for name, col in columns if col[i] == col[i]}  # skip NaN
                arch = dataset.archs[i]
                out.write(json.dumps({"hash": arch.canonical_hash, "arch": space.format(arch),
                                      "metrics": metrics, "source": dataset.sources[i]}) + "\n")
            out.flush()

    atomic_write(path, write)


def load_dataset(path: str | Path, *, space: SearchSpace | None = None,
                 verify: bool = True) -> ArchitectureDataset:
    """Read a dataset written by :func:`save_dataset`.

    ``space`` (optional) must match the file's space. With ``verify`` each record's hash is
    recomputed from its architecture and must match. Errors name the file and line.
    """
    path = str(path)
    with reading_errors(path), open_text(path) as handle:
        return _read(handle, path, space, verify)


def _read(handle: IO[str], path: str, space: SearchSpace | None, verify: bool) -> ArchitectureDataset:
    first = handle.readline()
    if not first.strip():
        raise DataFormatError("empty file (expected a dataset header line)", path=path, line=1)
    header = _json_line(first, path, 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise DataFormatError(
            f"not a graphvae_nas dataset (first line must be a header with format {FORMAT_NAME!r}); "
            "import raw benchmark files with `graphvae-nas data import`", path=path, line=1)
    if header.get("version") != FORMAT_VERSION:
        raise DataFormatError(f"unsupported format version {header.get('version')!r}",
                              path=path, line=1, field="version")
    spec = header.get("space")
    if not isinstance(spec, dict):
        raise DataFormatError(f"'space' must be an object such as {{\"name\": \"nb201\"}}, got {spec!r}",
                              path=path, line=1, field="space")
    try:
        file_space = space_from_spec(spec)
    except ArchitectureError as exc:
        raise DataFormatError(str(exc), path=path, line=1, field="space") from None
    if space is not None:
        if not same_architectures(space, file_space):
            raise DataFormatError(f"dataset is of space {file_space.spec()}, expected {space.spec()}",
                                  path=path, line=1, field="space")
        file_space = space   # the same architectures; the caller's sampler settings
    metric_names = list(header.get("metrics") or [])
    archs, sources = [], []
    columns: dict[str, list[float]] = {name: [] for name in metric_names}
    nan = float("nan")
    for line_no, line in enumerate(handle, start=2):
        if not line.strip():
            continue
        record = _json_line(line, path, line_no)
        if not isinstance(record, dict) or "arch" not in record or "hash" not in record:
            raise DataFormatError("record needs 'arch' and 'hash'", path=path, line=line_no)
        native, stored_hash, metrics = record["arch"], record["hash"], record.get("metrics", {})
        for name, value, kind in (("arch", native, str), ("hash", stored_hash, str),
                                  ("metrics", metrics, dict)):
            if not isinstance(value, kind):
                raise DataFormatError(f"must be a {kind.__name__}, got {value!r}",
                                      path=path, line=line_no, field=name)
        try:
            arch = file_space.parse(native)
        except ArchitectureError as exc:
            raise DataFormatError(str(exc), path=path, line=line_no, field="arch") from None
        if not verify:
            arch._canonical_hash = stored_hash  # trusted: skip recomputing
        elif arch.canonical_hash != stored_hash:
            raise DataFormatError(
                f"hash {stored_hash!r} does not match the architecture (expected {arch.canonical_hash!r})",
                path=path, line=line_no, field="hash")
        for name in metrics:
            if name not in columns:
                raise DataFormatError(f"metric {name!r} is not declared in the header",
                                      path=path, line=line_no, field=name)
        for name, column in columns.items():
            if name not in metrics:          # missing: absent from the record, as written
                column.append(nan)
                continue
            value = metrics[name]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise DataFormatError(f"metric value {value!r} is not a number",
                                      path=path, line=line_no, field=name)
            if not math.isfinite(value):     # JSON has no NaN or Infinity; a missing value is absent
                raise DataFormatError(f"metric value {value!r} is not a finite number (leave a "
                                      "missing value out of the record)", path=path,
                                      line=line_no, field=name)
            column.append(value)
        archs.append(arch)
        sources.append(str(record.get("source", "")))
    if "count" in header and header["count"] != len(archs):
        raise DataFormatError(
            f"header says {header['count']} records but the file holds {len(archs)} (truncated?)",
            path=path)
    return ArchitectureDataset(file_space, archs,
                               {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()},
                               sources, list(header.get("provenance") or []))


def _json_line(line: str, path: str, line_no: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"invalid JSON: {exc.msg} at column {exc.colno}",
                              path=path, line=line_no) from None
