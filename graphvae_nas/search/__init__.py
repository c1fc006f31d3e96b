"""Layer 5: the ask/tell study, search strategies and the persistent study store."""
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
from graphvae_nas.search.study import SearchStats, Study, Trial

__all__ = [
    "STRATEGY_NAMES",
    "History",
    "LocalSearch",
    "NSGA2Evolution",
    "Objective",
    "Proposal",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchStats",
    "Strategy",
    "SurrogateStrategy",
    "Study",
    "StudyStore",
    "Trial",
    "available_strategies",
    "make_strategy",
    "parse_objective",
    "register_strategy",
]
