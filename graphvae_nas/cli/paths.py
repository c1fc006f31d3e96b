"""Which arguments of a command are files it reads and which it writes, and the check that no
output is also an input or another output (the same file after resolving links), made before
the command does any work."""
from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from graphvae_nas.errors import GraphVAENASError


def declare_paths(parser: argparse.ArgumentParser, *, inputs: Sequence[str] = (),
                  outputs: Sequence[str] = ()) -> None:
    """Name the ``dest`` of the arguments of ``parser`` that are input and output files."""
    parser.set_defaults(path_inputs=tuple(inputs), path_outputs=tuple(outputs))


def _flag(dest: str) -> str:
    return dest if dest in ("file", "files", "model", "old", "new") else \
        "--" + dest.replace("_", "-")


def _named(args: argparse.Namespace, dests: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for dest in dests:
        value = getattr(args, dest, None)
        for item in (value if isinstance(value, list) else [value]):
            if item:
                out.append((_flag(dest), str(item)))
    return out


def check_paths(args: argparse.Namespace) -> None:
    """Refuse an output that resolves to an input or to another output of the same command."""
    inputs = _named(args, getattr(args, "path_inputs", ()))
    outputs = _named(args, getattr(args, "path_outputs", ()))
    seen = {Path(path).resolve(): (flag, path) for flag, path in inputs}
    for flag, path in outputs:
        key = Path(path).resolve()
        if key in seen:
            other_flag, other = seen[key]
            kind = "input" if (other_flag, other) in inputs else "output"
            raise GraphVAENASError(f"{flag} {path} is the same file as the {kind} {other_flag} "
                                   f"{other}; writing it would destroy it: choose another "
                                   "output (nothing was written)")
        seen[key] = (flag, path)
        _check_writable(flag, path)


def _check_writable(flag: str, path: str) -> None:
    """Refuse an output whose nearest existing folder is not a folder or cannot be written."""
    ancestor = Path(path).absolute()
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor != Path(path).absolute() and not ancestor.is_dir():
        raise GraphVAENASError(f"{flag} {path}: {ancestor} is not a folder (nothing was written)")
    if ancestor.exists() and not (ancestor.is_dir() or ancestor.is_file()):
        return                   # a device, pipe, ...: the writer refuses it by its kind
    folder = ancestor if ancestor.is_dir() else ancestor.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise GraphVAENASError(f"{flag} {path}: the folder {folder} is not writable "
                               "(nothing was written)")
