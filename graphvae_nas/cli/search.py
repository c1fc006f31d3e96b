"""``graphvae-nas search``: run (or resume) one search study.

Three kinds of evaluation: look scores up in an imported benchmark table (``--dataset``);
score Bayesian-network structures on data (``--space bn:data=FILE.csv``, ``--score bic|bdeu``:
each proposed structure is scored as it is proposed, no table); or train every proposed
architecture for real on image data (neither). With no arguments
at all it runs the embedded default: latent BO over NAS-Bench-201 cells, each trained for one
epoch (the search's low-fidelity proxy) on scikit-learn's handwritten digits on this machine's
CPU or GPU.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from graphvae_nas.cli.progress import SearchProgress
from graphvae_nas.cli.paths import declare_paths
from graphvae_nas.cli.numbers import (
    format_value,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)
from graphvae_nas.threads import DEFAULT_THREADS, THREADS_HELP
from graphvae_nas.cli.training_args import (
    add_training_arguments,
    training_evaluator,
    training_recipe,
)
from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.experiments.compare import PROMOTIONS
from graphvae_nas.locking import exclusive_lock

TRAINING_DEFAULTS = {"budget": 24, "batch_size": 4, "report": "test_acc,test_f1"}
TABULAR_DEFAULTS = {"budget": 150, "batch_size": 5}
BN_DEFAULTS = {"budget": 200, "batch_size": 10}
BN_SCORES = ("bic", "bdeu")
STUDY_LOCK = ".lock"
"""The file in a study folder that a running search holds locked (the whole folder: the VAE it
may train there, the store, summary.json and curve.png); the store itself also holds
``study.jsonl.lock`` while it is open, a different file, so the two never conflict."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from graphvae_nas.search.factory import available_strategies
    from graphvae_nas.search.presets import preset_names

    p = subparsers.add_parser(
        "search", help="search a space for its best architecture (no arguments: the default "
                       "real-training search on digits)")
    p.add_argument("--space", help="search space (default: the dataset's; nb201 when training)")
    p.add_argument("--dataset", help="architecture table to look scores up in (omit to train "
                                     "every proposed architecture for real)")
    p.add_argument("--objective", action="append", metavar="NAME[:max|min]",
                   help="what to optimise, e.g. cifar10_valid (a table column; training: valid_acc), "
                        "maximised unless ':min' is added; repeat for several objectives, e.g. "
                        "--objective cifar10_valid:max --objective hw_edgegpu_latency:min (several: "
                        "the strategies search for the Pareto front, bo/bo-pool with qLogNEHVI; "
                        "the summary holds the found front, its hypervolume and reference point, "
                        "and front.png)")
    p.add_argument("--score", choices=BN_SCORES,
                   help="Bayesian networks (--space bn:data=FILE.csv): score each proposed structure "
                        "on the space's data by BIC or BDeu (default bic; the objective is named "
                        "after the score and maximised)")
    p.add_argument("--iss", type=positive_float, default=1.0,
                   help="BDeu's imaginary (equivalent) sample size (with --score bdeu)")
    p.add_argument("--report", help="comma-separated columns to record, e.g. cifar10_test")
    p.add_argument("--cost", help="column of simulated evaluation cost")
    p.add_argument("--strategy", choices=available_strategies(), default="bo",
                   help="bo: latent BO decoding new architectures; bo-pool: latent BO over the "
                        "table's architectures; bo-gnn: decodes scored by a GNN ensemble; "
                        "bo-structure: decodes scored by a GP on the graph's arcs; lolbo: "
                        "latent BO in a trust region, the encoder fine-tuned with the GP; bananas: "
                        "GNN ensemble over mutations; nsga2: multi-objective evolution; random, "
                        "evolution, local: baselines")
    p.add_argument("--model", help="trained VAE for the bo strategies (default: a small VAE "
                                   "of the space, trained once and cached)")
    p.add_argument("--options", default=None,
                   help='JSON of the strategy\'s options, nested by group, e.g. '
                        '\'{"acquisition": {"name": "ucb"}}\' (all of them: --list-options)')
    p.add_argument("--bo-options", default=None,
                   help="deprecated alias of --options that also takes the flat option names "
                        "of graphvae_nas 0.1 (e.g. '{\"kernel\": \"isotropic\"}'); removed in the "
                        "next release")
    p.add_argument("--preset", default="auto", choices=("auto", "none", *preset_names()),
                   help="named option values for a kind of search: auto (bn for bn spaces, "
                        "training when proposals are trained), none, or a preset of "
                        "docs/strategies.md")
    p.add_argument("--list-options", nargs="?", const="", metavar="STRATEGY",
                   help="print every option (of STRATEGY) with its type, default and meaning, "
                        "and exit")
    p.add_argument("--markdown", action="store_true",
                   help="with --list-options: print docs/strategies.md")
    p.add_argument("--budget", type=positive_int,
                   help="architectures to evaluate (150 tabular, 200 bn scoring, 24 training)")
    p.add_argument("--batch-size", type=positive_int,
                   help="architectures proposed per round (5 tabular, 10 bn scoring, 4 training)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the strategy (and of training)")
    p.add_argument("--out", help="results folder (default: runs/search-TIMESTAMP)")
    p.add_argument("--resume", action="store_true", help="continue the study in --out")
    p.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, help=THREADS_HELP)
    f = p.add_argument_group("multi-fidelity search (training or a table)")
    f.add_argument("--fidelities", metavar="LIST",
                   help="evaluate new architectures at the lowest fidelity and promote the best "
                        "1/eta of each to the next: epochs of training (e.g. 1,4; a promotion "
                        "continues the saved training) or, with --dataset, FIDELITY=COLUMN pairs "
                        "giving the first objective's column at each (e.g. "
                        "12=12ep_cifar10_valid,200=cifar10_valid; each costs its fidelity)")
    f.add_argument("--eta", type=positive_float,
                   help="with --fidelities: promote the best 1/eta (default: the ratio of the "
                        "two highest fidelities, at least 2; on NAS-Bench-201, 12 and 200 epochs, "
                        "16 reached the optimum most often of 3, 8 and 16)")
    f.add_argument("--promotion", choices=PROMOTIONS, default="rank",
                   help="with --fidelities: which architectures to promote: the best by rank at "
                        "the lower fidelity (ASHA), or by a multi-task GP of all fidelities")
    f.add_argument("--budget-cost", type=positive_float, metavar="COST",
                   help="stop when the evaluations' costs add up to COST (epochs with "
                        "--fidelities); with no --budget, the budget is in cost only")
    g = p.add_argument_group("real training (no --dataset and not a bn space)")
    add_training_arguments(g)
    g.add_argument("--executor", choices=["serial", "ray"], default="serial",
                   help="ray: evaluate each round's proposals as Ray tasks (distributed extra)")
    g.add_argument("--ray-address", help="Ray cluster to join (default: start a local one)")
    g.add_argument("--gpus-per-trial", type=nonnegative_float, default=0.0,
                   help="GPU share of one training under ray (0.25 packs four per GPU)")
    g.add_argument("--trial-timeout", type=positive_float, help="seconds before a training counts as failed (ray)")
    p.set_defaults(func=cmd_search)
    declare_paths(p, inputs=("dataset", "model"), outputs=("out",))


def _default_out() -> Path:
    return Path("runs") / time.strftime("search-%Y%m%d-%H%M%S")


def _tabular_setup(args: argparse.Namespace):
    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.spaces import get_space
    from graphvae_nas.spaces.restricted import restricted_to

    if not args.objective:
        raise GraphVAENASError("--objective is required with --dataset (a column of the table)")
    space = get_space(args.space) if args.space else None
    dataset = load_dataset(args.dataset, space=space)
    report = [c.strip() for c in (args.report or "").split(",") if c.strip()]
    fidelities = _fidelities(args)
    if fidelities and None in fidelities.values():
        raise GraphVAENASError("--fidelities with --dataset: give the table's column of the first "
                               "objective at each fidelity, e.g. 12=12ep_cifar10_valid,200=cifar10_valid")
    evaluator = TabularEvaluator(dataset, [o.name for o in _objectives(args)], report=report,
                                 cost=args.cost, fidelities=fidelities)
    # a table that does not cover its space: search only what it can score
    return restricted_to(dataset.space, dataset.archs), evaluator, dataset.archs


def _mode(args: argparse.Namespace) -> str:
    """How proposals are scored: ``table`` (--dataset), ``bn`` (a bn space scored on its data)
    or ``training``."""
    is_bn = bool(args.space) and args.space.split(":", 1)[0].strip() == "bn"
    if args.dataset is not None:
        if args.score is not None:
            raise GraphVAENASError("--score scores Bayesian networks on data; it cannot be combined "
                                   "with --dataset (a table of scores)")
        return "table"
    if args.score is not None and not is_bn:
        raise GraphVAENASError("--score scores Bayesian-network structures: use it with "
                               "--space bn:data=FILE.csv")
    return "bn" if is_bn else "training"


def _bn_setup(args: argparse.Namespace):
    from graphvae_nas.evaluation.bic import BNScoreEvaluator
    from graphvae_nas.spaces import get_space

    space = get_space(args.space)
    if space.data_path is None:
        raise GraphVAENASError("a bn search scores structures on data: give the space as "
                               "bn:data=FILE.csv (the CSV's header names the variables)")
    score = args.score or "bic"
    if args.objective and [o.name for o in _objectives(args)] != [score]:
        raise GraphVAENASError(f"a bn search has one objective, the score {score!r}; leave "
                               "--objective out or give --objective " + score)
    return space, BNScoreEvaluator(space, score=score, iss=args.iss), None


def _training_setup(args: argparse.Namespace):
    from graphvae_nas.spaces import get_space

    space = get_space(args.space or "nb201")
    objectives = _objectives(args)
    for objective in objectives:
        if objective.name.endswith("_loss") and objective.direction == "max":
            raise GraphVAENASError(f"--objective {objective.name} would maximise a loss; "
                                   f"write {objective.name}:min")
    first = objectives[0].name if objectives else "valid_acc"
    fidelities = _fidelities(args)
    if fidelities and any(c is not None for c in fidelities.values()):
        raise GraphVAENASError("--fidelities of training are numbers of epochs (e.g. 1,4); "
                               "FIDELITY=COLUMN pairs go with --dataset")
    if fidelities and args.epochs is not None:
        raise GraphVAENASError("--fidelities says how many epochs each training runs; leave out "
                               "--epochs")
    return space, training_evaluator(args, space, objective=first, search=True,
                                     fidelities=list(fidelities) if fidelities else None), None


def _fidelities(args: argparse.Namespace) -> dict[float, str | None] | None:
    """``--fidelities`` parsed (None without it)."""
    from graphvae_nas.evaluation.fidelity import parse_fidelities

    return parse_fidelities(args.fidelities) if args.fidelities else None


def _promoting(args: argparse.Namespace, strategy, space, evaluator):
    """``strategy`` inside successive halving over the evaluator's fidelities (unchanged
    without --fidelities); ``--eta`` defaults to the ratio of the two highest fidelities."""
    from graphvae_nas.evaluation.fidelity import fidelities_of
    from graphvae_nas.search.strategies.promotion import with_promotion

    fidelities = fidelities_of(evaluator)
    eta = args.eta or (max(2.0, round(fidelities[-1] / fidelities[-2]))
                       if fidelities and len(fidelities) > 1 else 2.0)
    return with_promotion(strategy, fidelities, eta, args.promotion, space)


def _objectives(args: argparse.Namespace):
    """The ``--objective`` options parsed (none given: an empty list)."""
    from graphvae_nas.search.objectives import as_objectives

    return list(as_objectives(args.objective)) if args.objective else []


def _executor(args: argparse.Namespace):
    if args.executor == "serial":
        return None
    from graphvae_nas.evaluation.ray_executor import RayExecutor

    return RayExecutor(gpus_per_trial=args.gpus_per_trial, timeout_s=args.trial_timeout,
                       address=args.ray_address)


def _strategy(args: argparse.Namespace, space, candidates):
    """The strategy, and the VAE file it uses (None for strategies without one)."""
    from graphvae_nas.search import make_strategy
    from graphvae_nas.search.factory import needs_vae

    options, preset = strategy_options(args), _preset(args, space)
    if not needs_vae(args.strategy):
        return make_strategy(args.strategy, space=space, preset=preset, options=options), None
    whole = getattr(space, "base", space)    # a VAE is of the whole space, not of a table's part
    if args.model:
        from graphvae_nas.vae.default_model import training_architectures
        from graphvae_nas.vae.persistence import load_model

        model, _ = load_model(args.model, space=whole)
        path = Path(args.model)
        candidates = candidates if candidates is not None else training_architectures(whole, args.seed)
    else:  # the space's default VAE (trained on first use, then cached)
        from graphvae_nas.vae.default_model import default_model

        model, trained_on, path = default_model(whole)
        candidates = candidates if candidates is not None else trained_on
    strategy = make_strategy(args.strategy, model=model, model_name=path.name,
                             candidates=candidates, space=space, preset=preset, options=options)
    return strategy, path


def _check_options(args: argparse.Namespace) -> None:
    """Refuse bad strategy options before any work (the strategy is built later, after the
    data and the VAE are loaded)."""
    from graphvae_nas.search.configs import make_config
    from graphvae_nas.search.factory import strategy_entry

    make_config(strategy_entry(args.strategy).config, strategy_options(args, quiet=True),
                strategy=args.strategy)


def _preset(args: argparse.Namespace, space) -> str | None:
    """``--preset`` resolved: ``auto`` chooses by the space and the mode
    (:func:`~graphvae_nas.search.factory.resolve_preset`), ``none`` none."""
    from graphvae_nas.search.factory import resolve_preset

    if args.preset == "none":
        return None
    return resolve_preset(args.preset, space, training=_mode(args) == "training")


def strategy_options(args: argparse.Namespace, *, quiet: bool = False) -> dict:
    """``--options`` (nested JSON), or the deprecated ``--bo-options`` (flat 0.1 names too)."""
    from graphvae_nas.search.configs import from_legacy

    if args.options is not None and args.bo_options is not None:
        raise GraphVAENASError("give --options or its deprecated alias --bo-options, not both")
    flag = "--options" if args.bo_options is None else "--bo-options"
    text = args.options if args.bo_options is None else args.bo_options
    options = parse_json_options(text or "{}", flag)
    if args.bo_options is not None:
        if not quiet:
            print("--bo-options is deprecated: use --options (nested names, see "
                  "--list-options)", file=sys.stderr)
        options = from_legacy(options)
    return options


def parse_json_options(text: str, flag: str) -> dict:
    """A JSON object of options given to ``flag``."""
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphVAENASError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(options, dict):
        raise GraphVAENASError(f"{flag} must be a JSON object of strategy options")
    return options


def list_options(args: argparse.Namespace) -> None:
    """``--list-options [STRATEGY]``: the options reference, as text or (``--markdown``) as
    docs/strategies.md."""
    from graphvae_nas.search import options_reference
    from graphvae_nas.search.factory import strategy_entry

    if args.markdown:
        print(options_reference.markdown(), end="")
        return
    if args.list_options:
        strategy_entry(args.list_options)    # an unknown name lists the known ones
    print(options_reference.text(args.list_options or None))


def cmd_search(args: argparse.Namespace) -> None:
    from graphvae_nas.evaluation.fidelity import fidelities_of
    from graphvae_nas.search import Study

    if args.list_options is not None:
        list_options(args)
        return
    if args.markdown:
        raise GraphVAENASError("--markdown goes with --list-options")
    _check_options(args)

    if args.resume and not args.out:
        raise GraphVAENASError("--resume needs --out (the folder of the study to continue)")
    out = Path(args.out) if args.out else _default_out()
    args.out = str(out)   # where the setups keep what belongs to the study (training states)
    if out.exists() and not out.is_dir():
        raise DataFormatError("is a file, not a folder", path=str(out))
    store = out / "study.jsonl"
    if args.resume and (not store.exists() or (store.is_file() and store.stat().st_size == 0)):
        raise GraphVAENASError(f"--resume: there is no study in {out} to continue (no "
                               f"{store.name}); leave out --resume to start one")
    mode = _mode(args)
    defaults = {"training": TRAINING_DEFAULTS, "table": TABULAR_DEFAULTS, "bn": BN_DEFAULTS}[mode]
    budget = args.budget
    if budget is None and args.budget_cost is None:
        budget = defaults["budget"]
    if args.eta is not None and not args.fidelities:
        raise GraphVAENASError("--eta goes with --fidelities")
    if args.promotion != "rank" and not args.fidelities:
        raise GraphVAENASError("--promotion goes with --fidelities")
    batch_size = defaults["batch_size"] if args.batch_size is None else args.batch_size
    if mode == "training":
        args.report = args.report or TRAINING_DEFAULTS["report"]
        space, evaluator, candidates = _training_setup(args)
    elif mode == "bn":
        space, evaluator, candidates = _bn_setup(args)
    else:
        space, evaluator, candidates = _tabular_setup(args)
    objectives = Study.resolve_objectives(evaluator, _objectives(args) or None)
    if budget is not None:
        Study.check_budget(space, budget, len(fidelities_of(evaluator) or (None,)))
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFormatError(f"cannot make the results folder ({exc.strerror})",
                              path=str(out)) from None
    try:
        with exclusive_lock(out / STUDY_LOCK, what=f"study folder {out}",
                            hint="another search runs in it; wait for it to finish or choose "
                                 "another --out"):
            _run_study(args, out, space, evaluator, candidates, objectives, budget, batch_size)
    except BaseException:
        if created:
            _remove_if_nothing_recorded(out)
        raise


def _remove_if_nothing_recorded(out: Path) -> None:
    """A results folder this run made and that holds nothing but its lock (the run failed
    before its first record): removed, so a failure leaves nothing behind."""
    if {p.name for p in out.iterdir()} <= {STUDY_LOCK}:
        (out / STUDY_LOCK).unlink(missing_ok=True)
        out.rmdir()


def _run_study(args: argparse.Namespace, out: Path, space, evaluator, candidates, objectives,
               budget: int | None, batch_size: int) -> None:
    from graphvae_nas.search import Study, StudyStore

    mode = _mode(args)
    strategy, model_path = _strategy(args, space, candidates)
    strategy = _promoting(args, strategy, space, evaluator)
    with StudyStore(out / "study.jsonl",
                    Study.store_header(space, strategy, evaluator, args.seed, objectives),
                    resume=args.resume) as store:
        study = Study(space, strategy, evaluator, seed=args.seed, store=store, objectives=objectives)
        amount = " and ".join(([] if budget is None else [f"{budget} evaluations"])
                              + ([] if args.budget_cost is None else
                                 [f"a cost of {args.budget_cost:g}"]))
        if study.fidelities is not None and len(study.fidelities) > 1:
            spec = study.strategy.spec()
            amount += (f" at fidelities {', '.join(f'{f:g}' for f in study.fidelities)} "
                       f"(the best 1/{spec['eta']:g} promoted, by "
                       + ("rank" if spec["name"] == "asha" else "a multi-task GP") + ")")
        print(f"searching {space.name} with {args.strategy}: {amount}, "
              + {"training": f"scored by training on {args.data}",
                 "table": f"looked up in {args.dataset}",
                 "bn": f"scored by {args.score or 'bic'} on {getattr(space, 'data_path', None)}"}[mode]
              + f"; results in {out}/", file=sys.stderr)
        print(describe_options(args.strategy, strategy.spec()), file=sys.stderr)
        executor = _executor(args)
        start = time.perf_counter()
        interrupted = False
        try:
            with SearchProgress(study, budget, args.budget_cost) as progress:
                study.optimize(budget, batch_size=batch_size, budget_cost=args.budget_cost,
                               executor=executor, on_proposing=progress.proposing,
                               callback=progress.trial)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if executor is not None:
                executor.shutdown()
    _write_results(args, out, space, study, evaluator, mode, time.perf_counter() - start,
                   model_path)
    if interrupted:
        print(f"interrupted after {len(study.trials)} evaluations (all recorded in "
              f"{out / 'study.jsonl'}); continue with:\n  {resume_command(args, out)}",
              file=sys.stderr)
        raise KeyboardInterrupt
    _check_some_succeeded(study, out)


def resume_command(args: argparse.Namespace, out: Path) -> str:
    """The command line that continues this search: the one given, with --resume (and --out
    when it was the default)."""
    words = list(getattr(args, "argv", None) or ["search"])
    if "--out" not in words and not any(w.startswith("--out=") for w in words):
        words += ["--out", str(out)]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(["graphvae-nas", *words])


def failure_counts(study) -> dict[str, int]:
    """How many evaluations failed, by reason."""
    from collections import Counter

    return dict(Counter(t.evaluation.failure or "no value" for t in study.trials
                        if t.objective is None))


def describe_failures(counts: dict[str, int]) -> str:
    """``reason (count); ...`` of :func:`failure_counts`."""
    return "; ".join(f"{reason} ({n})" for reason, n in counts.items())


def _check_some_succeeded(study, out: Path) -> None:
    """A search in which no evaluation succeeded is a failure (exit status 2), with the counts."""
    if study.trials and study.best() is None:
        raise GraphVAENASError(f"no evaluation succeeded in {len(study.trials)}: "
                               f"{describe_failures(failure_counts(study))} (recorded in {out}/)")


def describe_options(name: str, spec: dict) -> str:
    """The line every run starts with: the preset and the options that differ from the
    config's defaults (all of them are in the study header and summary.json)."""
    from graphvae_nas.search.factory import option_defaults

    preset = spec.get("preset")
    defaults = option_defaults(name)

    def changed(values: dict, base: dict, prefix: str = "") -> list[str]:
        out = []
        for key, value in values.items():
            if key not in base:
                continue
            if isinstance(value, dict) and isinstance(base[key], dict):
                out += changed(value, base[key], f"{prefix}{key}.")
            elif value != base[key]:
                out.append(f"{prefix}{key}={json.dumps(value)}")
        return out

    diff = changed(spec, defaults)
    return (f"options of {name}: preset {preset or 'none'}; "
            + (", ".join(diff) if diff else "all at their defaults")
            + f" (graphvae-nas search --list-options {name})")


def _trial_summary(space, trial) -> dict:
    return {"trial": trial.number, "arch": space.format(trial.arch), "objective": trial.objective,
            "values": trial.evaluation.values, "metrics": trial.evaluation.metrics,
            "info": trial.evaluation.info}


def _front_summary(summary: dict, study, evaluator, table: bool) -> list[dict] | None:
    """Add the found front's hypervolume and reference point (fixed for the documented
    objective pairs, else the worst values evaluated) to ``summary``; for a table also the
    exact front's hypervolume and the ratio. Returns the exact front's values (None without a
    table)."""
    from graphvae_nas.experiments.nb201 import REFERENCE_POINTS
    from graphvae_nas.search.pareto import front_hypervolume, reference_point, table_front

    objectives = study.objectives
    evaluated = [t.evaluation.values for t in study.trials if t.objective is not None]
    ref = reference_point(objectives, evaluated, known=REFERENCE_POINTS)
    found = [t.evaluation.values for t in study.pareto_front()]
    volume = front_hypervolume(objectives, found, ref)
    summary["reference_point"] = ref.to_dict()
    summary["hypervolume"] = volume
    if not table:
        return None
    true_front = [values for _, values in table_front(evaluator.dataset, objectives)]
    true_volume = front_hypervolume(objectives, true_front, ref)
    summary["true_front_size"] = len(true_front)
    summary["true_hypervolume"] = true_volume
    summary["hypervolume_ratio"] = volume / true_volume if true_volume > 0 else None
    return true_front


def _write_results(args, out: Path, space, study, evaluator, mode: str, seconds: float,
                   model_path: Path | None) -> None:
    objectives = study.objectives
    first = objectives[0]
    report = [c.strip() for c in (args.report or "").split(",") if c.strip()]
    best = study.best()
    counts = failure_counts(study)
    summary = {
        "space": space.spec(), "strategy": study.strategy.spec(), "evaluator": evaluator.spec(),
        "seed": args.seed, "preset": study.strategy.spec().get("preset"),
        "objective": first.name,
        "objectives": [o.to_dict() for o in objectives],
        "model": None if model_path is None else str(model_path),
        "trials": len(study.trials),
        "total_cost": study.total_cost,
    }
    if study.fidelities is not None:
        summary["fidelities"] = list(study.fidelities)
        summary["evaluations_per_fidelity"] = {
            f"{f:g}": sum(t.fidelity == f for t in study.trials) for f in study.fidelities}
    front = study.pareto_front() if len(objectives) > 1 else None
    if front is None:
        summary["best"] = None if best is None else _trial_summary(space, best)
    else:
        summary["pareto_front"] = [_trial_summary(space, t) for t in front]
    summary.update({
        "overhead_s_per_proposal": study.stats.overhead_s / max(study.stats.proposals, 1),
        "wall_s_this_session": seconds,
        "strategy_counters": study.stats.strategy,
        "failures": [{"trial": t.number, "reason": t.evaluation.failure}
                     for t in study.trials if t.objective is None],
        "failure_counts": counts,
    })
    true_front = None
    if mode == "bn":
        # the structure without arcs, the baseline every learned network should beat
        summary["empty_graph_score"] = evaluator.score(space.from_masks([0] * space.num_variables))
    if mode == "table" and best is not None:
        optima = {o.name: evaluator.best(o.direction, o.name)[1] for o in objectives}
        if front is None:
            summary["table_optimum"] = optima[first.name]
        else:
            summary["table_optima"] = optima
    if front is not None:
        true_front = _front_summary(summary, study, evaluator, table=mode == "table")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if front is not None and len(objectives) == 2:
        try:
            from graphvae_nas.viz import plot_fronts

            plot_fronts(objectives, true_front, {"found": [t.evaluation.values for t in front]},
                        str(out / "front.png"), title=f"{len(study.trials)} queries")
        except ImportError as exc:
            print(f"no front plot: {exc}", file=sys.stderr)
    _plot_curve(out / "curve.png", study, first.name, report[0] if report else None,
                mode == "training",
                minimize=first.direction == "min")
    if model_path is not None:
        print(f"latent BO used the VAE {model_path}", file=sys.stderr)
    if front is not None:
        names = ", ".join(map(str, objectives))
        print(f"Pareto front after {len(study.trials)} queries ({names}): {len(front)} architectures")
        for trial in sorted(front, key=lambda t: first.orient(t.evaluation.values[first.name]),
                            reverse=True):        # best first by the first objective
            shown = ", ".join(f"{o.name} {format_value(trial.evaluation.values[o.name])}"
                              for o in objectives)
            print(f"  {space.format(trial.arch)}  {shown}")
    elif best is not None:
        shown = ([k for k in report if k in best.evaluation.metrics]
                 or [k for k in best.evaluation.metrics if k != first.name])
        extra = ", ".join(f"{k} {format_value(best.evaluation.metrics[k])}" for k in shown)
        at = "" if study.fidelities is None else (
            f" (at fidelity {best.fidelity:g}; total cost {study.total_cost:g})")
        print(f"best after {len(study.trials)} queries{at}: {space.format(best.arch)}\n"
              f"  {first.name} {format_value(best.objective)}" + (f", {extra}" if extra else ""))
        if mode == "training" and args.epochs is None and study.fidelities is None:
            _print_full_training_hint(args, space, best.arch, evaluator.config.epochs)
    if front is not None:
        shown = f", ratio to the exact front {summary['hypervolume_ratio']:.4f}" \
            if summary.get("hypervolume_ratio") is not None else ""
        print(f"hypervolume {summary['hypervolume']:.6g} from the {summary['reference_point']['source']} "
              f"reference point {summary['reference_point']['values']}{shown}")
    if counts:
        print(f"{sum(counts.values())} of {len(study.trials)} evaluations failed: "
              f"{describe_failures(counts)}", file=sys.stderr)
    files = "study.jsonl, summary.json, curve.png" + (", front.png" if front is not None and
                                                       len(objectives) == 2 else "")
    print(f"results in {out}/ ({files})", file=sys.stderr)


def _print_full_training_hint(args: argparse.Namespace, space, arch, epochs: int) -> None:
    """After a search scored by the short-training proxy, the command that trains the winner
    with the full recipe of ``graphvae-nas train``."""
    full = training_recipe(args.data)["epochs"]
    if epochs >= full:
        return
    words = ["graphvae-nas", "train", space.format(arch)]
    words += [] if args.space is None else ["--space", args.space]
    for module in args.ops_module:
        words += ["--ops-module", module]
    print(f"  (scored after {epochs} training epoch(s), the search's proxy; all {full} epochs: "
          f"{shlex.join(words)})")


def _plot_curve(path: Path, study, objective: str, report: str | None, training: bool, *,
                minimize: bool = False) -> None:
    """curve.png: the best objective so far and the report of the best-by-objective trial."""
    try:
        from graphvae_nas.viz import plot_curves
    except ImportError as exc:
        print(f"no curve plot: {exc}", file=sys.stderr)
        return
    from graphvae_nas.experiments.curves import study_curves

    unit = " (%)" if training and objective.endswith(("_acc", "_f1")) else ""
    name = study.strategy.spec()["name"]
    curves = study_curves(study.trials, objective, report, minimize=minimize)
    panels = {f"best {objective}{unit}" if metric == objective else
              f"{metric}{unit} of the best-by-{objective}": {name: curve}
              for metric, curve in curves.items()}
    plot_curves(panels, path, title=f"{study.space.name}: {name} search, seed {study.seed}, "
                                    f"{len(study.trials)} architectures")
