"""Importers that turn published benchmark files into :class:`ArchitectureDataset`.

* :func:`read_dvae_enas` — D-VAE's ENAS text (``[[op0], [op1, b0], ...], acc`` per line).
* :func:`read_table` — any CSV with an architecture column and numeric metric columns
  (NAS-Bench-201 tables with cell strings, or NASLib op-index tuples such as
  ``"(4, 0, 3, 1, 4, 3)"``).

Every problem names the file, line and field. With ``skip_bad=True`` bad lines are skipped
and listed in the report instead; nothing is dropped without being reported.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graphvae_nas.datasets.dataset import ArchitectureDataset
from graphvae_nas.datasets.jsonl import open_text, reading_errors
from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace, get_space

ARCH_COLUMN_CANDIDATES = ("arch_str", "arch", "architecture", "net_str", "net")
"""Column names tried, in order, when no architecture column is named."""
NON_METRIC_COLUMNS = frozenset({"index"})
"""Columns not taken as metrics unless asked for (reported as ignored)."""


_SHARED: weakref.WeakValueDictionary[tuple, Architecture] = weakref.WeakValueDictionary()


def shared_instance(arch: Architecture) -> Architecture:
    """An already imported architecture equal to ``arch`` if one is alive, else ``arch``:
    tables that list the same cells share one object per cell (memory, cached hash)."""
    key = (arch.ops, arch.edges)
    found = _SHARED.get(key)
    if found is None:
        _SHARED[key] = arch
        return arch
    return found


@dataclass
class SkippedLine:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import produced and what it left out, and why."""

    dataset: ArchitectureDataset
    skipped: list[SkippedLine] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    marked_missing: dict[str, int] = field(default_factory=dict)
    """Per column, how many values equalled a declared missing-value marker (stored as NaN)."""

    def summary(self) -> str:
        text = f"imported {len(self.dataset)} records ({self.dataset.num_unique()} unique)"
        if self.ignored_columns:
            text += f"; columns not imported: {', '.join(self.ignored_columns)}"
        if self.marked_missing:
            text += "; missing-value markers: " + ", ".join(
                f"{n} in {name}" for name, n in self.marked_missing.items())
        if self.skipped:
            # group reasons that differ only in a number; digits inside names stay
            # (field 'cifar10_test', op 'max_pool_3x3')
            reasons = Counter(re.sub(r"(?<![\w.])-?\d+(\.\d+)?(?![\w.])", "#", s.reason)
                              for s in self.skipped)
            detail = "; ".join(f"{n} x {r}" for r, n in reasons.most_common())
            text += f"; skipped {len(self.skipped)} bad lines ({detail})"
        return text


def file_provenance(path: str | Path, importer: str, **extra: object) -> dict[str, object]:
    """``{"file", "sha256", "importer", ...}`` describing an imported source file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"file": os.path.basename(str(path)), "sha256": digest.hexdigest(),
            "importer": importer, **extra}


def _check_file(path: str | Path) -> str:
    path = str(path)
    if not os.path.exists(path):
        raise DataFormatError("no such file", path=path)
    if os.path.isdir(path):
        raise DataFormatError("is a directory, not a file", path=path)
    if os.path.getsize(path) == 0:
        raise DataFormatError("empty file", path=path)
    return path


class _Collector:
    """Accumulates parsed rows; turns a bad row into an error or a skipped line."""

    def __init__(self, path: str, skip_bad: bool) -> None:
        self.path, self.skip_bad = path, skip_bad
        self.archs: list[Architecture] = []
        self.sources: list[str] = []
        self.skipped: list[SkippedLine] = []
        self.name = os.path.basename(path)

    def bad(self, line: int, reason: str, field_name: str | None = None,
            hint: str = "use --skip-bad / skip_bad=True to import the rest") -> None:
        if not self.skip_bad:
            raise DataFormatError(f"{reason} ({hint})", path=self.path, line=line,
                                  field=field_name)
        prefix = f"field {field_name!r}: " if field_name else ""
        self.skipped.append(SkippedLine(line, prefix + reason))


def read_dvae_enas(path: str | Path, space: SearchSpace | None = None, *,
                   metric: str = "valid_acc", skip_bad: bool = False) -> ImportReport:
    """Import D-VAE's ENAS file (e.g. ``final_structures6.txt``); the score becomes ``metric``.

    The number of layers is taken from ``space`` (default: 6-layer ENAS).
    """
    path = _check_file(path)
    space = space or get_space("enas")
    parse_rows = getattr(space, "from_rows", None)
    if parse_rows is None:
        raise DataFormatError(f"D-VAE ENAS text needs the enas space, not {space.spec()}", path=path)
    rows_acc = _Collector(path, skip_bad)
    scores: list[float] = []
    with reading_errors(path), open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            end = text.rfind("]")
            score_text = text[end + 1:].strip()
            if end < 0 or not score_text.startswith(","):
                rows_acc.bad(line_no, "expected '[[op0], [op1, b0], ...], score'")
                continue
            try:
                score = float(score_text[1:])
            except ValueError:
                rows_acc.bad(line_no, f"score {score_text[1:].strip()!r} is not a number", "score")
                continue
            if not math.isfinite(score):
                rows_acc.bad(line_no, f"score {score_text[1:].strip()!r} is not finite", "score")
                continue
            try:
                rows = json.loads(text[:end + 1])
                if not isinstance(rows, list):
                    raise ArchitectureError("expected a list of layers")
                arch = shared_instance(parse_rows(rows))
            except json.JSONDecodeError as exc:
                rows_acc.bad(line_no, f"malformed architecture: {exc.msg}", "arch")
                continue
            except ArchitectureError as exc:
                rows_acc.bad(line_no, str(exc), "arch")
                continue
            rows_acc.archs.append(arch)
            rows_acc.sources.append(f"{rows_acc.name}:{line_no}")
            scores.append(score)
    if not rows_acc.archs:
        raise DataFormatError("no architectures found in the file", path=path)
    dataset = ArchitectureDataset(
        space, rows_acc.archs, {metric: np.asarray(scores, dtype=np.float64)}, rows_acc.sources,
        [file_provenance(path, "dvae-enas", metric=metric)])
    return ImportReport(dataset, rows_acc.skipped)


def read_table(path: str | Path, space: SearchSpace, *, arch_column: str | None = None,
               metrics: Sequence[str] | None = None, prefix: str = "",
               skip_bad: bool = False, delimiter: str | None = None,
               missing_values: Mapping[str, float | Sequence[float]] | None = None,
               conflicts: str = "error") -> ImportReport:
    """Import a CSV (or TSV) with one architecture column and numeric metric columns.

    ``arch_column`` defaults to the first of :data:`ARCH_COLUMN_CANDIDATES` present. The
    column may hold the space's native strings or, for NB201, NASLib tuples. ``metrics``
    defaults to every other column except ``index`` and other architecture columns; each
    metric is stored as ``prefix + column``. Empty cells and ``nan`` are missing values, and
    so are the values declared in ``missing_values``: column name (as in the file; ``"*"``
    for every metric column) to a marker or markers, compared as numbers (e.g.
    ``{"edgetpu_latency": -1}``, the "not measured" sentinel of NAS-Bench-201's hardware
    table). How many were found per column is in the report's ``marked_missing``.

    The same architecture (canonical hash) on two rows with different metric values is
    refused, naming both lines (``conflicts="error"``); ``conflicts="keep"`` imports every row
    (then ``dataset.dedupe()`` keeps the first of each, as ``data import --dedupe`` does).
    """
    if conflicts not in ("error", "keep"):
        raise ValueError(f"conflicts must be 'error' or 'keep', got {conflicts!r}")
    path = _check_file(path)
    with reading_errors(path), open_text(path) as handle:
        sample = handle.readline()
        sep = delimiter or ("\t" if sample.count("\t") > sample.count(",") else ",")
        handle.seek(0)
        reader = csv.reader(handle, delimiter=sep)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise DataFormatError("no header row", path=path, line=1)
        header = [h.strip() for h in header]
        duplicates = [h for h, n in Counter(header).items() if n > 1]
        if duplicates:
            raise DataFormatError(f"duplicate column names {duplicates}", path=path, line=1)
        arch_col = _choose_arch_column(header, arch_column, path)
        metric_cols, ignored = _choose_metric_columns(header, arch_col, metrics, path)
        arch_idx = header.index(arch_col)
        metric_idx = [header.index(m) for m in metric_cols]
        markers = _missing_markers(missing_values or {}, metric_cols, path)
        marked = Counter[str]()
        parse = _arch_parser(space)
        rows = _Collector(path, skip_bad)
        values = array("d")
        cache: dict[str, Architecture] = {}
        first_rows: dict[str, tuple[int, list[float]]] = {}
        for line_no, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                rows.bad(line_no, f"expected {len(header)} columns, got {len(row)}")
                continue
            text = row[arch_idx].strip()
            arch = cache.get(text)
            if arch is None:
                try:
                    arch = cache[text] = shared_instance(parse(text))
                except ArchitectureError as exc:
                    rows.bad(line_no, str(exc), arch_col)
                    continue
            parsed = _parse_numbers(row, metric_idx, metric_cols, rows, line_no, markers, marked)
            if parsed is None:
                continue
            if conflicts == "error":
                earlier = first_rows.setdefault(arch.canonical_hash, (line_no, parsed))
                if earlier[0] != line_no and not _same_values(earlier[1], parsed):
                    raise DataFormatError(
                        f"the architecture of line {earlier[0]} again, with other metric values "
                        f"({_differences(metric_cols, earlier[1], parsed)}); keep the first of "
                        "each with --dedupe, or fix the table", path=path, line=line_no,
                        field=arch_col)
            rows.archs.append(arch)
            rows.sources.append(f"{rows.name}:{line_no}")
            values.extend(parsed)
    if not rows.archs:
        raise DataFormatError("no data rows" + (" (all were bad)" if rows.skipped else ""), path=path)
    table = np.frombuffer(values, dtype=np.float64).reshape(len(rows.archs), len(metric_cols))
    dataset = ArchitectureDataset(
        space, rows.archs, {prefix + name: table[:, k].copy() for k, name in enumerate(metric_cols)},
        rows.sources, [file_provenance(path, "table", arch_column=arch_col, prefix=prefix)])
    return ImportReport(dataset, rows.skipped, ignored,
                        {name: marked[name] for name in metric_cols if marked[name]})


def _same_values(a: Sequence[float], b: Sequence[float]) -> bool:
    """Equal metric rows (a missing value, NaN, equals only another missing value)."""
    return all(x == y or (x != x and y != y) for x, y in zip(a, b))


def _differences(names: Sequence[str], a: Sequence[float], b: Sequence[float]) -> str:
    return ", ".join(f"{name} {x:g} then {y:g}" for name, x, y in zip(names, a, b)
                     if not (x == y or (x != x and y != y)))


def _missing_markers(declared: Mapping[str, float | Sequence[float]], metric_cols: list[str],
                     path: str) -> list[frozenset[float]]:
    """Per metric column, the set of values that mean "missing"."""
    def as_set(name: str, value: float | Sequence[float]) -> frozenset[float]:
        values = [value] if isinstance(value, (int, float, str)) else list(value)
        try:
            return frozenset(float(v) for v in values)
        except (TypeError, ValueError):
            raise DataFormatError(f"missing-value marker {value!r} is not a number",
                                  path=path, field=name) from None

    unknown = [name for name in declared if name != "*" and name not in metric_cols]
    if unknown:
        raise DataFormatError(f"missing-value markers for columns {unknown} that are not imported "
                              f"metric columns ({metric_cols})", path=path, line=1, field=unknown[0])
    everywhere = as_set("*", declared["*"]) if "*" in declared else frozenset()
    return [everywhere | (as_set(name, declared[name]) if name in declared else frozenset())
            for name in metric_cols]


def _choose_arch_column(header: list[str], arch_column: str | None, path: str) -> str:
    if arch_column is not None:
        if arch_column not in header:
            raise DataFormatError(f"architecture column {arch_column!r} not found; columns: {header}",
                                  path=path, line=1, field=arch_column)
        return arch_column
    for candidate in ARCH_COLUMN_CANDIDATES:
        if candidate in header:
            return candidate
    raise DataFormatError(
        f"no architecture column (looked for {list(ARCH_COLUMN_CANDIDATES)}); name one with "
        f"--arch-column; columns: {header}", path=path, line=1)


def _choose_metric_columns(header: list[str], arch_col: str, metrics: Sequence[str] | None,
                           path: str) -> tuple[list[str], list[str]]:
    if metrics is not None:
        missing = [m for m in metrics if m not in header]
        if missing:
            raise DataFormatError(f"metric columns {missing} not found; columns: {header}",
                                  path=path, line=1, field=missing[0])
        chosen = list(metrics)
    else:
        chosen = [h for h in header if h != arch_col and h not in ARCH_COLUMN_CANDIDATES
                  and h not in NON_METRIC_COLUMNS]
    ignored = [h for h in header if h != arch_col and h not in chosen]
    return chosen, ignored


def _arch_parser(space: SearchSpace) -> Callable[[str], Architecture]:
    parse_naslib = getattr(space, "parse_naslib", None)
    if parse_naslib is None:
        return space.parse

    def parse(text: str) -> Architecture:
        return parse_naslib(text) if text.startswith("(") else space.parse(text)

    return parse


def _parse_numbers(row: list[str], indices: list[int], names: list[str], rows: _Collector,
                   line_no: int, markers: list[frozenset[float]], marked: Counter[str]
                   ) -> list[float] | None:
    out = []
    found: list[str] = []
    for k, name, missing in zip(indices, names, markers):
        cell = row[k].strip()
        if not cell:
            out.append(math.nan)
            continue
        try:
            value = float(cell)
        except ValueError:
            rows.bad(line_no, f"value {cell!r} is not a number", name,
                     hint=f"if column {name!r} holds text, import only the numeric columns "
                          "with --metrics; --skip-bad skips the line")
            return None
        if value in missing:
            found.append(name)
            value = math.nan
        elif math.isinf(value):
            rows.bad(line_no, f"value {cell!r} is infinite", name)
            return None
        out.append(value)  # an explicit 'nan' is a missing value, like an empty cell
    marked.update(found)
    return out
