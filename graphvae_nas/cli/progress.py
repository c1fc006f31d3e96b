"""The search's progress bar: the command line's display, fed by the study's hooks."""
from __future__ import annotations

from typing import Any

from graphvae_nas.cli.numbers import format_value


class SearchProgress:
    """A tqdm bar over a study's trials: it reads "search (proposing)" while the strategy
    proposes (a GP fit or a VAE fine-tuning can take seconds), "search" while the batch is
    evaluated, and shows the best first objective so far. Pass :meth:`proposing` and
    :meth:`trial` to ``Study.optimize`` as ``on_proposing`` and ``callback``; use it as a
    context manager so the bar closes. With a budget in cost (``budget_cost``) and no budget
    in evaluations, the bar counts cost; a study with fidelities shows the cost spent."""

    def __init__(self, study: Any, budget: int | None, budget_cost: float | None = None) -> None:
        from tqdm.auto import tqdm

        self.study = study
        self.by_cost = budget is None
        self.show_cost = not self.by_cost and study.fidelities is not None
        if self.by_cost:
            self.bar = tqdm(total=budget_cost, initial=study.total_cost, desc="search",
                            unit="cost")
        else:
            self.bar = tqdm(total=budget, initial=len(study.trials), desc="search", unit="arch")
        self._proposing = False

    def proposing(self) -> None:
        self.bar.set_description("search (proposing)")
        self._proposing = True

    def trial(self, trial: Any) -> None:
        if self._proposing:
            self.bar.set_description("search")
            self._proposing = False
        self.bar.update(trial.evaluation.cost if self.by_cost else 1)
        shown = {}
        best = self.study.best()
        if best is not None:
            shown["best"] = format_value(best.objective)
        if self.show_cost:
            shown["cost"] = format_value(self.study.total_cost)
        if shown:
            self.bar.set_postfix(shown)

    def __enter__(self) -> SearchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
