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


class FileLock:
    """An exclusive lock on the file ``path`` (created if missing), held from construction until
    :meth:`release` (also on leaving a ``with`` block, on garbage collection, and when the
    process dies).

    If another holder has it (another process, or another ``FileLock`` on the same file in this
    process): ``wait=False`` raises :class:`LockedError` naming ``what``, the holder's pid and
    ``hint``; ``wait=True`` says on stderr that it waits, then blocks until the holder releases
    it (or dies).
    """

    def __init__(self, path: str | Path, *, what: str, wait: bool = False,
                 hint: str = "wait for it to finish or stop it") -> None:
        self._fd: int | None = None
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise GraphVAENASError(f"{self.path}: cannot create the lock file of {what} "
                                   f"({exc.strerror})") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if not wait:
                    raise LockedError(f"{what} is in use by another process{holder}; {hint}") from None
                print(f"waiting for another process{holder} that holds {what}", file=sys.stderr,
                      flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Release the lock (the lock file stays); a second call does nothing."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(OSError):   # the kernel releases it anyway when the process ends
            self.release()


@contextlib.contextmanager
def exclusive_lock(path: str | Path, *, what: str, wait: bool = False,
                   hint: str = "wait for it to finish or stop it") -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the ``with`` block
    (see :class:`FileLock` for ``what``, ``wait`` and ``hint``)."""
    with FileLock(path, what=what, wait=wait, hint=hint) as lock:
        yield lock.path
