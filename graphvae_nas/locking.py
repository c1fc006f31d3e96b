"""Exclusive OS file locks for folders and files that one process at a time may write.

``fcntl.flock`` on a small lock file beside the protected data: the kernel releases the lock
when the holder exits or is killed (even SIGKILL), so a crashed run never leaves a stale lock.
The lock file holds the holder's process id for the error message and is never deleted
(deleting it would let two processes lock two different files of the same name).
POSIX only (Linux, macOS).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from graphvae_nas.errors import GraphVAENASError


class LockedError(GraphVAENASError):
    """Another process holds the lock."""


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


@contextlib.contextmanager
def exclusive_lock(path: str | Path, *, what: str, wait: bool = False,
                   hint: str = "wait for it to finish or stop it") -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the ``with`` block.

    If another process holds it: ``wait=False`` raises :class:`LockedError` naming ``what``,
    the holder's pid and ``hint``; ``wait=True`` says on stderr that it waits, then blocks
    until the holder releases it (or dies).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise GraphVAENASError(f"{path}: cannot create the lock file of {what} "
                               f"({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise LockedError(f"{what} is in use by another process{holder}; {hint}") from None
            print(f"waiting for another process{holder} that holds {what}", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
