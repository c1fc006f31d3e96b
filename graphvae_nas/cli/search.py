"""``graphvae-nas search``: run (or resume) one search study.

Two kinds of evaluation: look scores up in an imported benchmark table (``--dataset``), or
train every proposed architecture for real on image data (no ``--dataset``). With no arguments
at all it runs the embedded default: latent BO over NAS-Bench-201 cells, each trained on
scikit-learn's handwritten digits on this machine's CPU or GPU.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from graphvae_nas.cli.training_args import add_training_arguments, training_evaluator
from graphvae_nas.errors import DataFormatError, GraphVAENASError

TRAINING_DEFAULTS = {"budget": 24, "batch_size": 4, "report": "test_acc,test_f1"}
TABULAR_DEFAULTS = {"budget": 150, "batch_size": 5}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from graphvae_nas.search.factory import STRATEGY_NAMES

    p = subparsers.add_parser(
        "search", help="search a space for its best architecture (no arguments: the default "
                       "real-training search on digits)")
    p.add_argument("--space", help="search space (default: the dataset's; nb201 when training)")
    p.add_argument("--dataset", help="architecture table to look scores up in (omit to train "
                                     "every proposed architecture for real)")
    p.add_argument("--objective", help="column to maximise, e.g. cifar10_valid (training: valid_acc)")
    p.add_argument("--report", help="comma-separated columns to record, e.g. cifar10_test")
    p.add_argument("--cost", help="column of simulated evaluation cost")
    p.add_argument("--strategy", choices=STRATEGY_NAMES, default="bo",
                   help="bo: latent BO decoding new cells; bo-pool: latent BO over the table's cells")
    p.add_argument("--model", help="trained VAE for bo / bo-pool (default when training: a small "
                                   "VAE of the space, trained once and cached)")
    p.add_argument("--bo-options", default="{}",
                   help='JSON of LatentBO options for bo / bo-pool, e.g. \'{"acquisition": "ucb"}\'')
    p.add_argument("--budget", type=int, help="architectures to evaluate (150 tabular, 24 training)")
    p.add_argument("--batch-size", type=int, help="architectures proposed per round (5 tabular, 4 training)")
    p.add_argument("--seed", type=int, default=0, help="seed of the strategy (and of training)")
    p.add_argument("--out", help="results folder (default: runs/search-TIMESTAMP)")
    p.add_argument("--resume", action="store_true", help="continue the study in --out")
    p.add_argument("--threads", type=int, help="CPU threads (default: torch's)")
    g = p.add_argument_group("real training (when no --dataset is given)")
    add_training_arguments(g)
    g.add_argument("--executor", choices=["serial", "ray"], default="serial",
                   help="ray: evaluate each round's proposals as Ray tasks (distributed extra)")
    g.add_argument("--ray-address", help="Ray cluster to join (default: start a local one)")
    g.add_argument("--gpus-per-trial", type=float, default=0.0,
                   help="GPU share of one training under ray (0.25 packs four per GPU)")
    g.add_argument("--trial-timeout", type=float, help="seconds before a training counts as failed (ray)")
    p.set_defaults(func=cmd_search)


def _default_out() -> Path:
    return Path("runs") / time.strftime("search-%Y%m%d-%H%M%S")


def _tabular_setup(args: argparse.Namespace):
    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.spaces import get_space

    if not args.objective:
        raise GraphVAENASError("--objective is required with --dataset (a column of the table)")
    space = get_space(args.space) if args.space else None
    dataset = load_dataset(args.dataset, space=space)
    report = [c.strip() for c in (args.report or "").split(",") if c.strip()]
    evaluator = TabularEvaluator(dataset, args.objective, report=report, cost=args.cost)
    return dataset.space, evaluator, dataset.archs


def _training_setup(args: argparse.Namespace):
    from graphvae_nas.spaces import get_space

    space = get_space(args.space or "nb201")
    return space, training_evaluator(args, space, objective=args.objective or "valid_acc"), None


def _executor(args: argparse.Namespace):
    if args.executor == "serial":
        return None
    from graphvae_nas.evaluation.ray_executor import RayExecutor

    return RayExecutor(gpus_per_trial=args.gpus_per_trial, timeout_s=args.trial_timeout,
                       address=args.ray_address)


def _strategy(args: argparse.Namespace, space, candidates):
    from graphvae_nas.search import make_strategy

    if args.strategy not in ("bo", "bo-pool"):
        return make_strategy(args.strategy)
    bo_options = _bo_options(args.bo_options)
    if args.model:
        from graphvae_nas.vae.default_model import training_architectures
        from graphvae_nas.vae.persistence import load_model

        model, _ = load_model(args.model, space=space)
        name = Path(args.model).name
        candidates = candidates if candidates is not None else training_architectures(space, args.seed)
    else:
        if candidates is not None:
            raise GraphVAENASError(f"strategy {args.strategy!r} needs a trained VAE of the table's "
                                   "space (--model; train one with `graphvae-nas vae train`)")
        from graphvae_nas.vae.default_model import default_model

        model, candidates, path = default_model(space)
        name = path.name
    options = {"n_init": 8} if candidates is not None and args.dataset is None else {}
    options.update(bo_options)
    return make_strategy(args.strategy, model=model, model_name=name, candidates=candidates, **options)


def _bo_options(text: str) -> dict:
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphVAENASError(f"--bo-options is not valid JSON: {exc}") from None
    if not isinstance(options, dict):
        raise GraphVAENASError("--bo-options must be a JSON object of LatentBO options")
    return options


def cmd_search(args: argparse.Namespace) -> None:
    import torch

    from graphvae_nas.search import Study, StudyStore

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.resume and not args.out:
        raise GraphVAENASError("--resume needs --out (the folder of the study to continue)")
    out = Path(args.out) if args.out else _default_out()
    if out.exists() and not out.is_dir():
        raise DataFormatError("is a file, not a folder", path=str(out))
    training = args.dataset is None
    defaults = TRAINING_DEFAULTS if training else TABULAR_DEFAULTS
    budget = args.budget or defaults["budget"]
    batch_size = args.batch_size or defaults["batch_size"]
    if training:
        args.report = args.report or TRAINING_DEFAULTS["report"]
        space, evaluator, candidates = _training_setup(args)
    else:
        space, evaluator, candidates = _tabular_setup(args)
    Study.check_budget(space, budget)
    strategy = _strategy(args, space, candidates)
    out.mkdir(parents=True, exist_ok=True)
    store = StudyStore(out / "study.jsonl", Study.store_header(space, strategy, evaluator, args.seed),
                       resume=args.resume)
    study = Study(space, strategy, evaluator, seed=args.seed, store=store)
    print(f"searching {space.name} with {args.strategy}: {budget} architectures, "
          + ("scored by training on " + args.data if training else "looked up in " + str(args.dataset))
          + f"; results in {out}/", file=sys.stderr)
    executor = _executor(args)
    start = time.perf_counter()
    try:
        study.optimize(budget, batch_size=batch_size, progress=True, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown()
    _write_results(args, out, space, study, evaluator, training, time.perf_counter() - start)


def _write_results(args, out: Path, space, study, evaluator, training: bool, seconds: float) -> None:
    objective = evaluator.objective
    report = [c.strip() for c in (args.report or "").split(",") if c.strip()]
    best = study.best()
    summary = {
        "space": space.spec(), "strategy": study.strategy.spec(), "evaluator": evaluator.spec(),
        "seed": args.seed, "objective": objective, "trials": len(study.trials),
        "best": None if best is None else {
            "trial": best.number, "arch": space.format(best.arch), "objective": best.objective,
            "metrics": best.evaluation.metrics, "info": best.evaluation.info},
        "overhead_s_per_proposal": study.stats.overhead_s / max(study.stats.proposals, 1),
        "wall_s_this_session": seconds,
        "strategy_counters": study.stats.strategy,
        "failures": [{"trial": t.number, "reason": t.evaluation.failure}
                     for t in study.trials if t.objective is None],
    }
    if not training:
        summary["table_optimum"] = evaluator.best()[1]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _plot_curve(out / "curve.png", study, objective, report[0] if report else None, training)
    if best is not None:
        shown = [k for k in report if k in best.evaluation.metrics] or list(best.evaluation.metrics)
        extra = ", ".join(f"{k} {best.evaluation.metrics[k]:.4g}" for k in shown)
        print(f"best after {len(study.trials)} queries: {space.format(best.arch)}\n"
              f"  {objective} {best.objective:.4g}" + (f", {extra}" if extra else ""))
    print(f"results in {out}/ (study.jsonl, summary.json, curve.png)", file=sys.stderr)


def _plot_curve(path: Path, study, objective: str, report: str | None, training: bool) -> None:
    """curve.png: the best objective so far and the report of the best-by-objective trial."""
    try:
        from graphvae_nas.viz import plot_curves
    except ImportError as exc:
        print(f"no curve plot: {exc}", file=sys.stderr)
        return
    from graphvae_nas.search.curves import study_curves

    unit = " (%)" if training and objective.endswith(("_acc", "_f1")) else ""
    name = study.strategy.spec()["name"]
    curves = study_curves(study.trials, objective, report)
    panels = {f"best {objective}{unit}" if metric == objective else
              f"{metric}{unit} of the best-by-{objective}": {name: curve}
              for metric, curve in curves.items()}
    plot_curves(panels, path, title=f"{study.space.name}: {name} search, seed {study.seed}, "
                                    f"{len(study.trials)} architectures")
