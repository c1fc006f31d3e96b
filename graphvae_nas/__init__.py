"""graphvae_nas: generative neural architecture search with graph variational autoencoders."""
from graphvae_nas.errors import ArchitectureError, DataFormatError, GraphVAENASError
from graphvae_nas.graph import Architecture

__version__ = "0.1.0"

__all__ = ["Architecture", "ArchitectureError", "DataFormatError", "GraphVAENASError", "__version__"]
