"""Speed and memory of the graph VAE with D-VAE's ENAS settings; prints JSON.

Measures, on D-VAE's ENAS training data (hidden 501, latent 56, bidirectional):

* training throughput (graphs/s, optimiser step included) at batch 32 and larger batches, for
  1 and 2 CPU threads, in fp32 and in bf16 autocast where the CPU has fast bf16; the median
  of ``--repeats`` measurements (shared machines vary by some 10 % from run to run);
* stochastic decoding throughput (graphs/s);
* the time of the full generative evaluation: reconstruction (1,902 test graphs x 10 encodings
  x 10 decodes) plus validity, uniqueness and novelty (1,000 prior samples x 10 decodes);
* peak resident memory of the process.

D-VAE's own code is measured beside ours by ``bench_vs_dvae.py`` (same run, same machine).
Timings use a freshly initialised model: cost does not depend on the weights
for fixed-size spaces such as ENAS. Usage:
``python benchmarks/bench_vae.py [--data-dir ../shared/data] [--quick] [--device cpu]
[--repeats 3]``.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.datasets import dvae_enas_split, read_dvae_enas
from graphvae_nas.spaces import get_space
from graphvae_nas.vae import GraphVAE, VAEConfig
from graphvae_nas.vae.allocator import retain_freed_memory
from graphvae_nas.vae.metrics import (
    encode_means,
    prior_metrics,
    reconstruction_accuracy,
)
from graphvae_nas.vae.trainer import autocast_context, bf16_is_fast, pick_device

def train_throughput(model: GraphVAE, graphs, batch: int, precision: str, steps: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=model.device.type == "cpu")
    batches = [graphs[torch.arange(i * batch, (i + 1) * batch) % len(graphs)] for i in range(steps + 2)]

    def step(b):
        with autocast_context(model.device, precision):
            parts = model.loss(b)
        optimizer.zero_grad(set_to_none=True)
        parts.loss.backward()
        optimizer.step()

    for b in batches[:2]:  # warm-up
        step(b)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for b in batches[2:]:
        step(b)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3,
                        help="training measurements per setting; the median is reported")
    args = parser.parse_args()
    source = args.data_dir / "enas" / "final_structures6.txt"
    if not source.exists():
        sys.exit(f"{source} not found (see data/README.md)")
    train, test = dvae_enas_split(read_dvae_enas(source).dataset)
    device = pick_device(args.device)
    torch.manual_seed(0)
    model = GraphVAE(get_space("enas"), VAEConfig()).to(device)
    graphs = model.batch(train.archs)
    precisions = ["fp32"] + (["bf16"] if bf16_is_fast(device) else [])
    thread_counts = [1, 2] if device.type == "cpu" else [torch.get_num_threads()]
    batches = [32, 128] if args.quick else [32, 64, 128, 256]
    retained = device.type == "cpu" and retain_freed_memory()   # as train_vae does on the CPU
    report: dict[str, object] = {"device": str(device), "config": model.config.to_dict(),
                                 "train_graphs_per_s": {},
                                 "train_graphs_per_s_runs": {}, "epoch_s": {},
                                 "retain_freed_memory": retained}
    for threads in thread_counts:
        torch.set_num_threads(threads)
        for precision in precisions:
            for batch in batches:
                steps = max(3, (256 if args.quick else 2048) // batch)
                runs = [train_throughput(model, graphs, batch, precision, steps)
                        for _ in range(max(1, args.repeats))]
                rate = statistics.median(runs)
                key = f"threads{threads}_{precision}_batch{batch}"
                report["train_graphs_per_s"][key] = round(rate, 1)
                report["train_graphs_per_s_runs"][key] = [round(r, 1) for r in runs]
                report["epoch_s"][key] = round(len(train) / rate, 2)  # one pass over the 17,118 graphs
                print(f"{key}: {rate:.0f} graphs/s", file=sys.stderr)
    torch.set_num_threads(thread_counts[-1])
    precision = "bf16" if "bf16" in precisions else "fp32"
    model.eval()
    with autocast_context(device, precision):
        z = torch.randn(4096, model.config.latent_size, generator=torch.Generator().manual_seed(0)).to(device)
        start = time.perf_counter()
        model.decode_raw(z, generator=torch.Generator(device=device).manual_seed(0))
        report["decode_graphs_per_s"] = round(z.shape[0] / (time.perf_counter() - start), 1)
        test_archs = test.archs[:200] if args.quick else test.archs
        start = time.perf_counter()
        reconstruction_accuracy(model, test_archs, encode_times=10, decode_times=10)
        recon_s = time.perf_counter() - start
        start = time.perf_counter()
        train_mu, _ = encode_means(model, train.archs)
        prior_metrics(model, train_mu, train.hashes, num_samples=1000, decode_times=10)
        prior_s = time.perf_counter() - start
    report["eval_precision"] = precision
    report["eval_threads"] = torch.get_num_threads()
    report["reconstruction_graphs"] = len(test_archs)
    report["reconstruction_s"] = round(recon_s, 2)
    report["validity_uniqueness_novelty_s"] = round(prior_s, 2)
    report["full_generative_eval_s"] = round(recon_s + prior_s, 2)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if device.type == "cuda":
        report["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
