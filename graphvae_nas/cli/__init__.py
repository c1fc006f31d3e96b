"""The ``graphvae-nas`` command line: thin faces over the library."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from graphvae_nas import __version__
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.threads import DEFAULT_THREADS, cpu_threads


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphvae-nas",
        description="Generative neural architecture search with graph VAEs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from graphvae_nas.cli import bn, data, search, train, vae

    data.add_parser(sub)
    vae.add_parser(sub)
    search.add_parser(sub)
    train.add_parser(sub)
    bn.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphvae-nas`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with cpu_threads(getattr(args, "threads", DEFAULT_THREADS)):   # restored afterwards
            args.func(args)
    except GraphVAENASError as exc:
        print(f"graphvae-nas: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("graphvae-nas: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
