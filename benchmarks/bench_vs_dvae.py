"""Training throughput of our VAE beside D-VAE's own code, in one run on one machine; prints JSON.

D-VAE (github.com/muhanzhang/D-VAE) is not part of this project: fetch it, give it a Python
with torch, python-igraph, scipy, tqdm and matplotlib, and put ``final_structures6.txt`` in its
``data/`` folder. Its ``train.py`` only draws graphs with pygraphviz at start; a stub module on
``--dvae-pythonpath`` will do. Recent torch refuses ``ReduceLROnPlateau(verbose=True)``: remove
that argument from its ``train.py`` first. Then, for 1 and 2 threads, this script runs
``train.py --model DVAE --bidirectional --nz 56 --batch-size 32 --no-cuda`` (ENAS data, hidden
501) for ``--seconds`` seconds and reads the graphs/s of its progress bar (the median of the
rates it printed after the first quarter of the run), then measures our model with the same
settings (``bench_vae.train_throughput``, fp32 and, where fast, bf16; batch 32 and 128)::

    python benchmarks/bench_vs_dvae.py --dvae-dir /tmp/dvae --dvae-python /tmp/dvae-venv/bin/python \\
        --dvae-pythonpath /tmp/dvae/stubs
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_vae import train_throughput  # noqa: E402

from graphvae_nas.datasets import dvae_enas_split, read_dvae_enas  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402
from graphvae_nas.vae import GraphVAE, VAEConfig  # noqa: E402
from graphvae_nas.vae.trainer import bf16_is_fast  # noqa: E402

RATE = re.compile(r"([\d.]+)it/s")


def dvae_rate(args, threads: int) -> dict:
    """D-VAE's training graphs/s with ``threads`` threads, read off its progress bar."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": args.dvae_pythonpath or ""}
    command = [args.dvae_python, "train.py", "--data-name", "final_structures6", "--save-interval",
               "100", "--save-appendix", f"_speed{threads}", "--epochs", "1", "--lr", "1e-4",
               "--model", "DVAE", "--bidirectional", "--nz", "56", "--batch-size", "32",
               "--no-cuda"]
    started = time.perf_counter()
    try:
        run = subprocess.run(command, cwd=args.dvae_dir, env=env, capture_output=True, text=True,
                             timeout=args.seconds)
        output = run.stderr
    except subprocess.TimeoutExpired as stopped:
        output = stopped.stderr.decode() if isinstance(stopped.stderr, bytes) else (stopped.stderr or "")
    # the training bar: lines holding "Epoch: 1, loss" and a rate
    rates = [float(m.group(1)) for chunk in output.split("\r") if "Epoch: 1" in chunk
             for m in [RATE.search(chunk)] if m]
    if len(rates) < 8:
        raise SystemExit(f"D-VAE printed {len(rates)} training rates in {args.seconds} s; its "
                         f"output ends:\n{output[-2000:]}")
    kept = rates[len(rates) // 4:]
    return {"graphs_per_s": round(statistics.median(kept), 1), "readings": len(kept),
            "seconds": round(time.perf_counter() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dvae-dir", required=True, type=Path)
    parser.add_argument("--dvae-python", required=True)
    parser.add_argument("--dvae-pythonpath", help="folder with a pygraphviz stub")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seconds", type=int, default=120, help="D-VAE run per thread count")
    parser.add_argument("--repeats", type=int, default=3, help="our measurements per setting")
    args = parser.parse_args()
    train, _ = dvae_enas_split(read_dvae_enas(args.data_dir / "enas" / "final_structures6.txt").dataset)
    torch.manual_seed(0)
    model = GraphVAE(get_space("enas"), VAEConfig())
    graphs = model.batch(train.archs)
    precisions = ["fp32"] + (["bf16"] if bf16_is_fast(torch.device("cpu")) else [])
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_before": os.getloadavg()[0],
                    "settings": "ENAS, hidden 501, latent 56, bidirectional, Adam lr 1e-4",
                    "dvae": {}, "ours": {}}
    for threads in (1, 2):
        report["dvae"][f"threads{threads}_fp32_batch32"] = dvae_rate(args, threads)
        torch.set_num_threads(threads)
        for precision in precisions:
            for batch in (32, 128):
                runs = [train_throughput(model, graphs, batch, precision, max(3, 2048 // batch))
                        for _ in range(args.repeats)]
                report["ours"][f"threads{threads}_{precision}_batch{batch}"] = round(statistics.median(runs), 1)
        dvae = report["dvae"][f"threads{threads}_fp32_batch32"]["graphs_per_s"]
        for key, rate in list(report["ours"].items()):
            if key.startswith(f"threads{threads}_"):
                report.setdefault("ratio_to_dvae_same_threads", {})[key] = round(rate / dvae, 1)
        print(json.dumps(report["dvae"]), json.dumps(report["ours"]), file=sys.stderr)
    report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
