"""The architecture dataset: architectures of one search space with named metrics and provenance."""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace


@dataclass(frozen=True)
class ArchitectureRecord:
    """One row of a dataset (a view; metrics holds only the values present)."""

    arch: Architecture
    native: str
    hash: str
    metrics: dict[str, float]
    source: str


@dataclass
class ArchitectureDataset:
    """Architectures of one space with metrics (any named numbers; ``NaN`` marks a missing
    value) and the source of each row (``file:line``).

    Metrics are stored column-wise as float64 arrays, which keeps large tables small and
    makes statistics and merges vectorised. Native strings and canonical hashes are derived
    from the architectures (each caches its hash). ``provenance`` lists the source files.
    """

    space: SearchSpace
    archs: list[Architecture]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.archs)
        if not self.sources:
            self.sources = [""] * n
        if len(self.sources) != n:
            raise ValueError(f"{len(self.sources)} sources for {n} architectures")
        for name, values in self.metrics.items():
            if len(values) != n:
                raise ValueError(f"metric {name!r} has {len(values)} values for {n} records")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_architectures(cls, space: SearchSpace, archs: Sequence[Architecture],
                           metrics: Mapping[str, Sequence[float]] | None = None,
                           sources: Sequence[str] | None = None,
                           provenance: list[dict[str, Any]] | None = None) -> ArchitectureDataset:
        """Build from architectures (validated by ``space``) and optional metric columns."""
        for i, arch in enumerate(archs):
            try:
                space.validate(arch)
            except ArchitectureError as exc:
                raise ArchitectureError(f"architecture {i}: {exc}") from None
        return cls(space, list(archs),
                   {k: np.asarray(v, dtype=np.float64) for k, v in (metrics or {}).items()},
                   list(sources) if sources is not None else [],
                   list(provenance or []))

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.archs)

    def __getitem__(self, i: int) -> ArchitectureRecord:
        values = {k: float(v[i]) for k, v in self.metrics.items() if not math.isnan(v[i])}
        arch = self.archs[i]
        return ArchitectureRecord(arch, self.native(i), arch.canonical_hash, values, self.sources[i])

    def __iter__(self) -> Iterator[ArchitectureRecord]:
        return (self[i] for i in range(len(self)))

    def native(self, i: int) -> str:
        """The space's native string of row ``i``."""
        return self.space.format(self.archs[i])

    @property
    def hashes(self) -> list[str]:
        """Canonical hash of every row."""
        return [a.canonical_hash for a in self.archs]

    @property
    def metric_names(self) -> list[str]:
        return list(self.metrics)

    def metric(self, name: str) -> np.ndarray:
        """The column of metric ``name`` (NaN where missing)."""
        if name not in self.metrics:
            raise DataFormatError(f"no metric {name!r}; available: {self.metric_names}", field=name)
        return self.metrics[name]

    def index_by_hash(self) -> dict[str, int]:
        """``{canonical hash: first row}``."""
        index: dict[str, int] = {}
        for i, h in enumerate(self.hashes):
            index.setdefault(h, i)
        return index

    def subset(self, indices: Sequence[int]) -> ArchitectureDataset:
        """The rows ``indices``, in that order."""
        idx = np.asarray(indices, dtype=np.int64)
        return ArchitectureDataset(
            self.space, [self.archs[i] for i in idx], {k: v[idx] for k, v in self.metrics.items()},
            [self.sources[i] for i in idx], list(self.provenance))

    def with_prefix(self, prefix: str) -> ArchitectureDataset:
        """The same data with every metric renamed ``prefix + name``."""
        return ArchitectureDataset(self.space, self.archs, {prefix + k: v for k, v in self.metrics.items()},
                                   self.sources, self.provenance)

    # ------------------------------------------------------------------ cleaning and summaries
    def num_unique(self) -> int:
        return len(set(self.hashes))

    def dedupe(self) -> tuple[ArchitectureDataset, list[tuple[int, int]]]:
        """Keep the first row of each canonical hash; also returns ``(dropped row, kept row)`` pairs."""
        first: dict[str, int] = {}
        keep: list[int] = []
        dropped: list[tuple[int, int]] = []
        for i, h in enumerate(self.hashes):
            if h in first:
                dropped.append((i, first[h]))
            else:
                first[h] = i
                keep.append(i)
        return self.subset(keep), dropped

    def stats(self) -> dict[str, Any]:
        """``count``, ``unique``, the space, and per metric its count, min, max, mean, std and
        the native string of a row attaining the max."""
        summary: dict[str, Any] = {"count": len(self), "unique": self.num_unique(),
                                   "space": self.space.spec(), "metrics": {}}
        for name, values in self.metrics.items():
            present = ~np.isnan(values)
            entry: dict[str, Any] = {"count": int(present.sum())}
            if entry["count"]:
                vals = values[present]
                best = int(np.flatnonzero(present)[int(np.argmax(vals))])
                entry.update(min=float(vals.min()), max=float(vals.max()), mean=float(vals.mean()),
                             std=float(vals.std()), argmax=self.native(best))
            summary["metrics"][name] = entry
        return summary

    def to_pyg(self) -> list[Any]:
        """Every architecture as a PyG ``Data`` over ``space.vocabulary`` (see ``graph.convert``)."""
        from graphvae_nas.graph.convert import to_pyg_list

        return to_pyg_list(self.archs, self.space.vocabulary)
