"""Speed and memory of the dataset tooling on the real benchmark tables; prints JSON.

Scenarios (each in a fresh subprocess, so peak RSS is its own):

* ``nb201``: import the three full NB201 tables (200-epoch, 12-epoch, hardware cost), merge
  them by canonical hash, convert every cell to a PyG ``Data``. Target: < 3 s, < 400 MB.
* ``enas``: import D-VAE's 20,020-line ENAS file with canonical hashing. Target: < 3 s.

``work_s`` times the data work alone; ``import_s`` is the one-off import of torch, PyG and
graphvae_nas in that process; ``total_s`` is the subprocess wall time, interpreter start
included. Usage: ``python benchmarks/bench_datasets.py [--data-dir ../shared/data]``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def scenario_nb201(data_dir: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    import torch_geometric.data  # noqa: F401  (timed as import, not work)

    from graphvae_nas.datasets import merge_datasets, read_table
    from graphvae_nas.spaces import get_space

    t1 = time.perf_counter()
    space = get_space("nb201")
    folder = data_dir / "nasbench201"
    parts = [read_table(folder / "nb201_cifar10_200ep.csv", space).dataset,
             read_table(folder / "nb201_all_12ep.csv", space, prefix="12ep_").dataset,
             read_table(folder / "hw_cifar10.csv", space, prefix="hw_").dataset]
    t2 = time.perf_counter()
    merged = merge_datasets(parts)
    del parts  # a pipeline keeps only the merged table
    t3 = time.perf_counter()
    graphs = merged.to_pyg()
    t4 = time.perf_counter()
    return {"records": len(merged), "metrics": len(merged.metrics), "pyg_graphs": len(graphs),
            "import_s": t1 - t0, "read_s": t2 - t1, "merge_s": t3 - t2, "to_pyg_s": t4 - t3,
            "work_s": t4 - t1}


def scenario_enas(data_dir: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    from graphvae_nas.datasets import read_dvae_enas

    t1 = time.perf_counter()
    report = read_dvae_enas(data_dir / "enas" / "final_structures6.txt")
    unique = report.dataset.num_unique()  # computes every canonical hash
    t2 = time.perf_counter()
    return {"records": len(report.dataset), "unique": unique,
            "import_s": t1 - t0, "work_s": t2 - t1}


SCENARIOS = {"nb201": scenario_nb201, "enas": scenario_enas}
TARGETS = {"nb201": {"work_s": 3.0, "peak_rss_mb": 400.0}, "enas": {"work_s": 3.0}}


def run_child(name: str, data_dir: Path) -> None:
    result = SCENARIOS[name](data_dir)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; best is kept")
    parser.add_argument("--child", choices=sorted(SCENARIOS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.data_dir)
        return
    if not (args.data_dir / "nasbench201").is_dir():
        sys.exit(f"benchmark data not found under {args.data_dir} (see data/README.md)")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    report: dict[str, object] = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    for name in SCENARIOS:
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--child", name, "--data-dir",
                                  str(args.data_dir)], env=env, check=True, capture_output=True,
                                 text=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            run["total_s"] = time.perf_counter() - start
            runs.append(run)
        best = min(runs, key=lambda r: r["work_s"])
        best = {k: round(v, 3) if isinstance(v, float) else v for k, v in best.items()}
        best["peak_rss_mb_max_over_runs"] = round(max(r["peak_rss_mb"] for r in runs), 1)
        best["targets"] = TARGETS[name]
        best["meets_targets"] = all(
            best.get(key, 0) <= limit for key, limit in TARGETS[name].items())
        report[name] = best
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
