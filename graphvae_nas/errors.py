"""Exception types shared across graphvae_nas.

Every error that comes from bad input says *where* (file, line, field) and *why*.
"""
from __future__ import annotations


class GraphVAENASError(Exception):
    """Base class of all errors raised deliberately by graphvae_nas."""


class ArchitectureError(GraphVAENASError, ValueError):
    """An architecture graph is malformed or not allowed by a search space."""


class DataFormatError(GraphVAENASError, ValueError):
    """A data file (or one record in it) cannot be read.

    ``path``, ``line`` and ``field`` locate the problem; ``reason`` says what is wrong.
    """

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
        if self.field is not None:
            where += f" (field {self.field!r})" if where else f"field {self.field!r}"
        return f"{where}: {self.reason}" if where else self.reason
