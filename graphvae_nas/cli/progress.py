"""The search's progress bar: the command line's display, fed by the study's hooks."""
from __future__ import annotations

from typing import Any

from graphvae_nas.cli.numbers import format_value


class SearchProgress:
    """A tqdm bar over a study's trials: it reads "search (proposing)" while the strategy
    proposes (a GP fit or a VAE fine-tuning can take seconds), "search" while the batch is
    evaluated, and shows the best first objective so far. Pass :meth:`proposing` and
    :meth:`trial` to ``Study.optimize`` as ``on_proposing`` and ``callback``; use it as a
    context manager so the bar closes."""

    def __init__(self, study: Any, budget: int) -> None:
        from tqdm.auto import tqdm

        self.study = study
        self.bar = tqdm(total=budget, initial=len(study.trials), desc="search", unit="arch")
        self._proposing = False

    def proposing(self) -> None:
        self.bar.set_description("search (proposing)")
        self._proposing = True

    def trial(self, trial: Any) -> None:
        if self._proposing:
            self.bar.set_description("search")
            self._proposing = False
        self.bar.update(1)
        best = self.study.best()
        if best is not None:
            self.bar.set_postfix(best=format_value(best.objective))

    def __enter__(self) -> SearchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
