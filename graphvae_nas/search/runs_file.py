"""A JSON-lines record of finished comparison runs, so an interrupted comparison resumes.

Each line is one run (a dict with ``strategy`` and ``seed``) plus the ``settings`` that decide
its outcome. Reading checks every line's settings against the current comparison's and refuses
a file written for other settings, naming the line and the first field that differs; a last line
cut off mid-write (the process was killed) is dropped so that appending stays valid.

A setting named in ``vae_settings`` (by default ``model``, the VAE's file) only decides the
runs of strategies that search a VAE's latent space, so the runs of the others are kept when
only it differs: a comparison of the cheap strategies can later be extended with latent BO in
the same file.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from graphvae_nas.errors import DataFormatError, GraphVAENASError


VAE_SETTINGS = frozenset({"model"})
"""The settings of a comparison that only decide the runs of strategies searching a VAE."""


class RunsFile:
    """The finished runs of one comparison in ``path``, recorded with ``settings``; the fields
    in ``vae_settings`` are compared only for strategies that need a VAE."""

    def __init__(self, path: str | Path, settings: dict[str, Any], *,
                 vae_settings: frozenset[str] = VAE_SETTINGS) -> None:
        self.path = Path(path)
        self.settings = json.loads(json.dumps(settings))   # as it reads back from JSON
        self.vae_settings = vae_settings

    def load(self) -> dict[tuple[str, int], dict[str, Any]]:
        """The recorded runs by (strategy, seed); none when the file does not exist."""
        if not self.path.exists():
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        runs: dict[tuple[str, int], dict[str, Any]] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if number == len(lines) and not line.endswith("\n"):
                self._truncate(len(line.encode("utf-8")))   # killed mid-write
                break
            try:
                run = json.loads(line)
                key = (run["strategy"], int(run["seed"]))
                settings = run.pop("settings")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DataFormatError(f"{self.path}:{number}: not a comparison run record "
                                      f"({exc})") from None
            for name, value in self.settings.items():
                if name in self.vae_settings and not _needs_vae(key[0]):
                    continue
                if settings.get(name) != value:
                    raise DataFormatError(
                        f"{self.path}:{number}: recorded with {name}={settings.get(name)!r}, but "
                        f"this comparison uses {name}={value!r}; use another runs file")
            runs[key] = run
        return runs

    def append(self, run: dict[str, Any]) -> None:
        """Record one finished run (flushed at once)."""
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"settings": self.settings, **run}) + "\n")

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as f:
            f.truncate(self.path.stat().st_size - size)


def _needs_vae(strategy: str) -> bool:
    from graphvae_nas.search.factory import needs_vae, strategy_entry

    try:
        strategy_entry(strategy)
    except GraphVAENASError:    # a strategy registered by another program: compare everything
        return True
    return needs_vae(strategy)


Job = tuple[str, int]


def run_jobs(jobs: Sequence[Job], run_one: Callable[[Job], dict[str, Any]], *, workers: int,
             initializer: Callable[..., None], initargs: tuple,
             record: RunsFile | None = None,
             on_run: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run every (strategy, seed) job not yet in ``record`` in ``workers`` processes (each set
    up by ``initializer(*initargs)``), recording each run as it ends and showing it to
    ``on_run``; returns the runs of ``jobs`` in their order, recorded and new."""
    done = {} if record is None else record.load()
    todo = [job for job in jobs if job not in done]
    if todo:
        with ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs) as pool:
            for future in as_completed([pool.submit(run_one, job) for job in todo]):
                run = future.result()
                if record is not None:
                    record.append(run)
                done[(run["strategy"], run["seed"])] = run
                if on_run is not None:
                    on_run(run)
    return [done[job] for job in jobs]
