"""Merging several datasets of one space into one, matched by canonical hash."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphvae_nas.datasets.dataset import ArchitectureDataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.spaces import same_architectures


def merge_datasets(datasets: Sequence[ArchitectureDataset], *, how: str = "outer",
                   names: Sequence[str] | None = None) -> ArchitectureDataset:
    """One dataset holding every metric of every input, rows matched by canonical hash.

    ``how="outer"`` keeps every architecture (metrics absent from a table are NaN);
    ``"inner"`` keeps those present in all inputs. Rows keep the order of first appearance.
    A metric present in two inputs must agree wherever both have it; otherwise the error
    names the metric and both sources (rename one side with ``with_prefix``). ``names``
    (e.g. file names) label the inputs in errors. Each input must be free of duplicates.
    """
    if not datasets:
        raise DataFormatError("nothing to merge")
    if how not in ("outer", "inner"):
        raise ValueError(f"how must be 'outer' or 'inner', got {how!r}")
    labels = list(names) if names is not None else [f"input {i + 1}" for i in range(len(datasets))]
    space = datasets[0].space
    for label, ds in zip(labels, datasets):
        if not same_architectures(ds.space, space):
            raise DataFormatError(f"space {ds.space.spec()} differs from {space.spec()}", path=label)
        if ds.num_unique() != len(ds):
            raise DataFormatError(
                f"{len(ds) - ds.num_unique()} duplicate architectures; dedupe before merging",
                path=label)

    row_of: dict[str, int] = {}
    archs: list = []
    sources: list[str] = []
    positions = []
    for ds in datasets:
        pos = np.empty(len(ds), dtype=np.int64)
        for i, h in enumerate(ds.hashes):
            row = row_of.get(h)
            if row is None:
                row = row_of[h] = len(archs)
                archs.append(ds.archs[i])
                sources.append(ds.sources[i])
            else:
                sources[row] += ";" + ds.sources[i]
            pos[i] = row
        positions.append(pos)

    n = len(archs)
    metrics: dict[str, np.ndarray] = {}
    owner: dict[str, str] = {}
    for label, ds, pos in zip(labels, datasets, positions):
        for name, values in ds.metrics.items():
            column = metrics.get(name)
            if column is None:
                column = metrics[name] = np.full(n, np.nan)
                owner[name] = label
            else:
                both = ~np.isnan(column[pos]) & ~np.isnan(values)
                clash = both & ~np.isclose(column[pos], values, rtol=1e-9, atol=0.0)
                if clash.any():
                    i = int(np.flatnonzero(clash)[0])
                    raise DataFormatError(
                        f"metric {name!r} differs between {owner[name]} and {label} for "
                        f"{ds.native(i)} ({column[pos[i]]} vs {values[i]}); "
                        "import one of them with a --prefix", field=name)
            fill = ~np.isnan(values)
            column[pos[fill]] = values[fill]

    merged = ArchitectureDataset(space, archs, metrics, sources,
                                 [p for ds in datasets for p in ds.provenance])
    if how == "inner":
        counts = np.zeros(n, dtype=np.int64)
        for pos in positions:
            counts[pos] += 1
        merged = merged.subset(np.flatnonzero(counts == len(datasets)))
    return merged
