"""The command line run in-process, for tests."""
from __future__ import annotations

from graphvae_nas.cli import main


def run(capsys, *args: object) -> tuple[int, str, str]:
    """``main(args)`` in-process, every argument as a string: (exit status, stdout, stderr)."""
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err
