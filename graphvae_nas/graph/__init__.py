"""Layer 1: architectures as node-labelled DAGs, their canonical hash and conversions."""
from graphvae_nas.graph.architecture import Architecture, Edge
from graphvae_nas.graph.canonical import canonical_form, canonical_hash

__all__ = ["Architecture", "Edge", "canonical_form", "canonical_hash"]
