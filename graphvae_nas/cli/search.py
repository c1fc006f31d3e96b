"""``graphvae-nas search``: run (or resume) one search study over a tabular benchmark."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphvae_nas.errors import DataFormatError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from graphvae_nas.search.factory import STRATEGY_NAMES

    p = subparsers.add_parser("search", help="search a space for its best architecture")
    p.add_argument("--space", help="search space (default: the dataset's)")
    p.add_argument("--dataset", required=True, help="architecture dataset to look scores up in")
    p.add_argument("--objective", required=True, help="column to maximise, e.g. cifar10_valid")
    p.add_argument("--report", default="", help="comma-separated columns to record, e.g. cifar10_test")
    p.add_argument("--cost", help="column of simulated evaluation cost")
    p.add_argument("--strategy", choices=STRATEGY_NAMES, default="bo")
    p.add_argument("--model", help="trained VAE for bo / bo-pool (graphvae-nas vae train)")
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--batch-size", type=int, default=5, help="architectures proposed per round")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="results folder (study, summary, curve)")
    p.add_argument("--resume", action="store_true", help="continue the study in --out")
    p.add_argument("--threads", type=int)
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> None:
    import torch

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search import Study, StudyStore, make_strategy
    from graphvae_nas.spaces import get_space

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataFormatError("is a file, not a folder", path=str(out))
    space = get_space(args.space) if args.space else None
    dataset = load_dataset(args.dataset, space=space)
    Study.check_budget(dataset.space, args.budget)
    report = [c.strip() for c in args.report.split(",") if c.strip()]
    evaluator = TabularEvaluator(dataset, args.objective, report=report, cost=args.cost)
    model = None
    if args.model:
        from graphvae_nas.vae.persistence import load_model

        model, _ = load_model(args.model, space=dataset.space)
    strategy = make_strategy(args.strategy, model=model, model_name=Path(args.model).name if args.model else "",
                             candidates=dataset.archs)
    out.mkdir(parents=True, exist_ok=True)
    store = StudyStore(out / "study.jsonl",
                       Study.store_header(dataset.space, strategy, evaluator, args.seed),
                       resume=args.resume)
    study = Study(dataset.space, strategy, evaluator, seed=args.seed, store=store)
    study.optimize(args.budget, batch_size=args.batch_size, progress=True)

    best = study.best()
    summary = {
        "strategy": strategy.spec(), "seed": args.seed, "budget": args.budget,
        "objective": args.objective, "trials": len(study.trials),
        "best": None if best is None else {
            "trial": best.number, "arch": dataset.space.format(best.arch),
            "objective": best.objective, "metrics": best.evaluation.metrics},
        "table_optimum": evaluator.best()[1],
        "overhead_s_per_proposal": study.stats.overhead_s / max(study.stats.proposals, 1),
        "strategy_counters": study.stats.strategy,
        "failures": sum(t.objective is None for t in study.trials),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    try:
        from graphvae_nas.viz import plot_best_so_far

        curve = [t.objective if t.objective is not None else float("-inf") for t in study.trials]
        plot_best_so_far({strategy.spec()["name"]: [curve]}, str(out / "curve.png"),
                         ylabel=args.objective)
    except ImportError as exc:
        print(f"no curve plot: {exc}", file=sys.stderr)
    if best is not None:
        extra = ", ".join(f"{k} {v:.4g}" for k, v in best.evaluation.metrics.items())
        print(f"best after {len(study.trials)} queries: {dataset.space.format(best.arch)}\n"
              f"  {args.objective} {best.objective:.4g}" + (f", {extra}" if extra else ""))
    print(f"results in {out}/ (study.jsonl, summary.json, curve.png)", file=sys.stderr)
