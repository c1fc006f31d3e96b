"""Durable storage of a study: append-only JSON Lines, fsync'd after every record.

Line 1 is a header that identifies the study (space, strategy, evaluator, seed, and the
objectives with their directions); every further line is one finished trial::

    {"trial": 0, "hash": "...", "arch": "<native string>", "objective": 91.2,
     "values": {"cifar10_valid": 91.2, "hw_edgegpu_latency": 4.3}, "metrics": {...},
     "cost": 0.0, "failure": null, "tag": "random", "seconds": 0.01}

``values`` holds the raw value of every objective (``objective`` repeats the first).

Before a batch is evaluated, its proposals are logged as ``{"batch": [{"arch": ..., "tag":
...}, ...]}``; on resume the ones without a trial yet are evaluated first, so a study killed in
the middle of a batch continues with the same architectures.

Each record is written and fsync'd before the next proposal is made, so a crash (even SIGKILL)
loses at most the trial being evaluated. On resume a half-written last line (no newline) is
cut off, and the header must match the study being resumed.

Versions: 2 (this one) keeps ``objectives`` in the header and ``values`` in each record.
Version 1 (graphvae_nas 0.1.0) had one maximised objective, no ``objectives`` in the header and
only ``objective`` per record; such a store resumes for a study with one ``max`` objective (its
records read as that objective's values) and keeps being written as version 1 (its new records
carry both fields, so 0.1.0 still reads it). Any other version is refused.

An open store holds an exclusive OS lock on ``<path>.lock`` (:class:`~graphvae_nas.locking.FileLock`)
from before it reads or writes the file until :meth:`StudyStore.close` (or the end of its
``with`` block, its garbage collection, or its process): a second store on the same path, in
another process or in this one, is refused with :class:`~graphvae_nas.locking.LockedError`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.jsonl_log import AppendLog
from graphvae_nas.locking import FileLock
from graphvae_nas.search.objectives import Objective

STORE_FORMAT = "graphvae_nas.study"
STORE_VERSION = 2
READABLE_VERSIONS = (1, 2)


def store_lock_path(path: str | Path) -> Path:
    """The lock file of the study store at ``path``: ``<path>.lock`` beside it."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


class StudyStore:
    """Append-only trial log at ``path`` (see module docstring).

    ``header`` (see ``Study.store_header``) must hold ``objectives``, a list of
    ``{"name": ..., "direction": "max"|"min"}``; ``objectives`` and ``version`` say what the
    file holds (``version`` 1 for a resumed store of the first release). The store locks
    ``path`` until :meth:`close`; use it as a context manager to release it deterministically.
    """

    def __init__(self, path: str | Path, header: dict[str, Any], *, resume: bool = False) -> None:
        self._lock: FileLock | None = None
        self.path = Path(path)
        if not isinstance(header.get("objectives"), list) or not header["objectives"]:
            raise ValueError("a study store's header needs its objectives (see Study.store_header)")
        self.objectives = tuple(Objective.from_dict(o) for o in header["objectives"])
        self.header = {"format": STORE_FORMAT, "version": STORE_VERSION, **header}
        self.version = STORE_VERSION
        self.records: list[dict[str, Any]] = []
        self.last_batch: list[dict[str, Any]] = []
        self._lines: dict[int, int] = {}   # id(record or batch item) -> its line in the file
        self._log = AppendLog(self.path, "study store")
        if self.path.is_dir():
            raise DataFormatError("is a folder, not a study store; move it away or choose "
                                  "another output", path=str(self.path))
        self._lock = FileLock(store_lock_path(self.path), what=f"study store {self.path}",
                              hint="another study writes to it; close that store (or let its "
                                   "process finish) or choose another path")
        try:
            self._open(resume)
        except BaseException:
            self.close()
            raise

    def _open(self, resume: bool) -> None:
        if self.path.exists() and self.path.stat().st_size > 0:
            if not resume:
                raise DataFormatError("a study already exists here; resume it (--resume; in Python "
                                      "StudyStore(..., resume=True)) or "
                                      "choose another output", path=str(self.path))
            if not os.access(self.path, os.R_OK | os.W_OK):
                raise DataFormatError("the study store is not readable and writable (read-only?); "
                                      "a resumed study appends to it", path=str(self.path))
            self.records = self._read_existing()
        else:
            self._write_line(self.header)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the records stay readable; nothing more is written)."""
        return self._lock is None or not self._lock.held

    def close(self) -> None:
        """Release the store's lock; further writes are refused. A second call does nothing."""
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_existing(self) -> list[dict[str, Any]]:
        lines = self._log.lines(repair=True)   # a crash mid-write: the partial line is dropped
        if not lines:
            raise DataFormatError("empty study store", path=str(self.path))
        try:
            header = json.loads(lines[0][1])
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("format") != STORE_FORMAT:
            raise DataFormatError("not a graphvae_nas study store", path=str(self.path), line=1)
        version = header.get("version")
        if version not in READABLE_VERSIONS:
            raise DataFormatError(f"study store version {version!r} is not supported (this release "
                                  f"reads versions {', '.join(map(str, READABLE_VERSIONS))})",
                                  path=str(self.path), line=1, field="version")
        expected = dict(self.header)
        if version == 1:
            self._check_version_1()
            del expected["objectives"]
            expected["version"] = 1
        for key, value in expected.items():
            stored = header.get(key)
            if key == "strategy":
                stored = _with_added_defaults(stored, value)
            if stored != value:
                differ = _first_difference(stored, value)
                if differ is not None:
                    name, was, now = differ
                    raise DataFormatError(
                        f"this store belongs to another study: its {key} has {name} = {was!r}, "
                        f"this one {now!r} (set it as stored to resume)", path=str(self.path),
                        line=1, field=f"{key}.{name}")
                raise DataFormatError(
                    f"this store belongs to another study: {key} is {header.get(key)!r}, "
                    f"expected {value!r}", path=str(self.path), line=1, field=key)
        self.header, self.version = header, version
        records = []
        for line_no, line in lines[1:]:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(f"corrupt record: {exc.msg}", path=str(self.path),
                                      line=line_no) from None
            if isinstance(record, dict) and isinstance(record.get("batch"), list):
                for item in record["batch"]:
                    self._check_arch(item, line_no)
                    self._lines[id(item)] = line_no
                self.last_batch = record["batch"]
                continue
            if not isinstance(record, dict) or record.get("trial") != len(records):
                raise DataFormatError(f"expected trial {len(records)}", path=str(self.path),
                                      line=line_no, field="trial")
            self._check_arch(record, line_no)
            if not isinstance(record.get("metrics", {}), (dict, type(None))):
                raise DataFormatError("metrics must be a JSON object", path=str(self.path),
                                      line=line_no, field="metrics")
            if version == 1:
                record = self._upgrade_version_1(record, line_no)
            self._lines[id(record)] = line_no
            records.append(record)
        return records

    def _check_version_1(self) -> None:
        if len(self.objectives) != 1 or self.objectives[0].direction != "max":
            raise DataFormatError(
                "a version-1 study store holds one maximised objective; this study has "
                f"{', '.join(map(str, self.objectives))}", path=str(self.path), line=1,
                field="version")

    def _upgrade_version_1(self, record: dict[str, Any], line_no: int) -> dict[str, Any]:
        """A version-1 trial record in today's shape: its objective becomes the value of the
        (single, maximised) objective."""
        if "values" in record:  # appended by this release to a version-1 store
            return record
        objective = record.get("objective")
        if objective is not None and not isinstance(objective, (int, float)):
            raise DataFormatError(f"objective is {objective!r}, not a number",
                                  path=str(self.path), line=line_no, field="objective")
        values = {} if objective is None else {self.objectives[0].name: float(objective)}
        return {**record, "values": values}

    def _check_arch(self, record: Any, line_no: int) -> None:
        if not isinstance(record, dict) or not isinstance(record.get("arch"), str):
            raise DataFormatError("record lacks the architecture string", path=str(self.path),
                                  line=line_no, field="arch")

    def parse_arch(self, space: Any, record: dict[str, Any]) -> Any:
        """``space.parse(record["arch"])`` for a record read from this store; a bad
        architecture is a :class:`DataFormatError` naming the file, line and field."""
        try:
            return space.parse(record["arch"])
        except (GraphVAENASError, ValueError) as exc:
            raise DataFormatError(str(exc), path=str(self.path), line=self._lines.get(id(record)),
                                  field="arch") from None

    def _write_line(self, obj: dict[str, Any]) -> None:
        if self.closed:
            raise GraphVAENASError(f"the study store {self.path} is closed; open it again "
                                   "(resume=True) to continue")
        self._log.append(obj)

    def log_batch(self, proposals: list[dict[str, Any]]) -> None:
        """Durably note the proposals about to be evaluated."""
        self._write_line({"batch": proposals})
        self.last_batch = proposals

    def append(self, record: dict[str, Any]) -> None:
        """Write one trial durably (flush + fsync) before returning."""
        if record.get("trial") != len(self.records):
            raise ValueError(f"trial {record.get('trial')} appended after {len(self.records)} records")
        self._write_line(record)
        self.records.append(record)


def _first_difference(stored: Any, expected: Any) -> tuple[str, Any, Any] | None:
    """(dotted key, stored value, expected value) of the first difference between two dicts
    with the same keys (groups compared key by key); None when they are not such dicts."""
    if not isinstance(stored, dict) or not isinstance(expected, dict) or set(stored) != set(expected):
        return None
    for key in expected:
        if stored[key] != expected[key]:
            inner = _first_difference(stored[key], expected[key])
            if inner is not None:
                return (f"{key}.{inner[0]}", inner[1], inner[2])
            return key, stored[key], expected[key]
    return None


def _with_added_defaults(stored: Any, expected: Any) -> Any:
    """A stored strategy spec in today's shape: flat 0.1 options moved into their groups
    (removed options dropped where they held the value that reproduces today's behaviour),
    options it lacks (added by a later release) at their defaults, so that a study stored
    before a change resumes when the options reproduce the earlier behaviour. The preset's
    name is not compared, only the values it set."""
    if not isinstance(stored, dict) or not isinstance(expected, dict):
        return stored
    from graphvae_nas.search.configs import from_legacy, merge
    from graphvae_nas.search.factory import option_defaults

    upgraded = from_legacy(stored, drop_removed_defaults=True)
    defaults = option_defaults(str(expected.get("name")))
    out = merge({k: defaults[k] for k in expected if k in defaults}, upgraded)
    if "preset" in expected:
        out["preset"] = expected["preset"]
    return out
