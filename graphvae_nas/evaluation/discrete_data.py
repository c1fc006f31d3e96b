"""Discrete data for Bayesian-network scores: a CSV of categorical variables, checked and coded.

A column is discrete when its values are labels (``yes``/``no``, ``a``/``b``/``c``) or whole
numbers, with at most ``max_levels`` distinct values; a column holding a number with a
fraction (``0.37``) or more distinct values than ``max_levels`` is taken as continuous and
refused (discretise it first). Missing values (an empty field, ``NA``, ``NaN``, ``?``,
``null``) and constant columns (one level only) are refused too. Every error names the file,
the line where one applies and the column.
"""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphvae_nas.errors import DataFormatError

MISSING_MARKERS = frozenset({"", "na", "nan", "?", "null", "none"})
"""Field values (case-insensitive, after stripping spaces) read as missing."""
DEFAULT_MAX_LEVELS = 20


@dataclass(frozen=True)
class DiscreteData:
    """``codes[:, j]`` holds the level index (into ``levels[j]``) of variable ``names[j]`` in
    every row; levels are sorted (numerically for whole-number columns)."""

    names: tuple[str, ...]
    codes: np.ndarray
    levels: tuple[tuple[str, ...], ...]
    path: str | None = None
    sha256: str | None = None

    @property
    def num_rows(self) -> int:
        return int(self.codes.shape[0])

    @property
    def cardinalities(self) -> tuple[int, ...]:
        return tuple(len(lv) for lv in self.levels)

    def select(self, variables: Sequence[str]) -> DiscreteData:
        """The columns ``variables``, in that order; raises naming unknown variables and the file."""
        index = {name: j for j, name in enumerate(self.names)}
        unknown = [v for v in variables if v not in index]
        if unknown:
            raise DataFormatError(f"unknown variables {unknown}: the data has columns {list(self.names)}",
                                  path=self.path, field=unknown[0])
        cols = [index[v] for v in variables]
        return DiscreteData(tuple(variables), np.ascontiguousarray(self.codes[:, cols]),
                            tuple(self.levels[j] for j in cols), self.path, self.sha256)


def read_discrete_csv(path: str | Path, *, max_levels: int = DEFAULT_MAX_LEVELS) -> DiscreteData:
    """Read and check a CSV with a header of variable names and one row per observation."""
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataFormatError("no such file", path=path) from None
    except IsADirectoryError:
        raise DataFormatError("is a directory, not a file", path=path) from None
    except OSError as exc:
        raise DataFormatError(f"cannot read: {exc}", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"not UTF-8 text (byte {exc.start}: {exc.reason})", path=path) from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise DataFormatError(f"malformed CSV: {exc}", path=path) from None
    if not rows or not rows[0]:
        raise DataFormatError("empty file (expected a header line of variable names)", path=path, line=1)
    header = [name.strip() for name in rows[0]]
    for j, name in enumerate(header):
        if not name:
            raise DataFormatError(f"column {j + 1} has an empty name", path=path, line=1)
        if name in header[:j]:
            raise DataFormatError(f"column name {name!r} repeated", path=path, line=1, field=name)
    body = [(i + 2, row) for i, row in enumerate(rows[1:]) if row]
    if not body:
        raise DataFormatError("no data rows after the header", path=path, line=2)
    width = len(header)
    for line, row in body:
        if len(row) != width:
            raise DataFormatError(f"{len(row)} fields, the header has {width}", path=path, line=line)
    columns = []
    levels = []
    for j, name in enumerate(header):
        values = [row[j].strip() for _, row in body]
        for (line, _), value in zip(body, values):
            if value.lower() in MISSING_MARKERS:
                raise DataFormatError(f"missing value {value!r}; complete data is required",
                                      path=path, line=line, field=name)
        codes, lv = _code_column(values, name, path, max_levels)
        columns.append(codes)
        levels.append(lv)
    return DiscreteData(tuple(header), np.ascontiguousarray(np.stack(columns, axis=1)),
                        tuple(levels), path, hashlib.sha256(raw).hexdigest())


def _code_column(values: list[str], name: str, path: str,
                 max_levels: int) -> tuple[np.ndarray, tuple[str, ...]]:
    distinct = sorted(set(values))
    numbers = _as_numbers(distinct)
    if numbers is not None:
        fractional = [v for v, x in zip(distinct, numbers) if x != int(x)]
        if fractional:
            raise DataFormatError(
                f"non-discrete column: numeric values with fractions such as {fractional[0]!r}; "
                "discretise it into levels first", path=path, field=name)
        # whole numbers: one level per number ("2" and "2.0" agree), sorted numerically
        as_int = {v: int(x) for v, x in zip(distinct, numbers)}
        values = [str(as_int[v]) for v in values]
        distinct = [str(x) for x in sorted(set(as_int.values()))]
    if len(distinct) > max_levels:
        raise DataFormatError(
            f"non-discrete column: {len(distinct)} distinct values > max_levels={max_levels} "
            "(continuous or an identifier?); discretise it or raise max_levels",
            path=path, field=name)
    if len(distinct) < 2:
        raise DataFormatError(
            f"constant column: every row is {distinct[0]!r}; a variable with one level carries no "
            "information, drop it", path=path, field=name)
    index = {v: i for i, v in enumerate(distinct)}
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values)), tuple(distinct)


def _as_numbers(values: list[str]) -> list[float] | None:
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return None
    if any(x != x or x in (float("inf"), float("-inf")) for x in numbers):
        return None
    return numbers
