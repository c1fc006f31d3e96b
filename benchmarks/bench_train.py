"""Training throughput of NAS-Bench-201 networks; prints JSON.

Runs the library's own trainer (:func:`graphvae_nas.evaluation.trainer.train_network`) on
CIFAR-shaped synthetic batches (3x32x32, 10 classes, batch 256) with the default NB201 network
(C=16, N=5) of the benchmark's best CIFAR-10 cell, and reports steady-state images/s (the
first epoch, with cuDNN autotuning and compilation, is left out):

* ``fp32``: float32, NCHW (PyTorch's defaults, cuDNN may use TF32 for convolutions);
* ``bf16_channels_last``: bf16 autocast + channels-last memory layout (the trainer's GPU default);
* with ``--graphs``, both again under ``torch.compile(mode="reduce-overhead")`` (CUDA graphs):
  eager PyTorch spends most of a step of this small network launching kernels, which hides
  what the GPU itself gains from bf16;
* ``packing``: K = 1, 2, 4 trainings at once on one GPU, each in its own process (as Ray's
  fractional GPUs run them); aggregate images/s and the ratio to K = 1.

Without a GPU (or with ``--quick``) it runs a tiny CPU configuration as a smoke test. Usage:
``python benchmarks/bench_train.py [--device cuda] [--quick] [--graphs] [--no-packing] [--epochs 4]``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.images import ImageData
from graphvae_nas.evaluation.trainer import TrainingConfig, train_network
from graphvae_nas.spaces import get_space

BEST_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def synthetic_data(images: int, size: int, seed: int = 0) -> ImageData:
    """Random CIFAR-shaped images and labels (throughput does not depend on the pixels)."""
    gen = torch.Generator().manual_seed(seed)

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, 3, size, size, generator=gen), torch.randint(0, 10, (n,), generator=gen)

    train, valid, test = split(images), split(256), split(256)
    return ImageData("synthetic", *train, *valid, *test, num_classes=10, seed=seed)


def measure(settings: dict, barrier=None, results=None) -> dict:
    """Train once; images/s over the epochs after the first."""
    torch.set_num_threads(settings["threads"])
    data = synthetic_data(settings["images"], settings["size"])
    space = get_space("nb201")
    torch.manual_seed(0)
    module = space.to_module(space.parse(BEST_CELL), 10, C=settings["C"], N=settings["N"])
    config = TrainingConfig(epochs=settings["epochs"], batch_size=settings["batch"], device=settings["device"],
                            bf16=settings["bf16"], channels_last=settings["channels_last"],
                            compile=settings["compile"], augment=False)
    epochs: list[float] = []
    if barrier is not None:
        barrier.wait()
    start = time.perf_counter()
    train_network(module, data, config, on_epoch=lambda e, loss, s: epochs.append(s))
    steady = epochs[1:] or epochs
    out = {"images_per_s": settings["images"] * len(steady) / sum(steady),
           "epoch_s": [round(s, 3) for s in epochs], "wall_s": time.perf_counter() - start}
    if results is not None:
        results.put(out)
    return out


def packed(settings: dict, k: int) -> dict:
    """K concurrent trainings, one process each, started together."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(k), ctx.Queue()
    procs = [ctx.Process(target=measure, args=(settings, barrier, results)) for _ in range(k)]
    for p in procs:
        p.start()
    outs = [results.get() for _ in procs]
    for p in procs:
        p.join()
    return {"k": k, "aggregate_images_per_s": sum(o["images_per_s"] for o in outs),
            "per_training_images_per_s": [round(o["images_per_s"], 1) for o in outs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny CPU-sized configuration")
    parser.add_argument("--graphs", action="store_true", help="also measure compiled CUDA-graph training")
    parser.add_argument("--no-packing", action="store_true", help="skip the K concurrent trainings")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--images", type=int, default=256 * 40, help="training images per epoch")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    quick = args.quick or args.device == "cpu"
    base = {"device": args.device, "threads": args.threads, "batch": 256, "size": 32, "C": 16, "N": 5,
            "epochs": args.epochs, "images": args.images, "compile": False}
    if quick:
        base.update(batch=32, size=16, C=4, N=1, epochs=2, images=32 * 4)
    result: dict = {"device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
                    "torch": torch.__version__, "network": f"nb201 C={base['C']} N={base['N']}",
                    "cell": BEST_CELL, "batch": base["batch"], "image": [3, base["size"], base["size"]]}
    fp32 = measure({**base, "bf16": False, "channels_last": False})
    fast = measure({**base, "bf16": True, "channels_last": True})
    result["fp32"] = fp32
    result["bf16_channels_last"] = fast
    result["bf16_cl_over_fp32"] = fast["images_per_s"] / fp32["images_per_s"]
    if args.graphs and not quick:
        graphs32 = measure({**base, "bf16": False, "channels_last": False, "compile": "reduce-overhead"})
        graphs16 = measure({**base, "bf16": True, "channels_last": True, "compile": "reduce-overhead"})
        result["fp32_cuda_graphs"] = graphs32
        result["bf16_channels_last_cuda_graphs"] = graphs16
        result["graphs_bf16_cl_over_graphs_fp32"] = graphs16["images_per_s"] / graphs32["images_per_s"]
        result["graphs_bf16_cl_over_eager_fp32"] = graphs16["images_per_s"] / fp32["images_per_s"]
    if not quick and not args.no_packing:
        runs = [packed({**base, "bf16": True, "channels_last": True}, k) for k in (1, 2, 4)]
        for run in runs:
            run["over_k1"] = run["aggregate_images_per_s"] / runs[0]["aggregate_images_per_s"]
        result["packing"] = runs
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
