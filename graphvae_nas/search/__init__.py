"""Layer 5: the ask/tell study, search strategies and the persistent study store."""
from graphvae_nas.search.factory import STRATEGY_NAMES, make_strategy
from graphvae_nas.search.objectives import Objective, parse_objective
from graphvae_nas.search.store import StudyStore
from graphvae_nas.search.strategies import (
    History,
    LatentBO,
    LocalSearch,
    Proposal,
    RandomSearch,
    RegularizedEvolution,
    Strategy,
)
from graphvae_nas.search.study import SearchStats, Study, Trial

__all__ = [
    "STRATEGY_NAMES",
    "History",
    "LatentBO",
    "LocalSearch",
    "Objective",
    "Proposal",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchStats",
    "Strategy",
    "Study",
    "StudyStore",
    "Trial",
    "make_strategy",
    "parse_objective",
]
