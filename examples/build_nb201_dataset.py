"""Build one NAS-Bench-201 dataset from the three published tables and summarise it.

Every one of the 15,625 cells gets its 200-epoch CIFAR-10 accuracies, its 12-epoch accuracies
on CIFAR-10/100 and ImageNet16-120 (prefixed ``12ep_``) and its hardware costs (``hw_``),
matched by canonical hash. Usage::

    python examples/build_nb201_dataset.py [--data-dir ../shared/data/nasbench201] [-o nb201.jsonl]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from graphvae_nas.datasets import merge_datasets, read_table, save_dataset
from graphvae_nas.spaces import get_space

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nasbench201"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("-o", "--out", type=Path, default=Path("nb201.jsonl"))
    args = parser.parse_args()

    space = get_space("nb201")
    tables = [("nb201_cifar10_200ep.csv", ""), ("nb201_all_12ep.csv", "12ep_"),
              ("hw_cifar10.csv", "hw_")]
    missing = {"hw_cifar10.csv": {"edgetpu_latency": -1}}  # HW-NAS-Bench's "not measured"
    parts = []
    for name, prefix in tables:
        report = read_table(args.data_dir / name, space, prefix=prefix,
                            missing_values=missing.get(name))
        print(f"{name}: {report.summary()}")
        parts.append(report.dataset)
    dataset = merge_datasets(parts, names=[name for name, _ in tables])
    save_dataset(dataset, args.out)

    stats = dataset.stats()
    print(f"{args.out}: {stats['count']} cells ({stats['unique']} unique), "
          f"{len(stats['metrics'])} metrics")
    for metric in ("cifar10_test", "12ep_cifar100_test", "hw_edgegpu_latency"):
        entry = stats["metrics"][metric]
        print(f"  {metric}: min {entry['min']:.4g}  mean {entry['mean']:.4g}  max {entry['max']:.4g}"
              f"  (max at {entry['argmax']})")


if __name__ == "__main__":
    main()
