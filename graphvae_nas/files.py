"""Writing files without destroying what is not ours to replace.

Every file the library writes (datasets, models, checkpoints, downloads) goes through
:func:`atomic_write`: it is written to a temporary file in the target's folder and renamed over
the target, so a crash never leaves half a file under the final name. The rename replaces only
a regular file or nothing: a device (``/dev/null``, ``/dev/full``), a FIFO, a socket or a
folder is refused with a clear error and left as it is. A symbolic link is written through:
the file it points to is replaced and the link stays (a link to anything but a regular file or
a missing path is refused like that thing).
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from graphvae_nas.errors import DataFormatError
from graphvae_nas.permissions import give_default_permissions

_KINDS = ((stat.S_ISDIR, "a folder; give a file name"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISSOCK, "a socket"))


def replaceable_target(path: str | Path) -> Path:
    """The path an atomic write of ``path`` replaces: ``path`` itself, or for a symbolic link
    the file it points to. Raises :class:`DataFormatError` when that is not a regular file or
    a missing path in an existing folder."""
    path = Path(path)
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise DataFormatError(f"cannot write: {exc.strerror}", path=str(path)) from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = next((text for test, text in _KINDS if test(mode)), "not a regular file")
        raise DataFormatError(f"cannot write: this is {kind}; an output must be a regular file "
                              "or a new name", path=str(path))
    if not target.parent.is_dir():
        raise DataFormatError(f"cannot write: folder {str(target.parent)!r} does not exist",
                              path=str(path))
    return target


def atomic_write(path: str | Path, write: Callable[[str], None], *, suffix: str = ".tmp") -> None:
    """``write(tmp)`` fills a temporary file beside the target of ``path``
    (:func:`replaceable_target`), which then gets the default permissions and is renamed over
    the target; on any error the temporary file is removed and the target is untouched."""
    target = replaceable_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise DataFormatError(f"cannot write: {exc.strerror}", path=str(path)) from None
    os.close(fd)
    try:
        write(tmp)
        give_default_permissions(tmp)  # mkstemp creates 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
