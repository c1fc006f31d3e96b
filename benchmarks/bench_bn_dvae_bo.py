"""D-VAE's latent BO protocol on the Asia BN's BIC, over seeds; appends runs, prints JSON.

The protocol of D-VAE's ``bayesian_optimization`` (Zhang et al., NeurIPS 2019), which follows
the grammar VAE's: a sparse GP (500 inducing points) starts from the latent means of scored
training DAGs (here ``--initial`` 5,000 of the VAE's training set, drawn per seed; they are not
counted as evaluations), then ``--rounds`` 10 rounds of ``--batch`` 50: fit the GP on every
latent point so far (targets standardised), choose the batch greedily by expected improvement
under the kriging believer in the box of those points (:func:`graphvae_nas.experiments.believer.
believer_batch`: a uniform grid of 10,000, then L-BFGS-B), decode each point as the most frequent
of ``--decode-attempts`` stochastic decodes, score the decodes, and add (point, score). Each of
the 500 decodes counts as an evaluation, repeats included, as in D-VAE.

Where this differs from D-VAE's code: the GP is fitted by L-BFGS (``--fit-iters`` steps) on
the exact SGPR marginal likelihood, not by Adam on minibatches; each point is the grid's best,
not polished further by L-BFGS-B (``--polish-starts``: gradients through the sparse GP cost
about 19 s a point on one CPU thread); decodes take the most frequent of 50 attempts, not 500. Without ``--model`` the VAE is the bn space's default one (hidden 128,
latent 16, trained on 40,000 DAGs at arc probability 1/4), not D-VAE's (hidden 501, latent 56,
180,000 DAGs): the row is labelled with the VAE it used. With ``--model`` give the dataset it was
trained on (``--train-data``, e.g. the output of ``examples/reproduce_dvae_bn.py``: D-VAE's 90/10
split is applied and its training part used).

Runs go to ``--runs`` in the format of ``bench_bn_search.py`` (strategy ``dvae-protocol``), so
``bench_bn_search.py --summarise --runs ...`` puts them in the same table; seeds already in the
file are skipped, so an interrupted comparison resumes (a file written with other settings is
refused). A seed that fails is recorded marked partial, with its error and the rounds it
finished, and is run again on the next call::

    OMP_NUM_THREADS=1 python benchmarks/bench_bn_dvae_bo.py --data ../shared/data/bn/asia.csv \\
        --seeds 5 --runs runs/bn_dvae_bo.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.experiments.runs_file import (  # noqa: E402
    RunsFile,
    run_jobs,
    stopped_run,
)
from graphvae_nas.spaces import get_space  # noqa: E402

STRATEGY = "dvae-protocol"


def run_seed(seed: int, model, training: list, evaluator: BNScoreEvaluator,
             settings: dict) -> dict:
    """One run of the protocol (module docstring); the record ``bench_bn_search`` reads."""
    import torch

    from graphvae_nas.experiments.believer import believer_batch
    from graphvae_nas.search.latent import LatentSpace
    from graphvae_nas.surrogates.gp import fit_hyperparameters, make_gp

    start = time.perf_counter()
    initial = random.Random(seed).sample(training, settings["initial"])
    latent = LatentSpace(model, initial)
    x = latent.means(initial)
    y = evaluator.score_many(initial)
    initial_hashes = {a.canonical_hash for a in initial}
    seen = set(initial_hashes)
    generator = torch.Generator().manual_seed(seed)
    objective: list[float | None] = []
    overhead = 0.0
    counters = {"invalid_decodes": 0, "repeats_of_initial": 0, "repeats_within_run": 0,
                "failed_fits": 0, "initial_best": float(y.max())}
    rounds: list[dict] = []

    def record() -> dict:
        return {"strategy": STRATEGY, "seed": seed, "seconds": time.perf_counter() - start,
                "overhead_s": overhead, "proposals": len(objective), "direction": "max",
                "objective": objective, "report": objective, "counters": counters,
                "rounds": rounds}

    try:
        for index in range(settings["rounds"]):
            began = time.perf_counter()
            targets = (y - y.mean()) / y.std()
            gp = make_gp(x, torch.from_numpy(targets), inducing_points=settings["inducing"],
                         seed=seed * 1000 + index)
            if not fit_hyperparameters(gp, max_iter=settings["fit_iters"], strict=False):
                counters["failed_fits"] += 1
            bounds = torch.stack([x.min(0).values, x.max(0).values])
            points = believer_batch(gp, bounds, settings["batch"], generator=generator,
                                    grid_size=settings["grid"],
                                    polish_starts=settings["polish_starts"])
            with torch.no_grad():
                predicted = gp.posterior(points).mean.reshape(-1).numpy() * y.std() + y.mean()
            decoded = model.decode(points, samples=settings["decode_attempts"],
                                   seed=seed * 1000 + index)
            overhead += time.perf_counter() - began
            scores = []
            for arch in decoded:
                if arch is None:
                    counters["invalid_decodes"] += 1
                    scores.append(None)
                    continue
                if arch.canonical_hash in seen:
                    counters["repeats_of_initial" if arch.canonical_hash in initial_hashes
                             else "repeats_within_run"] += 1
                seen.add(arch.canonical_hash)
                scores.append(float(evaluator.score(arch)))
            objective.extend(scores)
            keep = [i for i, s in enumerate(scores) if s is not None]
            valid = np.array([scores[i] for i in keep])
            x = torch.cat([x, points[keep]])
            y = np.concatenate([y, valid])
            rounds.append({"best": float(valid.max()) if len(valid) else None,
                           "mean": float(valid.mean()) if len(valid) else None,
                           "predicted_mean": float(predicted[keep].mean()) if keep else None,
                           "pearson_predicted": float(np.corrcoef(predicted[keep], valid)[0, 1])
                           if len(valid) > 2 and valid.std() > 0 and predicted[keep].std() > 0
                           else None,
                           "distinct": len({decoded[i].canonical_hash for i in keep}),
                           "seconds": time.perf_counter() - began})
            print(f"seed {seed} round {index + 1}: best of batch {rounds[-1]['best']}, "
                  f"best so far {max(s for s in objective if s is not None):.4f}, "
                  f"{rounds[-1]['seconds']:.1f} s", file=sys.stderr)
    except (Exception, KeyboardInterrupt) as exc:
        raise stopped_run(f"{STRATEGY} seed {seed} stopped in round {len(rounds) + 1}", record(),
                          exc) from exc
    return record()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CSV of discrete data (asia.csv)")
    parser.add_argument("--model", type=Path,
                        help="a trained bn VAE (default: the space's cached default VAE)")
    parser.add_argument("--train-data", type=Path,
                        help="with --model: the dataset it was trained on (D-VAE's split applied)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--initial", type=int, default=5000, help="scored training latents (D-VAE: 5,000)")
    parser.add_argument("--rounds", type=int, default=10, help="D-VAE: 10")
    parser.add_argument("--batch", type=int, default=50, help="D-VAE: 50")
    parser.add_argument("--grid", type=int, default=10_000, help="random grid of each step (D-VAE: 10,000)")
    parser.add_argument("--polish-starts", type=int, default=0,
                        help="L-BFGS-B polish of each point from the best grid points (D-VAE "
                             "polishes; through the sparse GP it costs about 19 s a point here)")
    parser.add_argument("--inducing", type=int, default=500, help="inducing points (D-VAE: 500)")
    parser.add_argument("--fit-iters", type=int, default=20, help="L-BFGS steps of each GP fit")
    parser.add_argument("--decode-attempts", type=int, default=50,
                        help="stochastic decodes per point, the most frequent kept (D-VAE: 500)")
    parser.add_argument("--runs", type=Path, default=Path("runs/bn_dvae_bo.jsonl"))
    parser.add_argument("--workers", type=int, default=1, help="processes (one thread each)")
    args = parser.parse_args()
    if (args.model is None) != (args.train_data is None):
        parser.error("--model and --train-data go together (the protocol draws its initial "
                     "points from the VAE's training set)")

    import torch

    torch.set_num_threads(1)
    space = get_space(f"bn:data={args.data}")
    model, training, model_name = load_vae(space, args.model, args.train_data)
    if args.initial > len(training):
        parser.error(f"--initial {args.initial} exceeds the VAE's {len(training)} training DAGs")
    settings = {"data": str(Path(args.data).resolve()), "model": model_name,
                "initial": args.initial, "rounds": args.rounds, "batch": args.batch,
                "grid": args.grid, "polish_starts": args.polish_starts, "inducing": args.inducing,
                "fit_iters": args.fit_iters, "decode_attempts": args.decode_attempts}
    args.runs.parent.mkdir(parents=True, exist_ok=True)
    record = RunsFile(args.runs, settings)
    done = record.load()
    jobs = [(STRATEGY, seed) for seed in range(args.first_seed, args.first_seed + args.seeds)]
    for job in jobs:
        if job in done:
            print(f"seed {job[1]}: already in {args.runs}", file=sys.stderr)
    runs = run_jobs(jobs, _run_one, workers=args.workers, initializer=_init_worker,
                    initargs=(args.data, args.model, args.train_data, settings), record=record)
    finished = [{"seed": run["seed"], "best": max(o for o in run["objective"] if o is not None),
                 "initial_best": run["counters"]["initial_best"],
                 "overhead_s_per_proposal": run["overhead_s"] / run["proposals"]} for run in runs]
    print(json.dumps({"settings": settings, "runs": str(args.runs), "finished": finished},
                     indent=2))


def load_vae(space, model: Path | None, train_data: Path | None) -> tuple:
    """(VAE, its training DAGs, its file's name): ``model`` and the training part of D-VAE's
    split of ``train_data``, or the space's default VAE and its training DAGs."""
    if model is None:
        from graphvae_nas.vae.default_model import default_model

        vae, training, path = default_model(space, progress=False)
        return vae.eval(), training, path.name
    from graphvae_nas.datasets import dvae_bn_split, load_dataset
    from graphvae_nas.vae.persistence import load_model

    vae, _ = load_model(model, space=space)
    training = dvae_bn_split(load_dataset(train_data, space=space, verify=False))[0].archs
    return vae.eval(), training, model.name


_STATE: dict = {}


def _init_worker(data: str, model: Path | None, train_data: Path | None, settings: dict) -> None:
    import torch

    torch.set_num_threads(1)
    space = get_space(f"bn:data={data}")
    vae, training, _ = load_vae(space, model, train_data)
    _STATE.update(evaluator=BNScoreEvaluator(space, score="bic"), vae=vae, training=training,
                  settings=settings)


def _run_one(job: tuple[str, int]) -> dict:
    return run_seed(job[1], _STATE["vae"], _STATE["training"], _STATE["evaluator"],
                    _STATE["settings"])


if __name__ == "__main__":
    main()
