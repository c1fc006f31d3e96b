"""The ask/tell study: a strategy proposes, an evaluator scores, a store persists.

Every architecture is keyed by canonical hash, so nothing is proposed or evaluated twice.
Each result reaches the store before the next proposal, so resuming a study is reading its
store back: the strategies are functions of the history and of ``(seed, trial number)``, so a
resumed study continues exactly where an uninterrupted one would have gone.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import Evaluation, Evaluator
from graphvae_nas.evaluation.executors import Executor, SerialExecutor
from graphvae_nas.evaluation.fidelity import AtFidelity, fidelities_of
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

    @property
    def fidelity(self) -> float | None:
        return self.evaluation.fidelity


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

    With a fidelity-aware evaluator (:mod:`graphvae_nas.evaluation.fidelity`) a strategy's
    proposals carry a fidelity (None: the highest), one architecture may be evaluated once per
    fidelity, and :meth:`best` and :meth:`pareto_front` rank the trials at the highest fidelity
    evaluated so far. Every evaluation's ``cost`` adds up in :attr:`total_cost`.
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
        self.fidelities = fidelities_of(evaluator)
        self.trials: list[Trial] = []
        self.total_cost = 0.0
        self._evaluated_at: set[tuple[str, float | None]] = set()
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
                fidelity = self._fidelity(item.get("fidelity"))
                if (arch.canonical_hash, fidelity) not in self._evaluated_at:
                    self._resumed.append(Proposal(arch, item.get("tag", ""), fidelity))

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
    def check_budget(space: SearchSpace, budget: int, fidelities: int = 1) -> None:
        """Raise when ``budget`` exceeds the evaluations a finite space holds (its
        architectures, each at ``fidelities`` fidelities)."""
        size = getattr(space, "size", lambda: None)()
        if budget < 1:
            raise GraphVAENASError(f"budget must be positive, got {budget}")
        if size is not None and budget > size * fidelities:
            raise GraphVAENASError(f"budget {budget} is larger than the space ({size} architectures"
                                   + (f" at {fidelities} fidelities)" if fidelities > 1 else ")"))

    def _remember(self, trial: Trial) -> None:
        self.trials.append(trial)
        self.total_cost += trial.evaluation.cost
        self._evaluated_at.add((trial.arch.canonical_hash, trial.fidelity))
        self.history.add(trial.arch, trial.objective, trial.tag, trial.evaluation.values,
                         trial.fidelity)

    def _fidelity(self, fidelity: float | None) -> float | None:
        """A proposal's fidelity checked against the evaluator's (None: its highest)."""
        if self.fidelities is None:
            if fidelity is not None:
                raise GraphVAENASError(f"a proposal asks for fidelity {fidelity:g}, but the "
                                       "evaluator has a single fidelity")
            return None
        if fidelity is None:
            return self.fidelities[-1]
        if float(fidelity) not in self.fidelities:
            raise GraphVAENASError(f"a proposal asks for fidelity {fidelity:g}; the evaluator's "
                                   f"are {', '.join(f'{f:g}' for f in self.fidelities)}")
        return float(fidelity)

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
            proposal = replace(proposal, fidelity=self._fidelity(proposal.fidelity))
            if (h, proposal.fidelity) in self._evaluated_at or h in self._pending:
                self.stats.duplicates_dropped += 1
                continue
            self.space.validate(proposal.arch)
            self._pending[h] = proposal
            fresh.append(proposal.arch)
        self.stats.proposals += len(fresh)
        self.stats.overhead_s += time.perf_counter() - start
        if self.store is not None and fresh and not logged:
            self.store.log_batch([self._batch_item(self._pending[a.canonical_hash]) for a in fresh])
        for key, value in getattr(self.strategy, "counters", {}).items():
            self.stats.strategy[key] = value
        return fresh

    def _batch_item(self, proposal: Proposal) -> dict[str, Any]:
        item = {"arch": self.space.format(proposal.arch), "tag": proposal.tag}
        if proposal.fidelity is not None:
            item["fidelity"] = proposal.fidelity
        return item

    def fidelity_asked(self, arch: Architecture) -> float | None:
        """The fidelity an asked, not yet told architecture is to be evaluated at (None: the
        evaluator has a single fidelity)."""
        proposal = self._pending.get(arch.canonical_hash)
        if proposal is None:
            raise GraphVAENASError("fidelity_asked() for an architecture that is not pending")
        return proposal.fidelity

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
        evaluation = self._with_objectives(evaluation)
        if proposal.fidelity is not None and evaluation.fidelity != proposal.fidelity:
            if evaluation.fidelity is not None:
                raise GraphVAENASError(f"asked at fidelity {proposal.fidelity:g}, told an "
                                       f"evaluation at {evaluation.fidelity:g}")
            evaluation = replace(evaluation, fidelity=proposal.fidelity)
        trial = Trial(len(self.trials), arch, evaluation, proposal.tag, seconds)
        if self.store is not None:
            self.store.append({"trial": trial.number, "hash": arch.canonical_hash,
                               "arch": self.space.format(arch), **trial.evaluation.to_dict(),
                               "tag": trial.tag, "seconds": seconds})
        self._remember(trial)
        return trial

    def optimize(self, budget: int | None = None, *, batch_size: int = 1,
                 budget_cost: float | None = None,
                 callback: Callable[[Trial], None] | None = None,
                 on_proposing: Callable[[], None] | None = None,
                 executor: Executor | None = None) -> list[Trial]:
        """Evaluate until ``budget`` trials exist (those already in the store count) or the
        evaluations' costs add up to ``budget_cost`` (in the evaluator's unit), whichever
        comes first; give at least one. The round that reaches ``budget_cost`` is finished,
        so the total may pass it by less than one round's cost.

        Each round asks ``batch_size`` architectures and evaluates them with ``executor``
        (default: one after another in this process), fidelity by fidelity; results are told
        in the order asked. ``on_proposing()`` is called before each round's proposal (which
        can take seconds: a surrogate fit, a fine-tuning) and ``callback(trial)`` after each
        trial: the hooks a progress display uses (the engine prints nothing).
        """
        if budget is None and budget_cost is None:
            raise GraphVAENASError("give a budget in trials, in cost, or both")
        if budget is not None:
            self.check_budget(self.space, budget, len(self.fidelities or (None,)))
        if budget_cost is not None and not budget_cost > 0:
            raise GraphVAENASError(f"budget_cost must be positive, got {budget_cost}")
        executor = executor or SerialExecutor()

        def more() -> bool:
            return ((budget is None or len(self.trials) < budget)
                    and (budget_cost is None or self.total_cost < budget_cost))
        while more():
            if on_proposing is not None:
                on_proposing()
            asked = self.ask(batch_size if budget is None
                             else min(batch_size, budget - len(self.trials)))
            if not asked:
                raise GraphVAENASError(f"strategy {self.strategy.spec()['name']} proposed no new "
                                       "architecture")
            for arch, (evaluation, seconds) in self._run(executor, asked):
                trial = self.tell(arch, evaluation, seconds)
                if callback is not None:
                    callback(trial)
        return self.trials

    def _run(self, executor: Executor, asked: list[Architecture]
             ) -> Iterator[tuple[Architecture, tuple[Evaluation, float]]]:
        """``(arch, (evaluation, seconds))`` of a batch in the order asked, each as soon as it
        and those before it are known; with fidelities the executor runs each fidelity's part
        of the batch with the evaluator bound to that fidelity."""
        if self.fidelities is None:
            yield from zip(asked, executor.run(self.evaluator, asked))
            return
        results: dict[int, tuple[Evaluation, float]] = {}
        told = 0
        for fidelity in sorted({self.fidelity_asked(a) for a in asked}):
            part = [i for i, a in enumerate(asked) if self.fidelity_asked(a) == fidelity]
            bound = AtFidelity(self.evaluator, fidelity)  # type: ignore[arg-type]
            for i, result in zip(part, executor.run(bound, [asked[i] for i in part])):
                results[i] = result
                while told in results:
                    yield asked[told], results.pop(told)
                    told += 1

    def _ranked_trials(self) -> list[Trial]:
        """The successful trials that :meth:`best` and :meth:`pareto_front` compare: with
        fidelities, those at the highest fidelity evaluated so far."""
        scored = [t for t in self.trials if t.objective is not None]
        if self.fidelities is None or not scored:
            return scored
        top = max(t.fidelity for t in scored)
        return [t for t in scored if t.fidelity == top]

    def best(self) -> Trial | None:
        """The trial with the best first objective (highest for ``max``, lowest for ``min``;
        the first one on ties); with fidelities, among the trials at the highest fidelity
        evaluated so far."""
        first = self.objectives[0]
        scored = self._ranked_trials()
        return max(scored, key=lambda t: (first.orient(t.objective), -t.number)) if scored else None

    def pareto_front(self) -> list[Trial]:
        """The trials no other trial dominates over all objectives, in trial order (trials
        lacking a value of some objective are left out; equal points all stay;
        :func:`graphvae_nas.search.pareto.raw_front`); with fidelities, among the trials at
        the highest fidelity evaluated so far."""
        from graphvae_nas.search.pareto import raw_front

        scored = self._ranked_trials()
        return [scored[i] for i in raw_front(self.objectives, [t.evaluation.values for t in scored])]
