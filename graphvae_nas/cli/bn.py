"""``graphvae-nas bn ...``: Bayesian-network structures on discrete data (exact optimum, scores)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from graphvae_nas.cli.numbers import nonnegative_int, positive_float
from graphvae_nas.errors import DataFormatError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    bn = subparsers.add_parser("bn", help="Bayesian-network structures scored on discrete data")
    sub = bn.add_subparsers(dest="bn_command", required=True, metavar="COMMAND")

    p = sub.add_parser("exact", help="the score-optimal DAG by dynamic programming "
                                     "(Silander & Myllymaki 2006; at most 20 variables)")
    _data_arguments(p)
    p.set_defaults(func=cmd_exact)

    p = sub.add_parser("score", help="score one structure on the data")
    _data_arguments(p)
    p.add_argument("structure", help="a bnlearn model string '[A][B|A]...', D-VAE rows "
                                     "'[[0], [1, 1], ...]' or a flat 0/1 adjacency matrix")
    p.set_defaults(func=cmd_score)


def _data_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV of discrete variables, header = variable names")
    p.add_argument("--score", choices=["bic", "bdeu", "loglik"], default="bic",
                   help="bic (bnlearn's, larger is better), bdeu, or the log-likelihood")
    p.add_argument("--iss", type=positive_float, default=1.0, help="bdeu: imaginary sample size")
    p.add_argument("--variables", help="comma-separated columns to use (default: all)")
    p.add_argument("--max-parents", type=nonnegative_int, help="at most this many parents per variable")
    p.add_argument("--json", action="store_true", help="print JSON")


def _space_and_scores(args: argparse.Namespace):  # noqa: ANN202 - library types, imported lazily
    from graphvae_nas.evaluation.bic import BNScoreEvaluator
    from graphvae_nas.spaces.bn import BayesianNetworkSpace

    if args.max_parents is not None and args.max_parents < 0:
        raise DataFormatError(f"--max-parents must be >= 0, got {args.max_parents}", field="max-parents")
    if args.variables:
        names = [v.strip() for v in args.variables.split(",") if v.strip()]
        space = BayesianNetworkSpace(variables=names, max_parents=args.max_parents)
    else:
        space = BayesianNetworkSpace(data=args.data, max_parents=args.max_parents)
    return space, BNScoreEvaluator(space, args.data, score=args.score, iss=args.iss)


def _print(args: argparse.Namespace, space, score: float, arch, extra: dict) -> None:  # noqa: ANN001
    if args.json:
        print(json.dumps({"score": args.score, "value": score, "structure": space.format(arch),
                          "matrix": space.format_as(arch, "matrix"),
                          "variables": list(space.variables), **extra}))
    else:
        print(f"{args.score}: {score:.4f}")
        print(f"structure: {space.format(arch)}")


def cmd_exact(args: argparse.Namespace) -> None:
    from graphvae_nas.evaluation.bn_exact import exact_optimum

    start = time.perf_counter()
    space, evaluator = _space_and_scores(args)
    result = exact_optimum(space, evaluator.scores)
    seconds = time.perf_counter() - start
    _print(args, space, result.score, result.arch, {"seconds": round(seconds, 3)})
    print(f"exact optimum over {space.num_variables} variables in {seconds:.2f} s", file=sys.stderr)


def cmd_score(args: argparse.Namespace) -> None:
    space, evaluator = _space_and_scores(args)
    arch = space.parse(args.structure)
    _print(args, space, evaluator.score(arch), arch, {})
