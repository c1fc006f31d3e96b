"""The command line explains itself: help and shown defaults for every option, a quick --help."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from graphvae_nas.cli import build_parser, iter_parsers

ROOT = Path(__file__).resolve().parents[1]
SKIP = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


def _options():
    for parser in iter_parsers(build_parser()):
        for action in parser._actions:
            if not isinstance(action, SKIP):
                yield parser, action


def test_every_option_and_argument_has_help() -> None:
    missing = [f"{p.prog} {a.option_strings or a.dest}" for p, a in _options() if not a.help]
    assert missing == []


def test_every_non_empty_default_is_shown() -> None:
    hidden = []
    for parser, action in _options():
        default = action.default
        if not action.option_strings or default is None or default is False or default == "":
            continue
        formatter = parser._get_formatter()  # the help entry of this option, as --help prints it
        formatter.add_argument(action)
        if f"default: {default}" not in " ".join(formatter.format_help().split()):
            hidden.append(f"{parser.prog} {action.option_strings[-1]} (default {default!r})")
    assert hidden == []


def test_vae_train_accepts_dash_o() -> None:
    args = build_parser().parse_args(["vae", "train", "--dataset", "d.jsonl", "-o", "m.pt"])
    assert args.out == "m.pt"


def test_building_the_parser_imports_no_torch() -> None:
    """--help must not pay for torch (seconds); timed in benchmarks/bench_cli_startup.py."""
    probe = ("import json, sys; from graphvae_nas.cli import build_parser; build_parser(); "
             "print(json.dumps([m for m in ('torch', 'botorch', 'torch_geometric') if m in sys.modules]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_search_package_names_still_resolve() -> None:
    import graphvae_nas.search as search

    assert search.Study.__name__ == "Study" and callable(search.make_strategy)
    assert set(search.__all__) <= set(dir(search))
