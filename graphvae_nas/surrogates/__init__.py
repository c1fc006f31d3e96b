"""Layer 4: surrogate models of architectures' objectives, returned as BoTorch models."""
from graphvae_nas.surrogates.base import Surrogate, gaussian_copula
from graphvae_nas.surrogates.gnn import DenseGraphEncoding, GNNEnsemble
from graphvae_nas.surrogates.gp import (
    PredictiveScore,
    fit_gp,
    fit_hyperparameters,
    make_gp,
    predict_mean,
    predictive_performance,
)
from graphvae_nas.surrogates.latent_gp import LatentGP
from graphvae_nas.surrogates.structure import (
    EquivalenceClassEncoding,
    LabelledAdjacencyEncoding,
    structure_encoding,
    unit_box,
)

__all__ = ["DenseGraphEncoding", "EquivalenceClassEncoding", "GNNEnsemble",
           "LabelledAdjacencyEncoding", "LatentGP",
           "PredictiveScore", "Surrogate", "fit_gp", "fit_hyperparameters", "gaussian_copula",
           "make_gp", "predict_mean", "predictive_performance", "structure_encoding", "unit_box"]
