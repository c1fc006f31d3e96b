"""The ask/tell study: a strategy proposes, an evaluator scores, a store persists.

Every architecture is keyed by canonical hash, so nothing is proposed or evaluated twice.
Each result reaches the store before the next proposal, so resuming a study is reading its
store back: the strategies are functions of the history and of ``(seed, trial number)``, so a
resumed study continues exactly where an uninterrupted one would have gone.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import Evaluation, Evaluator
from graphvae_nas.evaluation.executors import Executor, SerialExecutor
from graphvae_nas.graph import Architecture
from graphvae_nas.search.objectives import Objective, as_objectives
from graphvae_nas.search.store import StudyStore
from graphvae_nas.search.strategies.base import History, Proposal, Strategy
from graphvae_nas.spaces import SearchSpace


@dataclass
class Trial:
    """One evaluated architecture."""

    number: int
    arch: Architecture
    evaluation: Evaluation
    tag: str = ""
    seconds: float = 0.0

    @property
    def objective(self) -> float | None:
        return self.evaluation.objective


@dataclass
class SearchStats:
    """Counters the strategies report (e.g. decodes that were invalid or already seen)."""

    proposals: int = 0
    duplicates_dropped: int = 0
    overhead_s: float = 0.0
    strategy: dict[str, float] = field(default_factory=dict)


class Study:
    """Search ``space`` with ``strategy``, scoring with ``evaluator``; persists to ``store``.

    ``objectives``: :class:`~graphvae_nas.search.objectives.Objective` objects or
    ``"name[:max|min]"`` strings (default: the evaluator's metric, maximised). Each objective's
    value is read from an evaluation's ``values`` (else its ``metrics``); the first one is what
    single-objective strategies and :meth:`best` optimise, :meth:`pareto_front` uses them all.
    """

    def __init__(self, space: SearchSpace, strategy: Strategy, evaluator: Evaluator, *,
                 seed: int = 0, store: StudyStore | None = None,
                 objectives: Sequence[Objective | str] | None = None) -> None:
        self.space = space
        self.strategy = strategy
        self.evaluator = evaluator
        self.seed = seed
        self.store = store
        self.objectives = self.resolve_objectives(evaluator, objectives)
        self.trials: list[Trial] = []
        self.history = History(space, objective_specs=self.objectives)
        self.stats = SearchStats()
        self._pending: dict[str, Proposal] = {}
        self._resumed: list[Proposal] = []
        if store is not None:
            if store.objectives != self.objectives:
                raise GraphVAENASError(
                    f"the store's objectives ({', '.join(map(str, store.objectives))}) are not this "
                    f"study's ({', '.join(map(str, self.objectives))})")
            for record in store.records:
                self._remember(Trial(record["trial"], store.parse_arch(space, record),
                                     Evaluation.from_dict(record), record.get("tag", ""),
                                     record.get("seconds", 0.0)))
            for item in store.last_batch:  # asked before a crash, never told
                arch = store.parse_arch(space, item)
                if arch.canonical_hash not in self.history.seen:
                    self._resumed.append(Proposal(arch, item.get("tag", "")))

    @staticmethod
    def resolve_objectives(evaluator: Evaluator,
                           objectives: Sequence[Objective | str] | None = None) -> tuple[Objective, ...]:
        """``objectives`` checked (default: the evaluator's metric, maximised).

        An evaluator that lists the metrics it measures (``evaluator.objectives``, e.g. a
        table's columns) must measure every objective; one that measures several needs them
        declared with their directions.
        """
        measured = getattr(evaluator, "objectives", None)
        if objectives is None:
            if measured is not None and len(measured) > 1:
                raise GraphVAENASError(f"the evaluator measures {', '.join(measured)}: declare the "
                                       "study's objectives with their directions (objectives=...)")
            name = getattr(evaluator, "objective", None)
            return (Objective(name if isinstance(name, str) else "objective"),)
        resolved = as_objectives(objectives)
        if measured is not None:
            missing = [o.name for o in resolved if o.name not in measured]
            if missing:
                raise GraphVAENASError(f"the evaluator does not measure objective(s) "
                                       f"{', '.join(missing)} (it measures {', '.join(measured)})")
        return resolved

    @staticmethod
    def store_header(space: SearchSpace, strategy: Strategy, evaluator: Evaluator, seed: int,
                     objectives: Sequence[Objective | str] | None = None) -> dict[str, Any]:
        """What a store must match to be resumed by this study."""
        return {"space": space.spec(), "strategy": strategy.spec(), "evaluator": evaluator.spec(),
                "seed": seed, "objectives": [o.to_dict() for o in
                                             Study.resolve_objectives(evaluator, objectives)]}

    @staticmethod
    def check_budget(space: SearchSpace, budget: int) -> None:
        """Raise when ``budget`` exceeds the number of architectures of a finite space."""
        size = getattr(space, "size", lambda: None)()
        if budget < 1:
            raise GraphVAENASError(f"budget must be positive, got {budget}")
        if size is not None and budget > size:
            raise GraphVAENASError(f"budget {budget} is larger than the space ({size} architectures)")

    def _remember(self, trial: Trial) -> None:
        self.trials.append(trial)
        self.history.add(trial.arch, trial.objective, trial.tag, trial.evaluation.values)

    def rng(self) -> random.Random:
        """The generator for the next proposal: a function of the seed and the trial count."""
        return random.Random(f"{self.seed}:{len(self.trials)}")

    # ------------------------------------------------------------------ ask / tell
    def ask(self, n: int = 1) -> list[Architecture]:
        """Up to ``n`` new architectures, none evaluated or pending before."""
        start = time.perf_counter()
        if self._resumed:    # read back from the store: already in their stored form
            proposals, self._resumed = self._resumed[:n], self._resumed[n:]
            logged = True
        else:
            # held as the store holds them, so that a resumed study sees the same graphs (a bn
            # decode numbers its nodes otherwise than the model string read back)
            proposals = [replace(p, arch=self.space.parse(self.space.format(p.arch)))
                         for p in self.strategy.propose(self.history, n, self.rng())]
            logged = False
        fresh = []
        for proposal in proposals:
            h = proposal.arch.canonical_hash
            if h in self.history.seen or h in self._pending:
                self.stats.duplicates_dropped += 1
                continue
            self.space.validate(proposal.arch)
            self._pending[h] = proposal
            fresh.append(proposal.arch)
        self.stats.proposals += len(fresh)
        self.stats.overhead_s += time.perf_counter() - start
        if self.store is not None and fresh and not logged:
            self.store.log_batch([{"arch": self.space.format(a),
                                   "tag": self._pending[a.canonical_hash].tag} for a in fresh])
        for key, value in getattr(self.strategy, "counters", {}).items():
            self.stats.strategy[key] = value
        return fresh

    def _with_objectives(self, evaluation: Evaluation) -> Evaluation:
        """``evaluation`` with ``values`` holding exactly this study's objectives (in order)
        and ``objective`` the first of them.

        A value is read from the evaluation's ``values``, else its ``metrics``; an evaluation
        with no ``values`` at all (an evaluator measuring one unnamed thing) gives its
        ``objective`` to the first objective. A successful evaluation must have the first
        objective; a later one it lacks is left out (the trial is then off the Pareto front).
        """
        if evaluation.objective is None:
            return replace(evaluation, values={})
        values = {}
        for objective in self.objectives:
            if objective.name in evaluation.values:
                values[objective.name] = evaluation.values[objective.name]
            elif objective.name in evaluation.metrics:
                values[objective.name] = float(evaluation.metrics[objective.name])
        first = self.objectives[0].name
        if first not in values:
            if evaluation.values:
                raise GraphVAENASError(
                    f"the evaluation has no value for objective {first!r} (it has "
                    f"{', '.join([*evaluation.values, *evaluation.metrics])})")
            values = {first: float(evaluation.objective), **values}
        return replace(evaluation, objective=None, values=values)

    def tell(self, arch: Architecture, evaluation: Evaluation, seconds: float = 0.0) -> Trial:
        """Record the result of an asked architecture (persisted before returning)."""
        proposal = self._pending.pop(arch.canonical_hash, None)
        if proposal is None:
            raise GraphVAENASError("tell() for an architecture that was not asked (or told twice)")
        trial = Trial(len(self.trials), arch, self._with_objectives(evaluation), proposal.tag,
                      seconds)
        if self.store is not None:
            self.store.append({"trial": trial.number, "hash": arch.canonical_hash,
                               "arch": self.space.format(arch), **trial.evaluation.to_dict(),
                               "tag": trial.tag, "seconds": seconds})
        self._remember(trial)
        return trial

    def optimize(self, budget: int, *, batch_size: int = 1,
                 callback: Callable[[Trial], None] | None = None,
                 on_proposing: Callable[[], None] | None = None,
                 executor: Executor | None = None) -> list[Trial]:
        """Evaluate until ``budget`` trials exist (those already in the store count).

        Each round asks ``batch_size`` architectures and evaluates them with ``executor``
        (default: one after another in this process); results are told in the order asked.
        ``on_proposing()`` is called before each round's proposal (which can take seconds: a
        surrogate fit, a fine-tuning) and ``callback(trial)`` after each trial: the hooks a
        progress display uses (the engine prints nothing).
        """
        self.check_budget(self.space, budget)
        executor = executor or SerialExecutor()
        while len(self.trials) < budget:
            if on_proposing is not None:
                on_proposing()
            asked = self.ask(min(batch_size, budget - len(self.trials)))
            if not asked:
                raise GraphVAENASError(f"strategy {self.strategy.spec()['name']} proposed no new "
                                       "architecture")
            for arch, (evaluation, seconds) in zip(asked, executor.run(self.evaluator, asked)):
                trial = self.tell(arch, evaluation, seconds)
                if callback is not None:
                    callback(trial)
        return self.trials

    def best(self) -> Trial | None:
        """The trial with the best first objective (highest for ``max``, lowest for ``min``;
        the first one on ties)."""
        first = self.objectives[0]
        scored = [t for t in self.trials if t.objective is not None]
        return max(scored, key=lambda t: (first.orient(t.objective), -t.number)) if scored else None

    def pareto_front(self) -> list[Trial]:
        """The trials no other trial dominates over all objectives, in trial order (trials
        lacking a value of some objective are left out; equal points all stay;
        :func:`graphvae_nas.search.pareto.raw_front`)."""
        from graphvae_nas.search.pareto import raw_front

        scored = [t for t in self.trials if t.objective is not None]
        return [scored[i] for i in raw_front(self.objectives, [t.evaluation.values for t in scored])]
