"""File permissions of what the library writes.

Files are written to a temporary file (``tempfile.mkstemp``, mode 0600) and renamed into
place; before the rename they get the mode any new file would get (0666 less the umask, so
0644 under the usual umask 022): datasets, models, checkpoints and downloads alike.
"""
from __future__ import annotations

import os


def give_default_permissions(path: str | os.PathLike[str]) -> None:
    """``chmod`` ``path`` to ``0o666 & ~umask``, the mode ``open(path, "w")`` would create."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
