"""Layer 2: search spaces (op vocabulary, native format, validity, sampling, neighbours)."""
from graphvae_nas.spaces.base import (
    INPUT,
    OUTPUT,
    FiniteSearchSpace,
    SearchSpace,
    available_spaces,
    get_space,
    match_template,
    register_space,
    same_architectures,
    same_shape,
    sample_distinct,
    space_from_spec,
    shape_spec,
    structure_spec,
)
from graphvae_nas.spaces.bn import BayesianNetworkSpace
from graphvae_nas.spaces.constraints import GenerationConstraints
from graphvae_nas.spaces.enas import ENAS_OPS, EnasMacroSpace
from graphvae_nas.spaces.generic import GenericDagSpace
from graphvae_nas.spaces.nb101 import NB101_OPS, NasBench101Space
from graphvae_nas.spaces.nb201 import NB201_OPS, NasBench201Space

__all__ = [
    "BayesianNetworkSpace", "ENAS_OPS", "INPUT", "NB101_OPS", "NB201_OPS", "OUTPUT", "EnasMacroSpace", "FiniteSearchSpace",
    "GenerationConstraints", "GenericDagSpace", "NasBench101Space", "NasBench201Space", "SearchSpace", "available_spaces",
    "get_space", "match_template", "register_space", "same_architectures", "same_shape", "sample_distinct",
    "shape_spec", "space_from_spec", "structure_spec",
]
