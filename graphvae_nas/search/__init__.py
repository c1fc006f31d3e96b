"""Layer 5: the ask/tell study, search strategies and the persistent study store.

The names below are imported on first use (PEP 562), so that importing a light submodule
(e.g. ``graphvae_nas.search.factory`` for the command line's ``--help``) does not load torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "STRATEGY_NAMES": "graphvae_nas.search.factory",
    "available_strategies": "graphvae_nas.search.factory",
    "make_strategy": "graphvae_nas.search.factory",
    "register_strategy": "graphvae_nas.search.factory",
    "Objective": "graphvae_nas.search.objectives",
    "parse_objective": "graphvae_nas.search.objectives",
    "StudyStore": "graphvae_nas.search.store",
    "History": "graphvae_nas.search.strategies",
    "SurrogateStrategy": "graphvae_nas.search.strategies",
    "LocalSearch": "graphvae_nas.search.strategies",
    "NSGA2Evolution": "graphvae_nas.search.strategies",
    "Proposal": "graphvae_nas.search.strategies",
    "RandomSearch": "graphvae_nas.search.strategies",
    "RegularizedEvolution": "graphvae_nas.search.strategies",
    "Strategy": "graphvae_nas.search.strategies",
    "ModelBasedPromotion": "graphvae_nas.search.strategies.promotion",
    "SuccessiveHalving": "graphvae_nas.search.strategies.promotion",
    "SearchStats": "graphvae_nas.search.study",
    "Study": "graphvae_nas.search.study",
    "Trial": "graphvae_nas.search.study",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from graphvae_nas.search.factory import (
        STRATEGY_NAMES,
        available_strategies,
        make_strategy,
        register_strategy,
    )
    from graphvae_nas.search.objectives import Objective, parse_objective
    from graphvae_nas.search.store import StudyStore
    from graphvae_nas.search.strategies import (
        History,
        LocalSearch,
        NSGA2Evolution,
        Proposal,
        RandomSearch,
        RegularizedEvolution,
        Strategy,
        SurrogateStrategy,
    )
    from graphvae_nas.search.strategies.promotion import ModelBasedPromotion, SuccessiveHalving
    from graphvae_nas.search.study import SearchStats, Study, Trial


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
