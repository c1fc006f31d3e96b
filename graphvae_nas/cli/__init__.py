"""The ``graphvae-nas`` command line: thin faces over the library."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

from graphvae_nas import __version__
from graphvae_nas.cli.paths import check_paths
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.threads import DEFAULT_THREADS, bounded_threads, cpu_threads


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default after its help, unless the default is empty (None, False,
    "") or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        empty = default is None or default is False or default == "" or default is argparse.SUPPRESS
        if "%(default)" in text or "default:" in text or empty or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def iter_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from iter_parsers(sub)


def build_parser() -> argparse.ArgumentParser:
    """The full ``graphvae-nas`` parser. Building it imports no torch (so ``--help`` is quick):
    sub-command modules import heavy libraries inside their command functions."""
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
    for p in iter_parsers(parser):
        p.formatter_class = HelpFormatter
    return parser


def _bound_threads(args: argparse.Namespace) -> None:
    """``--threads`` above the CPUs this process may use becomes that number, said on stderr."""
    threads = getattr(args, "threads", None)
    if threads is None:
        return
    args.threads = bounded_threads(threads, warn=False)
    if args.threads < threads:
        print(f"graphvae-nas: --threads {threads}: {args.threads} CPUs available, using "
              f"{args.threads}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphvae-nas`` console script; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = [str(word) for word in argv]     # e.g. to print the command that resumes a run
    try:
        check_paths(args)      # no output may be an input or another output
        _bound_threads(args)
        with cpu_threads(getattr(args, "threads", DEFAULT_THREADS)):   # restored afterwards
            args.func(args)
    except GraphVAENASError as exc:
        print(f"graphvae-nas: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("graphvae-nas: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # e.g. `graphvae-nas data stats --json | head`
        _silence_stdout()
        return 141
    except OSError as exc:           # a file the system refused: name it, no traceback
        if exc.filename is None:
            raise
        print(f"graphvae-nas: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def _silence_stdout() -> None:
    """After the reader of our output went away: send what is still buffered nowhere, so that
    Python's exit does not print a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # no real file descriptor (tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
