"""PyTorch networks built from architectures (``space.to_module(arch, num_classes)``).

Depends only on torch and :mod:`graphvae_nas.graph`; the search spaces import it lazily.
"""
from graphvae_nas.networks.enas import EnasNetwork
from graphvae_nas.networks.generic import (
    GenericNetwork,
    build_op,
    register_op,
    registered_ops,
    unregister_op,
)
from graphvae_nas.networks.nb101 import NB101Network
from graphvae_nas.networks.nb201 import NB201Network, nb201_parameter_count
from graphvae_nas.networks.ops import count_parameters

__all__ = [
    "EnasNetwork", "GenericNetwork", "NB101Network", "NB201Network", "build_op", "count_parameters",
    "nb201_parameter_count", "register_op", "registered_ops", "unregister_op",
]
