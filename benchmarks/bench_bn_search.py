"""Search strategies on the Asia BN's BIC (D-VAE's second task), over seeds; prints JSON.

Every strategy runs the same :class:`~graphvae_nas.search.Study` harness against the same
:class:`~graphvae_nas.evaluation.bic.BNScoreEvaluator` (BIC on ``asia.csv``, scored as each
structure is proposed; no table). Strategies: random search, regularised evolution, local search
(hill climbing over bnlearn's arc moves, restarting from a random DAG at each local optimum),
BANANAS (GNN ensemble on mutations), latent BO in decode mode (the bn space's default VAE,
trained and cached on first use, unless ``--model`` is given) and, on request, the other
strategies that decode from that VAE (``bo-structure``: decodes scored by a GP on the arcs;
``bo-gnn``). ``bo-pool`` is not run: it picks
from a finite pool of candidates, and the 8-variable space has 7.8e11 DAGs, so any pool is a
sample and searching it is a different, smaller problem.

Each (strategy, seed) runs to the largest budget once; the smaller budgets are prefixes of the
same run (the strategies do not know the budget). The rows: mean/std of the best BIC at each
budget, how many runs reached the exact optimum's score (``bn exact``: -11107.2933, any DAG of
its equivalence class; compared to 1e-6), the median evaluations to it (runs that never reach
it count as infinite), and the search overhead per proposal.

``--options`` (keyed by strategy, each nested by group as ``--options`` of ``graphvae-nas
search``: ``'{"lolbo": {"joint": {"every": 50}}}'``; a key that is not a compared strategy is
refused) are set on top of each strategy's config defaults; a preset's values (``--preset bn``: the ``bn`` preset of
:mod:`graphvae_nas.search.presets`, what the command line chooses for bn spaces) are added
only when asked for, and then written out in the recorded options, so every recorded run names
all the options it changed.

Runs are appended to ``--runs`` as they finish, with the comparison's settings (data, budget,
batch size, options, VAE; :class:`~graphvae_nas.experiments.runs_file.RunsFile`): a rerun skips the
runs already there, so an interrupted comparison resumes, and a file written with other settings
is refused. A run that fails is written too, marked partial with its error and the trials it
finished, then the comparison stops; a rerun runs it again. ``--workers`` runs seeds in parallel
processes (one thread each). ``--summarise`` builds the table from one or more runs files (each
may come from other settings, e.g. one file per configuration) and lists partial runs apart::

    OMP_NUM_THREADS=1 python benchmarks/bench_bn_search.py --data ../shared/data/bn/asia.csv \\
        --strategies random,evolution,local --seeds 30 --budget 500 --runs runs/bn_search.jsonl
    python benchmarks/bench_bn_search.py --data ../shared/data/bn/asia.csv --summarise \\
        --runs runs/bn_search.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphvae_nas.evaluation.bic import BNScoreEvaluator  # noqa: E402
from graphvae_nas.experiments.compare import check_options_keys, run_record, summarise  # noqa: E402
from graphvae_nas.search.configs import merge  # noqa: E402
from graphvae_nas.search.factory import needs_vae  # noqa: E402
from graphvae_nas.search.presets import preset_names, preset_options  # noqa: E402
from graphvae_nas.search.objectives import Objective  # noqa: E402
from graphvae_nas.experiments.runs_file import RunsFile, read_runs, run_jobs, run_study  # noqa: E402
from graphvae_nas.spaces import get_space  # noqa: E402

POOL_NOTE = ("bo-pool: not possible; it chooses from a finite candidate pool, and the "
             "8-variable space has 7.8e11 DAGs (any pool is a sample, a different problem)")
TOLERANCE = 1e-6


def exact_optimum(evaluator: BNScoreEvaluator) -> float:
    """The DP optimum's score (Silander & Myllymaki) on the evaluator's data."""
    from graphvae_nas.evaluation.bn_exact import exact_optimum as solve

    return solve(evaluator.space, evaluator.scores).score


_STATE: dict = {}


def _init_worker(data: str, model: str | None, settings: dict) -> None:
    """A worker process's space, evaluator, comparison settings and (with ``model``: a file,
    or ``"default"``) VAE."""
    import torch

    torch.set_num_threads(1)
    space = get_space(f"bn:data={data}")
    _STATE.update(space=space, evaluator=BNScoreEvaluator(space, score="bic"), vae=None,
                  settings=settings)
    if model is not None:
        _STATE["vae"] = load_vae(space, None if model == "default" else model)


def load_vae(space, model: str | None) -> tuple:
    """(VAE, its file's name, its training architectures): ``model``, or the space's default
    VAE (trained and cached now if missing)."""
    from graphvae_nas.vae.default_model import default_model, training_architectures
    from graphvae_nas.vae.persistence import load_model

    if model:
        return load_model(model, space=space)[0], Path(model).name, training_architectures(space, 0)
    vae, archs, path = default_model(space, progress=False)
    return vae, path.name, archs


def _run_one(job: tuple[str, int]) -> dict:
    from graphvae_nas.search import Study, make_strategy

    name, seed = job
    settings = _STATE["settings"]
    space, evaluator = _STATE["space"], _STATE["evaluator"]
    model, model_name, candidates = _STATE["vae"] if needs_vae(name) else (None, "", None)
    strategy = make_strategy(name, model=model, model_name=model_name, candidates=candidates,
                             space=space, preset=None, options=settings["options"].get(name, {}))
    study = Study(space, strategy, evaluator, seed=seed, objectives=[Objective(evaluator.objective)])
    return run_study(study, settings["budget"], settings["batch_size"],
                     lambda done, seconds: run_record(done, name, seconds))


def round_times(names: list[str], space, evaluator, sizes: list[int], batch_size: int, vae,
                options: dict) -> dict:
    """Seconds of one proposal round (surrogate fit, candidates, selection) of each strategy
    after ``sizes`` observations: the history of a regularised-evolution run (seed 0), the
    best of three rounds (seeds 0-2) at each size."""
    import random

    from graphvae_nas.search import Study, make_strategy

    study = Study(space, make_strategy("evolution"), evaluator, seed=0,
                  objectives=[Objective(evaluator.objective)])
    result: dict = {}
    for size in sorted(sizes):
        study.optimize(size, batch_size=batch_size)
        for name in names:
            model, model_name, candidates = vae if needs_vae(name) else (None, "", None)
            strategy = make_strategy(name, model=model, model_name=model_name,
                                     candidates=candidates, space=space, preset=None,
                                     options=options.get(name, {}))
            times = []
            for seed in range(3):
                start = time.perf_counter()
                strategy.propose(study.history, batch_size, random.Random(seed))
                times.append(time.perf_counter() - start)
            result.setdefault(name, {})[str(size)] = {
                "round_s": round(min(times), 3),
                "per_proposal_s": round(min(times) / batch_size, 4),
                "rounds_s": [round(t, 3) for t in times]}
    return result


def table(runs: list[dict], budgets: list[int], optimum: float) -> dict:
    """``summarise`` of the comparison module, the optimum loosened by the tolerance, with the
    number of seeds and the fraction of runs reaching the optimum."""
    rows = summarise(runs, budgets, optimum - TOLERANCE)
    for name, row in rows.items():
        found, total = (int(x) for x in row["found_optimum"].split("/"))
        row["seeds"] = total
        row["fraction_found_optimum"] = found / total
        mine = [r for r in runs if r["strategy"] == name]
        for b in budgets:
            reached = sum(any(o is not None and o >= optimum - TOLERANCE for o in r["objective"][:b])
                          for r in mine)
            row[str(b)]["fraction_found_optimum"] = reached / len(mine)
            row[str(b)]["runs_long_enough"] = sum(len(r["objective"]) >= b for r in mine)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CSV of discrete data (asia.csv)")
    parser.add_argument("--strategies", default="random,evolution,local,bananas,bo")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=500, help="evaluations per run")
    parser.add_argument("--budgets", default="100,200,500", help="budgets reported")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--model", help="bn VAE for bo (default: the space's cached default VAE)")
    parser.add_argument("--options", default="{}",
                        help='JSON {"strategy": {option: value}} of strategy options, nested by '
                             'group, e.g. {"bo": {"gp": {"kernel": "isotropic"}}}')
    parser.add_argument("--preset", choices=preset_names(),
                        help="start each strategy's options from this preset (the command line "
                             "chooses bn for bn spaces), written into the recorded options")
    parser.add_argument("--runs", type=Path, nargs="+", default=[Path("runs/bn_search.jsonl")],
                        help="JSON lines of runs (recorded in and resumed from: the first file; "
                             "with --summarise all are read, a (strategy, seed) kept once)")
    parser.add_argument("--workers", type=int, default=1, help="processes (one thread each)")
    parser.add_argument("--summarise", action="store_true", help="only print the table of --runs")
    parser.add_argument("--rounds-only", action="store_true",
                        help="only time one round of each strategy after --observations "
                             "evaluations (on a quiet machine), without the comparison")
    parser.add_argument("--observations", default="100,200,500",
                        help="history sizes of --rounds-only")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table, not JSON")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    space = get_space(f"bn:data={args.data}")
    evaluator = BNScoreEvaluator(space, score="bic")
    optimum = exact_optimum(evaluator)
    budgets = [int(b) for b in args.budgets.split(",")]
    names = args.strategies.split(",")
    options = json.loads(args.options)
    check_options_keys(options, names)
    if args.preset:
        for name in names:
            resolved = merge(preset_options(args.preset, name), options.get(name, {}))
            if resolved:
                options[name] = resolved
    if not args.summarise:
        vae = load_vae(space, args.model) if any(needs_vae(n) for n in names) else None
        if args.rounds_only:
            sizes = [int(n) for n in args.observations.split(",")]
            print(json.dumps({"batch_size": args.batch_size, "options": options,
                              "rounds": round_times(names, space, evaluator, sizes,
                                                    args.batch_size, vae, options)}, indent=2))
            return
        settings = {"data": str(Path(args.data).resolve()), "budget": args.budget,
                    "batch_size": args.batch_size, "options": options,
                    "model": vae[1] if vae is not None else None}
        args.runs[0].parent.mkdir(parents=True, exist_ok=True)
        jobs = [(name, seed) for seed in range(args.first_seed, args.first_seed + args.seeds)
                for name in names]

        def show(run: dict) -> None:
            best = max(o for o in run["objective"] if o is not None)
            print(f"{run['strategy']} seed {run['seed']}: best {best:.4f} in "
                  f"{run['seconds']:.1f} s", file=sys.stderr)

        run_jobs(jobs, _run_one, workers=args.workers, initializer=_init_worker,
                 initargs=(args.data, None if vae is None else args.model or "default", settings),
                 record=RunsFile(args.runs[0], settings), on_run=show)
    runs, partial = read_runs(args.runs)
    rows = table(runs, budgets, optimum)
    left_out = [f"{r['strategy']} seed {r['seed']} ({len(r['objective'])} trials; {r['error']})"
                for r in partial]
    if args.markdown:
        print(markdown(rows, budgets, optimum))
        for line in left_out:
            print(f"partial run, not in the table: {line}")
    else:
        print(json.dumps({"optimum": optimum, "tolerance": TOLERANCE, "budgets": budgets,
                          "table": rows, "partial_runs": left_out, "not_run": POOL_NOTE},
                         indent=2))


def markdown(rows: dict, budgets: list[int], optimum: float, pool_note: bool = True) -> str:
    """The table as Markdown: best BIC mean +/- std and runs at the optimum per budget (and
    with ``pool_note`` the row saying why ``bo-pool`` is not run)."""
    head = (["strategy", "seeds"] + [f"best BIC @{b} (at optimum)" for b in budgets]
            + ["median evaluations to the optimum", "overhead s/proposal"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in rows.items():
        cells = [name, str(row["seeds"])]
        for b in budgets:
            cell = row[str(b)]
            short = cell["runs_long_enough"] < row["seeds"]
            found = round(cell["fraction_found_optimum"] * row["seeds"])
            cells.append("-" if short else f"{cell['mean']:.1f} +/- {cell['std']:.1f} "
                                           f"({found}/{row['seeds']})")
        median = row["median_queries_to_optimum"]
        cells.append("not reached" if median is None or median == float("inf") else f"{median:g}")
        cells.append(f"{row['overhead_s_per_proposal']:.2g}")
        lines.append("| " + " | ".join(cells) + " |")
    if pool_note:
        lines.append(f"| bo-pool | - | {POOL_NOTE.split(': ', 1)[1]} |")
    return f"optimum {optimum:.4f}\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
