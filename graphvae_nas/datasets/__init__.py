"""Layer 3: architecture datasets, their file format, importers, merging and splits."""
from graphvae_nas.datasets.dataset import ArchitectureDataset, ArchitectureRecord
from graphvae_nas.datasets.importers import (
    ImportReport,
    SkippedLine,
    read_dvae_enas,
    read_table,
)
from graphvae_nas.datasets.jsonl import load_dataset, save_dataset
from graphvae_nas.datasets.merge import merge_datasets
from graphvae_nas.datasets.splits import dvae_bn_split, dvae_enas_split, random_split

__all__ = [
    "ArchitectureDataset", "ArchitectureRecord", "ImportReport", "SkippedLine", "dvae_bn_split", "dvae_enas_split",
    "load_dataset", "merge_datasets", "random_split", "read_dvae_enas", "read_table", "save_dataset",
]
