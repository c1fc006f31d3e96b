"""An append-only JSON Lines log: every line written and fsync'd before :meth:`AppendLog.append`
returns, and a last line cut off mid-write (a crash, SIGKILL) recovered on reading.

It serves the study store (:mod:`graphvae_nas.search.store`) and the experiments' runs files
(:mod:`graphvae_nas.experiments.runs_file`): one implementation of durable appends.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from graphvae_nas.errors import DataFormatError


class AppendLog:
    """The JSON Lines file at ``path``; ``what`` names it in errors (e.g. "study store")."""

    def __init__(self, path: str | Path, what: str = "log") -> None:
        self.path = Path(path)
        self.what = what

    def lines(self, *, repair: bool = True) -> list[tuple[int, str]]:
        """The complete lines with their 1-based numbers (blank ones left out). A last line
        without its newline was cut off mid-write: with ``repair`` it is cut from the file
        (durably), so that appending stays valid; without, it is only skipped."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DataFormatError(f"cannot read the {self.what} ({exc.strerror})",
                                  path=str(self.path)) from None
        complete = raw[:raw.rfind(b"\n") + 1]
        if repair and len(complete) < len(raw):
            try:
                with open(self.path, "r+b") as handle:
                    handle.truncate(len(complete))
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise DataFormatError(f"cannot cut off the incomplete last line ({exc.strerror})",
                                      path=str(self.path)) from None
        text = complete.decode("utf-8", errors="replace").splitlines()
        return [(number, line) for number, line in enumerate(text, 1) if line.strip()]

    def append(self, obj: dict[str, Any]) -> None:
        """Write ``obj`` as one line, flushed and fsync'd before returning."""
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(obj) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DataFormatError(f"cannot write to the {self.what} ({exc.strerror})",
                                  path=str(self.path)) from None
