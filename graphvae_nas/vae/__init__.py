"""Layer 4: the graph variational autoencoder (encoders, decoder, training, metrics)."""
from graphvae_nas.vae.batch import DenseGraphs, dense_graphs, to_architectures
from graphvae_nas.vae.config import VAEConfig
from graphvae_nas.vae.model import GraphVAE, LossParts

__all__ = ["DenseGraphs", "GraphVAE", "LossParts", "VAEConfig", "dense_graphs", "to_architectures"]
