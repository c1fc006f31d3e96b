"""Layer 4: surrogate models from latent vectors to scores."""
from graphvae_nas.surrogates.gp import (
    PredictiveScore,
    fit_gp,
    predict_mean,
    predictive_performance,
)

__all__ = ["PredictiveScore", "fit_gp", "predict_mean", "predictive_performance"]
