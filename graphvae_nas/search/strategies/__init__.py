"""Search strategies, all behind one protocol so they are compared on equal terms."""
from graphvae_nas.search.strategies.base import (
           History,
           Proposal,
           Strategy,
           random_unseen,
)
from graphvae_nas.search.strategies.baselines import (
           LocalSearch,
           NSGA2Evolution,
           RandomSearch,
           RegularizedEvolution,
)
from graphvae_nas.search.strategies.surrogate import SurrogateStrategy

__all__ = ["History", "LocalSearch", "NSGA2Evolution", "Proposal", "RandomSearch", "RegularizedEvolution",
           "Strategy", "SurrogateStrategy", "random_unseen"]
