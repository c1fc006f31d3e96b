"""Deterministic train/test splits."""
from __future__ import annotations

import random

from graphvae_nas.datasets.dataset import ArchitectureDataset
from graphvae_nas.errors import DataFormatError

DVAE_ENAS_BURN_IN = 1000


def random_split(dataset: ArchitectureDataset, test_fraction: float = 0.1, seed: int = 0,
                 skip_first: int = 0) -> tuple[ArchitectureDataset, ArchitectureDataset]:
    """Drop the first ``skip_first`` rows, shuffle the rest with ``random.Random(seed)``, and
    put the first ``int(n * (1 - test_fraction))`` rows in train, the others in test."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if skip_first < 0 or len(dataset) - skip_first < 2:
        raise DataFormatError(
            f"cannot split {len(dataset)} records after skipping the first {skip_first}")
    order = list(range(skip_first, len(dataset)))
    random.Random(seed).shuffle(order)
    n_train = int(len(order) * (1.0 - test_fraction))
    return dataset.subset(order[:n_train]), dataset.subset(order[n_train:])


def dvae_enas_split(dataset: ArchitectureDataset) -> tuple[ArchitectureDataset, ArchitectureDataset]:
    """D-VAE's ENAS protocol on the file's rows in order (no dedupe): skip the first 1,000
    lines, shuffle with ``random.Random(0)``, 90/10 (17,118 / 1,902 for final_structures6)."""
    if dataset.space.spec().get("name") != "enas":
        raise DataFormatError(f"the dvae-enas protocol is for ENAS data, not {dataset.space.spec()}")
    return random_split(dataset, test_fraction=0.1, seed=0, skip_first=DVAE_ENAS_BURN_IN)


def dvae_bn_split(dataset: ArchitectureDataset) -> tuple[ArchitectureDataset, ArchitectureDataset]:
    """D-VAE's Bayesian-network protocol (``load_BN_graphs``): no burn-in, shuffle every row
    with ``random.Random(0)``, first 90 % train, the rest test."""
    if dataset.space.spec().get("name") != "bn":
        raise DataFormatError(f"the dvae-bn protocol is for Bayesian-network data, not {dataset.space.spec()}")
    return random_split(dataset, test_fraction=0.1, seed=0, skip_first=0)
