"""How far decode mode could go on the Asia BIC with a perfect surrogate; prints JSON.

Decode-mode latent BO offers the VAE's decodes as candidates and a surrogate picks among them.
This script replaces the surrogate by an oracle: each round, the decode generator of ``bo``
(:class:`~graphvae_nas.search.generators.DecodeGenerator`: ``--decodes`` points drawn around
the latent means of the ``--top`` best structures so far, std ``--scale`` x the latent box,
and ``--explore`` uniform in the box, each decoded once) offers its unseen structures, and the
``--batch-size`` with the best *true* BIC are evaluated. No surrogate can choose better among
the same candidates, so a run that misses the optimum here shows that the decodes never
offered it: the generator, not the surrogate, limits decode mode. With ``--retrain-every N``
the VAE is fine-tuned every N evaluations as ``bo``'s weighted retraining does (same options).
For comparison, ``--generator moves`` offers instead the candidates of a search over arc moves
(the one-arc moves and 200 two-step mutations of the ``--top`` best, as ``bo-structure``'s
``mutate.top`` does; ``class-moves``: the moves between equivalence classes). Rows are named
``oracle-GENERATOR``.
The strategy's counters (in each run's record) say how many rounds' candidates held any
structure better than the best so far (``rounds_with_improvement`` of ``rounds``) and how many
such candidates there were (``improving_candidates``).

Runs are recorded in ``bench_bn_search.py``'s format (its ``--summarise`` reads them), with the
same resume, partial-run and ``--workers`` behaviour::

    OMP_NUM_THREADS=1 python benchmarks/bench_bn_decode_oracle.py --data asia.csv --seeds 30 \\
        --runs runs/bn_oracle.jsonl
    python benchmarks/bench_bn_search.py --data asia.csv --summarise --runs runs/bn_oracle.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bn_search import exact_optimum, load_vae, markdown, table  # noqa: E402

from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.experiments.compare import run_record  # noqa: E402
from graphvae_nas.search.objectives import Objective  # noqa: E402
from graphvae_nas.experiments.runs_file import RunsFile, read_runs, run_jobs, run_study  # noqa: E402
from graphvae_nas.search.strategies.base import History, Proposal, random_unseen  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402
from graphvae_nas.vae.default_model import default_model_path  # noqa: E402

TAG = "oracle"
_STATE: dict = {}


class OracleChoice:
    """``generator``'s candidates ranked by their true score (``evaluator``); the first
    ``n_init`` proposals are random, as the surrogate strategies' are."""

    def __init__(self, generator: Any, evaluator: BNScoreEvaluator, n_init: int = 10) -> None:
        self.generator = generator
        self.evaluator = evaluator
        self.n_init = n_init
        self.counters: dict[str, float] = {"oracle_candidates": 0, "random_fallbacks": 0,
                                           "rounds": 0, "rounds_with_improvement": 0,
                                           "improving_candidates": 0}

    def spec(self) -> dict[str, Any]:
        return {"name": TAG, "n_init": self.n_init, "generator": self.generator.spec()}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        import torch

        from graphvae_nas.search.generators import Round
        from graphvae_nas.search.strategies.surrogate import observations

        archs, Y = observations(history)
        if len(archs) < self.n_init:
            return random_unseen(history.space, history, rng, min(n, self.n_init - len(archs)),
                                 tag="random-init")
        seed = rng.getrandbits(62)
        state = Round(history, n, seed, archs, Y, torch.zeros(len(archs), 0), None, None,
                      torch.Generator().manual_seed(seed))
        candidates = self.generator.candidates(state)
        self.counters["oracle_candidates"] += len(candidates)
        scores = self.evaluator.score_many(candidates)
        better = int((scores > float(Y.max())).sum()) if candidates else 0    # BIC: larger is better
        self.counters["rounds"] += 1
        self.counters["rounds_with_improvement"] += better > 0
        self.counters["improving_candidates"] += better
        order = sorted(range(len(candidates)), key=lambda i: -scores[i])[:n]
        out = [Proposal(candidates[i], TAG) for i in order]
        if len(out) < n:
            self.counters["random_fallbacks"] += n - len(out)
            out += random_unseen(history.space, history, random.Random(seed), n - len(out),
                                 exclude={p.arch.canonical_hash for p in out},
                                 tag=f"{TAG}-random-fallback")
        return out


def _init_worker(data: str, model: str | None, settings: dict) -> None:
    import torch

    torch.set_num_threads(1)
    space = get_space(f"bn:data={data}")
    _STATE.update(space=space, evaluator=BNScoreEvaluator(space, score="bic"), settings=settings,
                  vae=load_vae(space, model) if settings["oracle"]["generator"] == "decodes" else None)


def _strategy(settings: dict) -> Any:
    from graphvae_nas.search.configs import DecodeConfig, RetrainConfig, make_config
    from graphvae_nas.search.generators import DecodeGenerator, MutationGenerator
    from graphvae_nas.search.latent import LatentSpace
    from graphvae_nas.search.strategies.retraining import WeightedRetraining

    o = settings["oracle"]
    evaluator = _STATE["evaluator"]
    if o["generator"] != "decodes":
        return OracleChoice(MutationGenerator(_STATE["space"], top=o["top"], mutations=200,
                                              between_classes=o["generator"] == "class-moves"),
                            evaluator)
    vae, _, box = _STATE["vae"]

    decode = make_config(DecodeConfig, {"neighbourhood": o["decodes"], "top": o["top"],
                                        "scale": o["scale"], "explore": o["explore"]})

    def build(model: Any) -> OracleChoice:
        return OracleChoice(DecodeGenerator(LatentSpace(model, box), decode), evaluator)
    if not o["retrain_every"]:
        return build(vae)
    retrain = make_config(RetrainConfig, {"every": o["retrain_every"], "k": o["retrain_k"],
                                          "epochs": o["retrain_epochs"]})
    return WeightedRetraining(build, vae, retrain)


def _run_one(job: tuple[str, int]) -> dict:
    from graphvae_nas.search import Study

    name, seed = job
    settings = _STATE["settings"]
    space, evaluator = _STATE["space"], _STATE["evaluator"]
    study = Study(space, _strategy(settings), evaluator, seed=seed,
                  objectives=[Objective(evaluator.objective)])
    return run_study(study, settings["budget"], settings["batch_size"],
                     lambda done, seconds: run_record(done, name, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CSV of discrete data (asia.csv)")
    parser.add_argument("--model", help="bn VAE (default: the space's cached default VAE)")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--budgets", default="100,200,500", help="budgets reported")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--generator", choices=["decodes", "moves", "class-moves"],
                        default="decodes",
                        help="candidates: the VAE's decodes, or for comparison the one-arc moves "
                             "and 200 two-step mutations of the --top best (bo-structure's "
                             "mutation candidates; class-moves: moves between equivalence classes)")
    parser.add_argument("--top", type=int, default=5,
                        help="structures decoded around (or mutated: give 10 as bo-structure)")
    parser.add_argument("--scale", type=float, default=0.02, help="noise, x the latent box")
    parser.add_argument("--decodes", type=int, default=1000, help="decodes around them a round")
    parser.add_argument("--explore", type=int, default=0, help="uniform decodes a round")
    parser.add_argument("--retrain-every", type=int, default=0)
    parser.add_argument("--retrain-k", type=float, default=1e-3)
    parser.add_argument("--retrain-epochs", type=int, default=2)
    parser.add_argument("--runs", type=Path, default=Path("runs/bn_oracle.jsonl"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    space = get_space(f"bn:data={args.data}")
    optimum = exact_optimum(BNScoreEvaluator(space, score="bic"))
    oracle = {"generator": args.generator, "top": args.top, "scale": args.scale,
              "decodes": args.decodes,
              "explore": args.explore, "retrain_every": args.retrain_every,
              "retrain_k": args.retrain_k, "retrain_epochs": args.retrain_epochs}
    vae_name = None    # the VAE's file, named without loading it here (the workers load it)
    if args.generator == "decodes":
        vae_name = Path(args.model).name if args.model else default_model_path(space).name
    settings = {"data": str(Path(args.data).resolve()), "budget": args.budget,
                "batch_size": args.batch_size, "oracle": oracle, "model": vae_name}
    args.runs.parent.mkdir(parents=True, exist_ok=True)
    name = f"oracle-{args.generator}"
    jobs = [(name, seed) for seed in range(args.first_seed, args.first_seed + args.seeds)]
    run_jobs(jobs, _run_one, workers=args.workers, initializer=_init_worker,
             initargs=(args.data, args.model, settings), record=RunsFile(args.runs, settings),
             on_run=lambda run: print(f"seed {run['seed']}: best {max(run['objective']):.4f}",
                                      file=sys.stderr))
    runs, _ = read_runs([args.runs])
    budgets = [int(b) for b in args.budgets.split(",")]
    rows = table(runs, budgets, optimum)
    if args.markdown:
        print(markdown(rows, budgets, optimum, pool_note=False))
    else:
        print(json.dumps({"optimum": optimum, "settings": settings, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
